"""The quote-swapped JSON Katib's trial templates carry: its exact form and the way back."""

import json

import pytest

from katib_nas import swapped_json


def test_dumps_is_json_with_single_quotes_and_default_separators() -> None:
    value = {"num_layers": 2, "embedding": {"0": {"opt_type": "convolution"}}, "w": None}
    text = swapped_json.dumps(value)
    assert text == "{'num_layers': 2, 'embedding': {'0': {'opt_type': 'convolution'}}, 'w': null}"
    assert '"' not in text


def test_loads_undoes_dumps() -> None:
    value = ["max_pooling_3x3", "skip_connection", {"a": [1, 2.5, True]}]
    assert swapped_json.loads(swapped_json.dumps(value)) == value


def test_loads_raises_a_json_error_for_text_that_is_not_json() -> None:
    with pytest.raises(json.JSONDecodeError):
        swapped_json.loads("{'num_layers': }")
