"""Typed algorithm settings: parsing, ranges, "None", unknown names."""

from __future__ import annotations

import pytest

from katib_nas.darts.settings import DARTS_SETTINGS
from katib_nas.errors import InvalidArgument
from katib_nas.settings import Setting, parse_settings

TABLE = (
    Setting("rate", float, 0.5, low=0, high=1, low_open=True),
    Setting("steps", int, 10, low=1),
    Setting("temperature", float, 5.0, low=0, low_open=True, none_allowed=True),
    Setting("flag", bool, True),
)


def test_defaults_and_overrides_keep_table_order():
    values = parse_settings(TABLE, [("steps", "3"), ("rate", "1e-1")])
    assert list(values) == ["rate", "steps", "temperature", "flag"]
    assert values == {"rate": 0.1, "steps": 3, "temperature": 5.0, "flag": True}


def test_none_where_allowed():
    assert parse_settings(TABLE, [("temperature", "None")])["temperature"] is None
    with pytest.raises(InvalidArgument, match=r"steps='None' is not a valid int"):
        parse_settings(TABLE, [("steps", "None")])


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        (("rate", "0"), r"rate='0' is out of range: must be float in \(0, 1\]"),
        (("rate", "1.5"), r"rate='1.5' is out of range"),
        (("steps", "0"), r"steps='0' is out of range: must be int in \[1, inf\)"),
        (("steps", "1.5"), r"steps='1.5' is not a valid int"),
        (("rate", "nan"), r"rate='nan' is not a finite number"),
        (("rate", "inf"), r"rate='inf' is not a finite number"),
        (("flag", "maybe"), r"flag='maybe' is not a valid bool: must be true or false"),
        (("temperature", "-1"), r'must be float in \(0, inf\) or "None"'),
    ],
)
def test_bad_values_name_setting_value_and_range(pair, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_settings(TABLE, [pair])


def test_unknown_name_suggests_the_closest():
    with pytest.raises(
        InvalidArgument, match=r'unknown algorithm setting "step"; did you mean "steps"'
    ):
        parse_settings(TABLE, [("step", "3")])
    with pytest.raises(InvalidArgument, match=r'"zzz"\. Valid settings: flag, rate'):
        parse_settings(TABLE, [("zzz", "3")])


def test_first_bad_pair_in_request_order_wins():
    with pytest.raises(InvalidArgument, match="steps"):
        parse_settings(TABLE, [("steps", "0"), ("rate", "5")])


def test_katib_darts_unit_test_settings():
    """Katib's test_validate_algorithm_spec cases (contract 6), num_epoch typo excepted."""
    valid = [
        ("num_epochs", "10"),
        ("w_lr", "0.01"),
        ("w_lr_min", "0.01"),
        ("alpha_lr", "0.01"),
        ("w_weight_decay", "0.25"),
        ("alpha_weight_decay", "0.25"),
        ("w_momentum", "0.9"),
        ("w_grad_clip", "5.0"),
        ("batch_size", "100"),
        ("num_workers", "0"),
        ("init_channels", "1"),
        ("print_step", "100"),
        ("num_nodes", "4"),
        ("stem_multiplier", "3"),
    ]
    parse_settings(DARTS_SETTINGS, valid)
    parse_settings(DARTS_SETTINGS, [("batch_size", "None")])
    for pair in [
        ("num_epochs", "0"),
        ("w_lr", "-0.1"),
        ("alpha_weight_decay", "-0.02"),
        ("w_momentum", "-0.8"),
        ("batch_size", "0"),
        ("print_step", "0"),
        ("num_epoch", "10"),
    ]:
        with pytest.raises(InvalidArgument):
            parse_settings(DARTS_SETTINGS, [pair])


@pytest.mark.parametrize(
    "pair",
    [("init_channels", "100000"), ("num_epochs", "99999999999999999999"), ("num_nodes", "33")],
)
def test_darts_integer_settings_have_upper_bounds(pair):
    """Katib accepts these; the trial would then run out of memory or never end."""
    with pytest.raises(InvalidArgument, match=rf"{pair[0]}=.* is out of range"):
        parse_settings(DARTS_SETTINGS, [pair])
