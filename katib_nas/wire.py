"""Conversions between Katib's wire messages and the plain data the algorithm cores use.

The servicers are the only callers; nothing below them imports the generated protobuf modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from katib_nas.api import api_pb2
from katib_nas.search_space import (
    CATEGORICAL,
    DISCRETE,
    DOUBLE,
    INT,
    UNKNOWN,
    GraphConfig,
    NasConfig,
    OperationSpec,
    ParameterSpec,
)

# ParameterType enum -> the name Katib's YAML and katib_nas.search_space use.
PARAMETER_TYPE_NAMES = {
    api_pb2.CATEGORICAL: CATEGORICAL,
    api_pb2.INT: INT,
    api_pb2.DOUBLE: DOUBLE,
    api_pb2.DISCRETE: DISCRETE,
}
_OBJECTIVES = {api_pb2.MAXIMIZE: "maximize", api_pb2.MINIMIZE: "minimize"}
CONDITIONS = {
    value: name.lower() for name, value in api_pb2.TrialStatus.TrialConditionType.items()
}

Assignments = list[tuple[str, str]]


@dataclass(frozen=True)
class Experiment:
    """What an algorithm needs of an Experiment: its name, settings, objective and space."""

    name: str
    algorithm_name: str
    settings: tuple[tuple[str, str], ...]
    objective_type: str
    objective_metric_name: str
    nas: NasConfig


@dataclass(frozen=True)
class TrialRecord:
    """One trial of the request's history, as the controller reported it."""

    name: str
    condition: str
    assignments: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    objective_metric_name: str = ""


def experiment_from_proto(message: api_pb2.Experiment) -> Experiment:
    spec = message.spec
    return Experiment(
        name=message.name,
        algorithm_name=spec.algorithm.algorithm_name,
        settings=tuple((s.name, s.value) for s in spec.algorithm.algorithm_settings),
        objective_type=_OBJECTIVES.get(spec.objective.type, "unknown"),
        objective_metric_name=spec.objective.objective_metric_name,
        nas=nas_config_from_proto(spec.nas_config),
    )


def nas_config_from_proto(message: api_pb2.NasConfig) -> NasConfig:
    graph = message.graph_config
    return NasConfig(
        graph=GraphConfig(
            num_layers=graph.num_layers,
            input_sizes=tuple(graph.input_sizes),
            output_sizes=tuple(graph.output_sizes),
        ),
        operations=tuple(
            OperationSpec(
                operation_type=op.operation_type,
                parameters=tuple(_parameter_from_proto(p) for p in op.parameter_specs.parameters),
            )
            for op in message.operations.operation
        ),
    )


def _parameter_from_proto(message: api_pb2.ParameterSpec) -> ParameterSpec:
    space = message.feasible_space
    return ParameterSpec(
        name=message.name,
        parameter_type=PARAMETER_TYPE_NAMES.get(message.parameter_type, UNKNOWN),
        min=space.min,
        max=space.max,
        step=space.step,
        values=tuple(space.list),
    )


def trials_from_proto(trials: Sequence[api_pb2.Trial]) -> list[TrialRecord]:
    return [
        TrialRecord(
            name=trial.name,
            condition=CONDITIONS.get(trial.status.condition, "unknown"),
            assignments={a.name: a.value for a in trial.spec.parameter_assignments.assignments},
            metrics=_first_values(trial.status.observation.metrics),
            objective_metric_name=trial.spec.objective.objective_metric_name,
        )
        for trial in trials
    ]


def _first_values(metrics: Sequence[api_pb2.Metric]) -> dict[str, str]:
    """Metric values by name; the first of repeated names wins, as in Katib's services."""
    values: dict[str, str] = {}
    for metric in metrics:
        values.setdefault(metric.name, metric.value)
    return values


def reply_from_assignments(suggestions: Sequence[Assignments]) -> api_pb2.GetSuggestionsReply:
    reply = api_pb2.GetSuggestionsReply()
    for assignments in suggestions:
        entry = reply.parameter_assignments.add()
        for name, value in assignments:
            entry.assignments.add(name=name, value=value)
    return reply
