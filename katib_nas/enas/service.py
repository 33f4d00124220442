"""The ENAS Suggestion servicer: a thin adapter from wire data to the ENAS cores.

``ValidateAlgorithmSettings`` checks, in Katib's order, the graph (input sizes, output sizes,
``num_layers >= 1``), the operations, that they expand to at least one operation id, and the ten
settings (:func:`katib_nas.enas.validation.validate_search`). ``GetSuggestions`` runs the same
checks, then hands the trials to the experiment's controller (:mod:`katib_nas.enas.experiment`)
and formats its architectures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from katib_nas import wire
from katib_nas.enas.encoding import assignments
from katib_nas.enas.history import Objective
from katib_nas.enas.registry import DEFAULT_IDLE_SECONDS, ExperimentRegistry
from katib_nas.enas.search_space import SearchSpace
from katib_nas.enas.state import StateStore
from katib_nas.enas.validation import validate_search
from katib_nas.servicer import SuggestionServicer


@dataclass(frozen=True)
class EnasRequest:
    space: SearchSpace
    settings: dict[str, Any]
    objective: Objective


def parse_experiment(experiment: wire.Experiment) -> EnasRequest:
    """The checked search space, settings and objective; raises InvalidArgument."""
    space, settings = validate_search(experiment.nas, experiment.settings)
    minimize = experiment.objective_type == "minimize"
    return EnasRequest(space, settings, Objective(experiment.objective_metric_name, minimize))


class EnasServicer(SuggestionServicer):
    algorithm_name = "enas"

    def __init__(
        self,
        state_dir: Path,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.registry = ExperimentRegistry(StateStore(state_dir), idle_seconds, seed=seed)

    def validate(self, experiment: wire.Experiment) -> None:
        parse_experiment(experiment)

    def suggest(
        self, experiment: wire.Experiment, trials: list[wire.TrialRecord], count: int
    ) -> list[wire.Assignments]:
        request = parse_experiment(experiment)
        with self.registry.use(
            experiment.name, request.space, request.settings, request.objective
        ) as live:
            result = live.suggest(trials, count)
        return [assignments(request.space, arc) for arc in result.architectures]
