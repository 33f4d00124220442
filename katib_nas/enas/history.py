"""Which trials of a request the controller learns from, and with what reward.

Every request carries the experiment's whole trial history in every state. A trial is learned
from when it is SUCCEEDED, was not learned from before (by name), has a finite objective value
for the metric its own spec names, and has an ``architecture`` that parses in the experiment's
search space. Every other trial is skipped; a skipped trial that is SUCCEEDED and new gets one
log line saying why (it is remembered so that the line is not repeated on every call). Trials
still running are skipped silently: they will come back finished.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from katib_nas.enas.encoding import Architecture, ArchitectureError, parse_architecture
from katib_nas.enas.search_space import SearchSpace

logger = logging.getLogger(__name__)

SUCCEEDED = "succeeded"


class TrialResult(Protocol):
    """One trial of the request (``katib_nas.wire.TrialRecord`` has this shape)."""

    @property
    def name(self) -> str: ...
    @property
    def condition(self) -> str: ...
    @property
    def assignments(self) -> Mapping[str, str]: ...
    @property
    def metrics(self) -> Mapping[str, str]: ...
    @property
    def objective_metric_name(self) -> str: ...


@dataclass(frozen=True)
class Objective:
    """The experiment's objective: its metric and whether it is minimised."""

    metric: str
    minimize: bool = False


@dataclass(frozen=True)
class Evaluated:
    name: str
    architecture: Architecture
    reward: float


def reward_of(trial: TrialResult, objective: Objective) -> float:
    """The trial's reward, or ValueError saying why it has none.

    The metric is the one the trial's own objective names (as in Katib), else the experiment's.
    """
    metric = trial.objective_metric_name or objective.metric
    if metric not in trial.metrics:
        raise ValueError(f"objective metric {metric!r} missing from the observation")
    raw = trial.metrics[metric]
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"objective {metric}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"objective {metric}={raw!r} is not finite")
    return -value if objective.minimize else value


def new_evaluations(
    trials: Iterable[TrialResult],
    space: SearchSpace,
    objective: Objective,
    seen: set[str],
    experiment: str,
) -> tuple[list[Evaluated], list[str]]:
    """The SUCCEEDED trials not in ``seen`` with their rewards, and the names of those skipped.

    ``seen`` holds the trials learned from and the SUCCEEDED trials skipped before, so each
    trial is learned from, or reported as skipped, exactly once. A name repeated within one
    request counts once.
    """
    result: list[Evaluated] = []
    skipped: list[str] = []
    names_now: set[str] = set()
    for trial in trials:
        if trial.condition != SUCCEEDED or trial.name in seen or trial.name in names_now:
            continue
        names_now.add(trial.name)
        try:
            reward = reward_of(trial, objective)
            if "architecture" not in trial.assignments:
                raise ValueError("it has no 'architecture' assignment")
            arc = parse_architecture(trial.assignments["architecture"], space)
        except (ValueError, ArchitectureError) as exc:
            logger.warning(
                "trial skipped for learning experiment=%s trial=%s reason=%s",
                experiment,
                trial.name,
                exc,
            )
            skipped.append(trial.name)
            continue
        result.append(Evaluated(trial.name, arc, reward))
    return result, skipped
