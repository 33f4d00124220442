"""The ENAS Suggestion servicer: a thin adapter from wire data to the ENAS cores.

``ValidateAlgorithmSettings`` checks, in Katib's order, the graph (input sizes, output sizes,
``num_layers >= 1``), the operations, that they expand to at least one operation id, and the ten
settings. ``GetSuggestions`` runs the same checks, then hands the trials to the experiment's
controller (:mod:`katib_nas.enas.experiment`) and formats its architectures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from katib_nas import wire
from katib_nas.enas.encoding import format_architecture, format_nn_config
from katib_nas.enas.history import Objective
from katib_nas.enas.registry import DEFAULT_IDLE_SECONDS, ExperimentRegistry
from katib_nas.enas.search_space import SearchSpace
from katib_nas.enas.settings import parse_enas_settings
from katib_nas.enas.state import StateStore
from katib_nas.search_space import validate_graph, validate_operations
from katib_nas.servicer import SuggestionServicer

ASSIGNMENT_NAMES = ("architecture", "nn_config")


@dataclass(frozen=True)
class EnasRequest:
    space: SearchSpace
    settings: dict[str, Any]
    objective: Objective


def parse_experiment(experiment: wire.Experiment) -> EnasRequest:
    """The checked search space, settings and objective; raises InvalidArgument."""
    validate_graph(experiment.nas.graph)
    validate_operations(experiment.nas.operations)
    space = SearchSpace.from_nas_config(experiment.nas)
    settings = parse_enas_settings(experiment.settings)
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
        return [
            [
                ("architecture", format_architecture(arc)),
                ("nn_config", format_nn_config(request.space, arc)),
            ]
            for arc in result.architectures
        ]
