"""Tests of the decoding and checking of ENAS architecture / nn_config values (no TensorFlow)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from katib_nas.trials.enas_cnn.architecture import (
    ArchitectureError,
    decode_katib_value,
    parse_architecture,
)
from tests.trials.enas_cpu_space import enas_cpu_embedding, encode, service_suggestions

# The nn_config example of contract section 2.7, byte for byte as Katib's service sends it.
KATIB_NN_CONFIG = (
    "{'num_layers': 3, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': "
    "{'2': {'opt_id': 2, 'opt_type': 'convolution', 'opt_params': {'filter_size': '5', "
    "'num_filter': '32', 'stride': '1'}}, '1': {'opt_id': 1, 'opt_type': 'convolution', "
    "'opt_params': {'filter_size': '3', 'num_filter': '32', 'stride': '2'}}}}"
)
KATIB_ARCHITECTURE = "[[2], [1, 1], [2, 1, 1]]"


def _config(embedding: dict[str, Any], num_layers: int = 1, **extra: Any) -> str:
    config = {
        "num_layers": num_layers,
        "input_sizes": [32, 32, 3],
        "output_sizes": [10],
        "embedding": embedding,
        **extra,
    }
    return json.dumps(config).replace('"', "'")


def _one_op(op_type: str, params: dict[str, Any]) -> str:
    return _config({"0": {"opt_id": 0, "opt_type": op_type, "opt_params": params}})


def test_katib_example_parses_with_every_parameter() -> None:
    arch = parse_architecture(KATIB_ARCHITECTURE, KATIB_NN_CONFIG)

    assert arch.input_sizes == (32, 32, 3) and arch.num_classes == 10
    first, second, third = arch.layers
    assert (first.operation.filter_size, first.operation.num_filter) == (5, 32)
    assert second.operation.stride == 2 and second.operation.filter_size == 3
    # Skip bit i of layer l names layer i (0 = input); layer l - 1 is always an input.
    assert first.inputs == (0,)
    assert second.inputs == (0, 1)
    assert third.inputs == (0, 1, 2)


@pytest.mark.parametrize(
    "text",
    [
        "[[2], [1, 1]]",
        '"[[2], [1, 1]]"',
        "'[[2], [1, 1]]'",
        '  "[[2], [1, 1]]" ',
        json.dumps(json.dumps([[2], [1, 1]])),
    ],
)
def test_values_are_decoded_as_katib_sends_them(text: str) -> None:
    assert decode_katib_value(text, "architecture") == [[2], [1, 1]]


def test_quoted_nn_config_is_decoded() -> None:
    for wrapped in (f'"{KATIB_NN_CONFIG}"', f"'{KATIB_NN_CONFIG}'"):
        assert decode_katib_value(wrapped, "nn_config")["num_layers"] == 3


def test_skip_bits_select_exactly_the_named_layers() -> None:
    rows = [[0], [0, 0], [0, 1, 0], [0, 0, 1, 0], [0, 1, 0, 1, 1]]
    architecture, nn_config = encode(rows, [32, 32, 3], [10])
    layers = parse_architecture(architecture, nn_config).layers
    assert [layer.inputs for layer in layers] == [(0,), (1,), (0, 2), (1, 3), (0, 2, 3, 4)]


def test_missing_parameters_take_katib_defaults() -> None:
    arch = parse_architecture("[[0]]", _one_op("separable_convolution", {"stride": "2"}))
    op = arch.layers[0].operation
    assert (op.filter_size, op.num_filter, op.stride, op.depth_multiplier) == (3, 64, 2, 1)
    reduction = parse_architecture("[[0]]", _one_op("reduction", {})).layers[0].operation
    assert (reduction.reduction_type, reduction.pool_size) == ("max_pooling", 2)


def test_numbers_as_ints_strings_or_integral_floats() -> None:
    params = {"filter_size": 5, "num_filter": "48", "stride": 2.0}
    op = parse_architecture("[[0]]", _one_op("convolution", params)).layers[0].operation
    assert (op.filter_size, op.num_filter, op.stride) == (5, 48, 2)


def test_every_enas_cpu_operation_parses() -> None:
    embedding = enas_cpu_embedding()
    assert len(embedding) == 106
    assert [e["opt_type"] for e in embedding].count("separable_convolution") == 60
    rows = [[op["opt_id"]] + [0] * i for i, op in enumerate(embedding)]
    architecture, nn_config = encode(rows, [32, 32, 3], [10])
    layers = parse_architecture(architecture, nn_config).layers
    assert [layer.operation.op_id for layer in layers] == list(range(106))
    assert layers[105].operation.pool_size == 3
    assert layers[105].operation.reduction_type == "avg_pooling"


def test_enas_service_suggestions_parse() -> None:
    for num_layers in (1, 2, 8):
        for architecture, nn_config in service_suggestions(3, num_layers, seed=num_layers):
            assert len(parse_architecture(architecture, nn_config).layers) == num_layers


@pytest.mark.parametrize(
    ("architecture", "nn_config", "message"),
    [
        ("[[0], [0, 1]]", _one_op("convolution", {}), "num_layers=1 rows, got 2"),
        ("[[0, 1]]", _one_op("convolution", {}), "row 0 (layer 1) must hold 1 integers"),
        ("[[7]]", _one_op("convolution", {}), "operation id 7, which nn_config embedding lacks"),
        (
            "[[0], [0, 2]]",
            _config(
                {"0": {"opt_id": 0, "opt_type": "convolution", "opt_params": {}}}, num_layers=2
            ),
            "skip bits other than 0 and 1",
        ),
        ("[[0]]", _one_op("dilated_convolution", {}), "unknown opt_type 'dilated_convolution'"),
        ("[[0]]", _one_op("convolution", {"dilation": "2"}), "unknown parameter(s) dilation"),
        ("[[0]]", _one_op("convolution", {"num_filter": "many"}), "num_filter must be a positive"),
        ("[[0]]", _one_op("convolution", {"stride": 0}), "stride must be a positive integer"),
        ("[[0]]", _one_op("convolution", {"filter_size": 2.5}), "filter_size must be a positive"),
        ("[[0]]", _one_op("reduction", {"reduction_type": "min"}), "reduction_type is 'min'"),
        ("[[0]]", _config({}, input_sizes=[32, 32]), "input_sizes must be [height, width"),
        ("[[0]]", _config({}, output_sizes=[]), "output_sizes is empty"),
        ("[[0]]", "[1, 2]", "nn_config must be a JSON object"),
        ("[[0]", _one_op("convolution", {}), "architecture is not valid JSON"),
        ("[[0]]", "{'num_layers': 1}", "nn_config lacks input_sizes, output_sizes, embedding"),
        (
            "[[0]]",
            _config({"0": {"opt_id": 3, "opt_type": "convolution", "opt_params": {}}}),
            "has opt_id 3, not 0",
        ),
    ],
)
def test_mismatches_are_reported(architecture: str, nn_config: str, message: str) -> None:
    with pytest.raises(ArchitectureError) as info:
        parse_architecture(architecture, nn_config)
    assert message in str(info.value)
