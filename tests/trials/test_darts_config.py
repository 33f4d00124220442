"""Decoding the trial arguments exactly as the DARTS suggestion service sends them."""

from __future__ import annotations

import pytest

from katib_nas.trials.darts_cnn.config import (
    default_settings,
    parse_num_layers,
    parse_search_space,
    parse_settings,
)

# What the service sends (contract 3.3): defaults as numbers, user values as strings.
SERVICE_SETTINGS = (
    "{'num_epochs': '3', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, "
    "'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, "
    "'alpha_weight_decay': 0.001, 'batch_size': null, 'num_workers': 4, "
    "'init_channels': '8', 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3, "
    "'second_order': 'false'}"
)


def test_service_output_decodes() -> None:
    settings = parse_settings(SERVICE_SETTINGS)
    assert settings.num_epochs == 3
    assert settings.init_channels == 8
    assert settings.batch_size == 128  # null -> the trial's default
    assert settings.w_weight_decay == pytest.approx(3e-4)
    assert settings.second_order is False


def test_json_true_and_katib_spellings_of_booleans() -> None:
    assert parse_settings("{'second_order': true}").second_order is True
    assert parse_settings("{'second_order': 'False'}").second_order is False


def test_missing_settings_take_katib_defaults() -> None:
    settings = parse_settings("{'num_epochs': '2'}")
    assert settings == default_settings(num_epochs=2)
    assert settings.second_order is True
    assert parse_settings("") == default_settings()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{'num_epochs': '0'}", "num_epochs='0' is out of range: must be int in [1, 100000]"),
        ("{'num_epochs': '1e3'}", "num_epochs='1e3' is not a valid int"),
        ("{'w_lr': '-1'}", "w_lr='-1' is out of range"),
        ("{'w_lr': 'nan'}", "w_lr='nan' is not a finite number"),
        ("{'batch_size': '0'}", "batch_size='0' is out of range"),
        ("{'num_epoch': '3'}", 'unknown algorithm setting "num_epoch"; did you mean "num_epochs"'),
        ("{'second_order': 'maybe'}", "second_order='maybe' is not a valid bool"),
        ("{'init_channels': null}", "init_channels='None' is not a valid int"),
        ("{'num_epochs': 2.5}", "num_epochs='2.5' is not a valid int"),
        ("{'num_epochs': [2]}", "not a number, string or null"),
        ("[1, 2]", "JSON object"),
        ("{'num_epochs': ", "not JSON"),
    ],
)
def test_bad_settings_are_named(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_settings(text)
    assert message in str(error.value)
    assert str(error.value).startswith("--algorithm-settings")


def test_search_space() -> None:
    text = "['separable_convolution_3x3', 'skip_connection', 'max_pooling_3x3', 'skip_connection']"
    assert parse_search_space(text) == (
        "separable_convolution_3x3",
        "skip_connection",
        "max_pooling_3x3",
    )
    with pytest.raises(ValueError, match=r"unsupported primitive.*avg_pooling_9x9"):
        parse_search_space("['avg_pooling_9x9']")
    with pytest.raises(ValueError, match=r"unsupported primitive.*'none'"):
        parse_search_space("['none']")
    with pytest.raises(ValueError, match="empty"):
        parse_search_space("[]")


def test_num_layers() -> None:
    assert parse_num_layers("3") == 3
    assert parse_num_layers("'3'") == 3
    with pytest.raises(ValueError, match="at least 1"):
        parse_num_layers("0")
    with pytest.raises(ValueError, match="integer"):
        parse_num_layers("three")
