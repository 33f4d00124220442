"""The ENAS ``architecture`` and ``nn_config`` strings: Katib's bytes, and the way back."""

from __future__ import annotations

import json

import pytest

from katib_nas.enas.encoding import (
    Architecture,
    ArchitectureError,
    format_architecture,
    format_nn_config,
    parse_architecture,
)
from tests.enas.spaces import space

# Contract 2.7's example, byte for byte as Katib's service writes it.
KATIB_NN_CONFIG = (
    "{'num_layers': 3, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': "
    "{'2': {'opt_id': 2, 'opt_type': 'convolution', 'opt_params': {'filter_size': '5', "
    "'num_filter': '32', 'stride': '1'}}, '1': {'opt_id': 1, 'opt_type': 'convolution', "
    "'opt_params': {'filter_size': '3', 'num_filter': '32', 'stride': '2'}}}}"
)


def test_formats_are_byte_identical_to_katibs():
    arc = Architecture((2, 1, 2), ((), (1,), (1, 1)))
    assert format_architecture(arc) == "[[2], [1, 1], [2, 1, 1]]"
    assert format_nn_config(space(), arc) == KATIB_NN_CONFIG


def test_nn_config_embeds_only_used_ids_in_first_use_order_with_int_values():
    arc = Architecture((5, 0, 5), ((), (0,), (1, 0)))
    config = json.loads(format_nn_config(space(), arc).replace("'", '"'))
    assert list(config["embedding"]) == ["5", "0"]
    assert config["embedding"]["5"]["opt_params"] == {
        "reduction_type": "max_pooling",
        "pool_size": 3,
    }


def test_one_layer():
    arc = Architecture((4,), ((),))
    assert format_architecture(arc) == "[[4]]"
    assert parse_architecture("[[4]]", space(num_layers=1)) == arc


def test_parse_round_trip():
    arc = Architecture((2, 7, 0, 3), ((), (1,), (0, 1), (1, 1, 0)))
    assert parse_architecture(format_architecture(arc), space(num_layers=4)) == arc


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[[2], [1, 1]", "not JSON"),
        ('{"a": 1}', "list of rows"),
        ("[[2], [1, 1]]", "2 rows"),
        ("[[2], [1], [2, 1, 1]]", "row 1 must be a list of 2"),
        ("[[2], [1, 1], [2, 1.0, 1]]", "non-integer"),
        ("[[2], [1, true], [2, 1, 1]]", "non-integer"),
        ("[[8], [1, 1], [2, 1, 1]]", "operation id 8 is outside 0..7"),
        ("[[-1], [1, 1], [2, 1, 1]]", "operation id -1"),
        ("[[2], [1, 2], [2, 1, 1]]", "skip bits must be 0 or 1"),
        ("[[2], [1, 1], 7]", "row 2"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[[1e400], [1, 1], [2, 1, 1]]", "non-integer"),
    ],
)
def test_malformed_architectures_are_rejected_with_the_reason(text, reason):
    with pytest.raises(ArchitectureError, match=reason.replace("(", r"\(")):
        parse_architecture(text, space())
