"""Metrics read from a trial's output as Katib's StdOut metrics collector reads them.

Katib runs the trial command under ``sh -c "... 1>metrics.log 2>&1"``, so stdout and stderr both
reach the collector. For each line that contains one of the metric names, every filter regex
(the Experiment's ``metricsFormat``, or the default below) is applied with find-all; group 1,
stripped, is the metric name and group 2, stripped, its value, kept when the name is one of the
Experiment's metrics. A line starting with an RFC 3339 timestamp and a space carries that time;
other lines carry the zero time.

Per metric, as Katib's trial controller summarises the observation log:

* ``min`` and ``max`` over the values that parse as numbers (``unavailable`` if none do);
* ``latest``: the value with the latest timestamp, the last such line on ties (all lines
  without a timestamp tie, so the last line wins);
* a metric never reported is ``unavailable`` in all three.

The value sent to a suggestion service is chosen by the metric's strategy: ``min`` -> min,
``max`` -> max (each falling back to latest when ``unavailable``), ``latest`` -> latest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

UNAVAILABLE = "unavailable"
DEFAULT_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MetricSummary:
    """Katib's per-metric summary of a trial: all three are strings, as on the wire."""

    min: str = UNAVAILABLE
    max: str = UNAVAILABLE
    latest: str = UNAVAILABLE

    @property
    def reported(self) -> bool:
        return self.latest != UNAVAILABLE

    def value(self, strategy: str) -> str:
        """The value Katib sends for this metric under ``strategy`` (min, max or latest)."""
        if strategy == "min":
            return self.latest if self.min == UNAVAILABLE else self.min
        if strategy == "max":
            return self.latest if self.max == UNAVAILABLE else self.max
        if strategy == "latest":
            return self.latest
        return ""

    def as_dict(self) -> dict[str, str]:
        return {"min": self.min, "max": self.max, "latest": self.latest}


def compile_filters(formats: Sequence[str]) -> list[re.Pattern[str]]:
    """The filter regexes; ASCII classes, as Go's RE2 gives ``\\w`` and ``\\d``."""
    return [re.compile(f, re.ASCII) for f in (formats or [DEFAULT_FILTER])]


def parse_float(value: str) -> float | None:
    """The number in a metric value as Go's ParseFloat reads it, or None (``nan`` is a number)."""
    text = value.strip()
    if not text or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _timestamp(line: str) -> datetime:
    head, sep, _ = line.partition(" ")
    if not sep:
        return _ZERO_TIME
    try:
        stamp = datetime.fromisoformat(head.replace("Z", "+00:00"))
    except ValueError:
        return _ZERO_TIME
    if stamp.tzinfo is None or "T" not in head:
        return _ZERO_TIME
    return stamp


def collect(
    lines: Iterable[str], metric_names: Sequence[str], filters: Sequence[re.Pattern[str]]
) -> dict[str, MetricSummary]:
    """Summaries of ``metric_names`` found in ``lines`` (every name present in the result)."""
    found: dict[str, list[tuple[datetime, int, str]]] = {name: [] for name in metric_names}
    for number, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        if not any(name in line for name in metric_names):
            continue
        stamp = _timestamp(line)
        for pattern in filters:
            for match in pattern.finditer(line):
                if pattern.groups < 2:
                    continue
                name = (match.group(1) or "").strip()
                if name in found:
                    found[name].append((stamp, number, (match.group(2) or "").strip()))
    return {name: summarise(values) for name, values in found.items()}


def summarise(values: Sequence[tuple[datetime, int, str]]) -> MetricSummary:
    """Min, max (numeric values only) and latest (time, then line order) of one metric."""
    if not values:
        return MetricSummary()
    numbers = [(n, v) for _, _, v in values if (n := parse_float(v)) is not None]
    latest = values[0][2]
    newest = values[0][0]
    for stamp, _, value in values:
        if stamp >= newest:  # ties go to the later entry: the last matching line wins
            latest, newest = value, stamp
    if not numbers:
        return MetricSummary(latest=latest)
    # NaN loses every comparison; it is the min or max only when nothing else was reported.
    ordered = [pair for pair in numbers if not math.isnan(pair[0])] or numbers
    low = min(ordered, key=lambda pair: pair[0])
    high = max(ordered, key=lambda pair: pair[0])
    return MetricSummary(min=low[1], max=high[1], latest=latest)


def collect_file(
    path: str, metric_names: Sequence[str], formats: Sequence[str]
) -> dict[str, MetricSummary]:
    """Summaries of the metrics in a trial's log file (missing file: nothing reported)."""
    filters = compile_filters(formats)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return collect(handle, metric_names, filters)
    except FileNotFoundError:
        return {name: MetricSummary() for name in metric_names}
