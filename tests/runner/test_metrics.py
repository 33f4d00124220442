"""Metric collection as Katib's StdOut collector and trial controller do it."""

from __future__ import annotations

import pytest

from katib_nas.runner.metrics import (
    DEFAULT_FILTER,
    UNAVAILABLE,
    MetricSummary,
    collect,
    compile_filters,
    parse_float,
)

GENOTYPE_FILTER = r"([\w-]+)=(Genotype.*)"
NAMES = ("Validation-Accuracy", "Training-Loss")

# Output of Katib's ENAS trial for one epoch (contract 4.1), with Keras progress noise around.
ENAS_OUTPUT = """\
>>> arch received by trial
[[2]]
Total Epoch 1/2
391/391 - 20s - loss: 1.6 - accuracy: 0.41 - val_loss: 1.35 - val_accuracy: 0.52
Training-Accuracy=0.4101
Training-Loss=1.6054829359054565
Validation-Accuracy=0.5212000012397766
Validation-Loss=1.3508
Total Epoch 2/2
Training-Accuracy=0.5333
Training-Loss=1.2e-1
Validation-Accuracy=0.4987
Validation-Loss=1.4
"""


def test_default_filter_reads_katib_enas_trial_output() -> None:
    summaries = collect(ENAS_OUTPUT.splitlines(), NAMES, compile_filters([]))
    accuracy = summaries["Validation-Accuracy"]
    assert accuracy == MetricSummary(min="0.4987", max="0.5212000012397766", latest="0.4987")
    assert summaries["Training-Loss"] == MetricSummary(
        min="1.2e-1", max="1.6054829359054565", latest="1.2e-1"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Validation-Accuracy=0.9", "0.9"),
        ("Validation-Accuracy = 0.9", "0.9"),  # spaces around '=' are allowed
        ("Validation-Accuracy=+.5", "+.5"),
        ("Validation-Accuracy=-1E-3", "-1E-3"),
        ("Validation-Accuracy=12", "12"),
        ("epoch 3: Validation-Accuracy=0.7 Training-Loss=0.3", "0.7"),
        ("Validation-Accuracy=nan", ""),  # the default filter's value group matches nothing
        ("Validation-Accuracy=0.5x", "0.5"),
    ],
)
def test_default_filter_values(line: str, expected: str) -> None:
    summaries = collect([line], NAMES, compile_filters([]))
    assert summaries["Validation-Accuracy"].latest == expected


def test_lines_without_a_metric_name_or_another_name_are_ignored() -> None:
    lines = ["accuracy=0.99", "Validation-Accuracy-Top5=0.99", "val_acc=1"]
    summaries = collect(lines, NAMES, compile_filters([]))
    assert summaries["Validation-Accuracy"] == MetricSummary()
    assert not summaries["Validation-Accuracy"].reported


def test_metric_name_word_characters_are_ascii_as_in_go() -> None:
    # Go's \w is [0-9A-Za-z_]: an accented letter ends the name, so "éValidation-Accuracy"
    # still yields "Validation-Accuracy"; Python's default Unicode \w would not.
    summaries = collect(["éValidation-Accuracy=0.3"], NAMES, compile_filters([]))
    assert summaries["Validation-Accuracy"].latest == "0.3"


def test_genotype_filter_collects_a_string_metric() -> None:
    genotype = (
        "Genotype(normal=[[('max_pooling_3x3',0),('skip_connection',1)]],"
        "normal_concat=range(2,3),reduce=[],reduce_concat=range(2,3))"
    )
    lines = [
        "Model genotype = Genotype(normal=[...])",  # spaces around '=': not matched
        f"Best-Genotype={genotype}",
    ]
    summaries = collect(lines, ("Best-Genotype",), compile_filters([GENOTYPE_FILTER]))
    best = summaries["Best-Genotype"]
    assert best == MetricSummary(min=UNAVAILABLE, max=UNAVAILABLE, latest=genotype)
    assert best.value("max") == genotype  # max falls back to latest when unavailable


def test_several_filters_apply_in_order() -> None:
    filters = compile_filters([GENOTYPE_FILTER, r"(Validation-Accuracy)=([\d.]+)"])
    lines = ["Validation-Accuracy=0.61", "Best-Genotype=Genotype(normal=[])"]
    summaries = collect(lines, ("Best-Genotype", "Validation-Accuracy"), filters)
    assert summaries["Validation-Accuracy"].latest == "0.61"
    assert summaries["Best-Genotype"].latest == "Genotype(normal=[])"


def test_latest_follows_timestamps_then_line_order() -> None:
    lines = [
        "2026-01-01T00:00:02Z Validation-Accuracy=0.2",
        "2026-01-01T00:00:01Z Validation-Accuracy=0.1",
        "2026-01-01T00:00:02Z Validation-Accuracy=0.3",
    ]
    summaries = collect(lines, NAMES, compile_filters([]))
    assert summaries["Validation-Accuracy"] == MetricSummary(min="0.1", max="0.3", latest="0.3")
    # lines without a timestamp carry the zero time, so a timestamped line is always later
    mixed = collect([lines[0], "Validation-Accuracy=0.9"], NAMES, compile_filters([]))
    assert mixed["Validation-Accuracy"].latest == "0.2"


def test_min_max_skip_non_numbers_and_nan() -> None:
    filters = compile_filters([r"([\w-]+)=(\S+)"])
    lines = [
        "Validation-Accuracy=0.4",
        "Validation-Accuracy=nan",
        "Validation-Accuracy=oops",
        "Validation-Accuracy=0.6",
        "Validation-Accuracy=1_0",
    ]
    summary = collect(lines, NAMES, filters)["Validation-Accuracy"]
    assert summary == MetricSummary(min="0.4", max="0.6", latest="1_0")


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("min", "0.1"), ("max", "0.9"), ("latest", "0.5"), ("", "")],
)
def test_metric_strategies_choose_the_value_sent(strategy: str, expected: str) -> None:
    summary = MetricSummary(min="0.1", max="0.9", latest="0.5")
    assert summary.value(strategy) == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0.5", 0.5),
        ("-1e3", -1000.0),
        ("inf", float("inf")),
        ("", None),
        ("abc", None),
        ("1_000", None),
        ("unavailable", None),
    ],
)
def test_parse_float_as_go(text: str, number: float | None) -> None:
    assert parse_float(text) == number


def test_default_filter_is_katibs() -> None:
    assert DEFAULT_FILTER == r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
