"""Search-space checks and value expansion shared by ENAS and DARTS."""

from __future__ import annotations

import pytest

from katib_nas.errors import InvalidArgument
from katib_nas.search_space import (
    GraphConfig,
    OperationSpec,
    ParameterSpec,
    feasible_values,
    validate_graph,
    validate_operations,
)


def op(*params: ParameterSpec, name: str = "convolution") -> tuple[OperationSpec, ...]:
    return (OperationSpec(name, params),)


def test_katib_valid_operations_except_min_above_max():
    """Katib's test_validate_operations valid case, whose min > max we now reject."""
    validate_operations(op(ParameterSpec("filter_size", "categorical", values=("3", "5"))))
    with pytest.raises(InvalidArgument, match=r'parameter "pool_size": .*min 3.0 is greater'):
        validate_operations(op(ParameterSpec("pool_size", "int", min="3", max="2", step="1")))


def test_operation_without_parameters_is_accepted():
    validate_operations((OperationSpec("skip_connection", ()),))


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        (ParameterSpec("a", "categorical", values=("x", "y")), ["x", "y"]),
        (ParameterSpec("a", "int", min="2", max="7", step="2"), [2, 4, 6]),
        (ParameterSpec("a", "int", min="2", max="3", step="1"), [2, 3]),
        (ParameterSpec("a", "double", min="0.1", max="0.3", step="0.1"), [0.1, 0.2, 0.3]),
        (ParameterSpec("a", "double", min="0.0", max="0.25", step="0.1"), [0.0, 0.1, 0.2]),
        (ParameterSpec("a", "double", min="0.5", max="1.0", step="0.5"), [0.5, 1.0]),
        (ParameterSpec("a", "double", min="1", max="1", step="0.5"), [1.0]),
        (ParameterSpec("a", "discrete", values=("1", "2.5")), [1, 2.5]),
    ],
)
def test_feasible_values(parameter, expected):
    validate_operations(op(parameter))
    assert feasible_values(parameter) == expected


def test_double_values_do_not_drift():
    values = feasible_values(ParameterSpec("a", "double", min="0", max="1", step="0.1"))
    assert values == [round(0.1 * k, 1) for k in range(11)]


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (GraphConfig(3, (), (10,)), "missing inputSizes"),
        (GraphConfig(3, (32,), ()), "missing outputSizes"),
        (GraphConfig(0, (32,), (10,)), "numLayers must be >= 1, got 0"),
        (GraphConfig(-2, (32,), (10,)), "numLayers must be >= 1, got -2"),
        (GraphConfig(2, (32, 0), (10,)), "inputSizes entry must be >= 1"),
    ],
)
def test_graph_checks(graph, message):
    with pytest.raises(InvalidArgument, match=message):
        validate_graph(graph)
