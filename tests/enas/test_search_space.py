"""Operation ids of the ENAS search space: Katib's order, value types and counts."""

from __future__ import annotations

import pytest

from katib_nas.enas.search_space import expand_operations
from katib_nas.errors import InvalidArgument
from katib_nas.search_space import OperationSpec, ParameterSpec
from tests.enas.spaces import cat, contract_example_operations, enas_cpu_operations, space


def test_contract_example_ids_last_parameter_fastest_and_types():
    ops = expand_operations(contract_example_operations())
    assert [(op.opt_id, op.opt_type, dict(op.opt_params)) for op in ops] == [
        (0, "convolution", {"filter_size": "3", "num_filter": "32", "stride": "1"}),
        (1, "convolution", {"filter_size": "3", "num_filter": "32", "stride": "2"}),
        (2, "convolution", {"filter_size": "5", "num_filter": "32", "stride": "1"}),
        (3, "convolution", {"filter_size": "5", "num_filter": "32", "stride": "2"}),
        (4, "reduction", {"reduction_type": "max_pooling", "pool_size": 2}),
        (5, "reduction", {"reduction_type": "max_pooling", "pool_size": 3}),
        (6, "reduction", {"reduction_type": "avg_pooling", "pool_size": 2}),
        (7, "reduction", {"reduction_type": "avg_pooling", "pool_size": 3}),
    ]


def test_enas_cpu_space_has_106_ids_in_katib_ranges():
    ops = expand_operations(enas_cpu_operations())
    assert len(ops) == 106
    ranges = {t: [op.opt_id for op in ops if op.opt_type == t] for t in {o.opt_type for o in ops}}
    assert ranges["convolution"] == list(range(0, 30))
    assert ranges["separable_convolution"] == list(range(30, 90))
    assert ranges["depthwise_convolution"] == list(range(90, 102))
    assert ranges["reduction"] == list(range(102, 106))
    assert dict(ops[31].opt_params) == {
        "filter_size": "3",
        "num_filter": "32",
        "stride": "1",
        "depth_multiplier": 2,
    }


def test_double_and_discrete_expand_as_numbers():
    rate = ParameterSpec("rate", "double", min="0.1", max="0.3", step="0.1")
    size = ParameterSpec("size", "discrete", values=("3", "5"))
    ops = expand_operations((OperationSpec("dropout", (rate, size)),))
    assert [dict(op.opt_params) for op in ops] == [
        {"rate": 0.1, "size": 3},
        {"rate": 0.1, "size": 5},
        {"rate": 0.2, "size": 3},
        {"rate": 0.2, "size": 5},
        {"rate": 0.3, "size": 3},
        {"rate": 0.3, "size": 5},
    ]


def test_operation_without_parameters_has_one_id():
    ops = expand_operations((OperationSpec("identity"), OperationSpec("conv", (cat("k", "3"),))))
    assert [(op.opt_id, op.opt_type, op.as_json()["opt_params"]) for op in ops] == [
        (0, "identity", {}),
        (1, "conv", {"k": "3"}),
    ]


def test_no_operation_is_an_invalid_argument():
    with pytest.raises(InvalidArgument, match="at least one operation"):
        expand_operations(())


def test_search_space_counts():
    s = space(num_layers=4)
    assert (s.num_operations, s.num_layers, s.num_skips) == (8, 4, 6)
