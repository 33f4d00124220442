"""``results.json``: every trial of a run, its outcome and the best trial, written atomically.

The file is both the run's result and its checkpoint: the runner rewrites it (to a temporary
file, flushed, then renamed over the old one) whenever a trial starts or ends, so a run killed at
any moment leaves a complete file, and the next run of the same command reads it to continue.

Layout::

    {"format": 1,
     "experiment": {"name", "algorithm", "objective": {"type", "metric", "goal",
                    "strategies"}, "fingerprint", "file"},
     "status": {"state": "Running" | "Succeeded" | "Failed" | "Interrupted",
                "reason": "MaxTrialsReached" | "GoalReached" | ..., "message"},
     "trials": [{"name", "condition", "reason", "assignments": {name: value},
                 "metrics": {name: {"min", "max", "latest"}}, "start_time", "end_time",
                 "exit_code", "log", "command"}],
     "best_trial": {"name", "metric", "value", "assignments", "metrics"} | null}

Conditions are the names of Katib's ``TrialStatus.TrialConditionType``: ``CREATED``,
``RUNNING``, ``SUCCEEDED``, ``FAILED``, ``KILLED``, ``METRICSUNAVAILABLE``.

The best trial is the SUCCEEDED trial whose objective value (chosen by the objective's metric
strategy) is the largest for ``maximize`` or the smallest for ``minimize``. When no SUCCEEDED
trial has a numeric objective (DARTS reports ``Best-Genotype=Genotype(...)``), it is the last
SUCCEEDED trial to finish.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from katib_nas.atomic_files import write_json_atomic
from katib_nas.runner.metrics import MetricSummary, parse_float

FORMAT = 1
CREATED, RUNNING, SUCCEEDED = "CREATED", "RUNNING", "SUCCEEDED"
FAILED, KILLED, METRICS_UNAVAILABLE = "FAILED", "KILLED", "METRICSUNAVAILABLE"
FINISHED = (SUCCEEDED, FAILED, KILLED, METRICS_UNAVAILABLE)
INTERRUPTED = "Interrupted"


def now() -> str:
    """The current time as Katib writes trial times: RFC 3339, seconds, UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class TrialRecord:
    """One trial as recorded in results.json."""

    name: str
    assignments: dict[str, str]
    condition: str = CREATED
    reason: str = ""
    metrics: dict[str, dict[str, str]] = field(default_factory=dict)
    start_time: str = ""
    end_time: str = ""
    exit_code: int | None = None
    log: str = ""
    command: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Counts as completed: ended and not merely interrupted by the user."""
        return self.condition in FINISHED and self.reason != INTERRUPTED

    def summary(self, metric: str) -> MetricSummary:
        values = self.metrics.get(metric)
        return MetricSummary(**values) if values else MetricSummary()


@dataclass
class Results:
    """The in-memory form of results.json."""

    experiment: dict[str, Any]
    trials: list[TrialRecord] = field(default_factory=list)
    status: dict[str, str] = field(
        default_factory=lambda: {"state": "Running", "reason": "", "message": ""}
    )

    def trial(self, name: str) -> TrialRecord:
        for record in self.trials:
            if record.name == name:
                return record
        raise KeyError(name)

    def objective_value(self, record: TrialRecord) -> str:
        objective = self.experiment["objective"]
        metric = objective["metric"]
        return record.summary(metric).value(objective["strategies"].get(metric, "max"))

    def best_trial(self) -> dict[str, Any] | None:
        objective = self.experiment["objective"]
        succeeded = [t for t in self.trials if t.condition == SUCCEEDED]
        numeric = []
        for record in succeeded:
            number = parse_float(self.objective_value(record))
            if number is not None and not math.isnan(number):
                numeric.append((number, record))
        if numeric:
            pick = max if objective["type"] == "maximize" else min
            record = pick(numeric, key=lambda pair: pair[0])[1]
        elif succeeded:
            record = max(succeeded, key=lambda t: (t.end_time, self.trials.index(t)))
        else:
            return None
        return {
            "name": record.name,
            "metric": objective["metric"],
            "value": self.objective_value(record),
            "assignments": record.assignments,
            "metrics": record.metrics,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "experiment": self.experiment,
            "status": self.status,
            "trials": [asdict(t) for t in self.trials],
            "best_trial": self.best_trial(),
            "updated": now(),
        }

    def save(self, path: Path) -> None:
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> Results:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path} has format {data.get('format')!r}, expected {FORMAT}")
        return cls(
            experiment=data["experiment"],
            trials=[TrialRecord(**t) for t in data["trials"]],
            status=data["status"],
        )
