"""Katib-shaped requests for the conformance suite, built the way Katib's controller builds them.

The controller always sets ``parameter_specs`` on an operation (possibly empty), sends the whole
trial history in every state, and overlays status settings on the Experiment's (contract 9.2).
"""

from __future__ import annotations

from collections.abc import Sequence

from katib_nas.api import api_pb2

TYPES = {
    "categorical": api_pb2.CATEGORICAL,
    "int": api_pb2.INT,
    "double": api_pb2.DOUBLE,
    "discrete": api_pb2.DISCRETE,
    "unknown": api_pb2.UNKNOWN_TYPE,
}
CONDITIONS = api_pb2.TrialStatus.TrialConditionType


def parameter(
    name: str,
    kind: str,
    values: Sequence[str] = (),
    *,
    min: str = "",
    max: str = "",
    step: str = "",
) -> api_pb2.ParameterSpec:
    return api_pb2.ParameterSpec(
        name=name,
        parameter_type=TYPES[kind],
        feasible_space=api_pb2.FeasibleSpace(list=list(values), min=min, max=max, step=step),
    )


def operation(operation_type: str, *parameters: api_pb2.ParameterSpec) -> api_pb2.Operation:
    op = api_pb2.Operation(operation_type=operation_type)
    op.parameter_specs.SetInParent()
    op.parameter_specs.parameters.extend(parameters)
    return op


def experiment(
    name: str,
    algorithm: str,
    operations: Sequence[api_pb2.Operation],
    *,
    num_layers: int = 3,
    input_sizes: Sequence[int] = (32, 32, 3),
    output_sizes: Sequence[int] = (10,),
    settings: Sequence[tuple[str, str]] = (),
    objective: str = "Validation-Accuracy",
    objective_type: int = api_pb2.MAXIMIZE,
    parallel: int = 2,
    max_trials: int = 10,
) -> api_pb2.Experiment:
    message = api_pb2.Experiment(name=name)
    spec = message.spec
    spec.parameter_specs.SetInParent()
    spec.objective.type = objective_type
    spec.objective.objective_metric_name = objective
    spec.algorithm.algorithm_name = algorithm
    for setting_name, value in settings:
        spec.algorithm.algorithm_settings.add(name=setting_name, value=value)
    spec.parallel_trial_count = parallel
    spec.max_trial_count = max_trials
    graph = spec.nas_config.graph_config
    graph.num_layers = num_layers
    graph.input_sizes.extend(input_sizes)
    graph.output_sizes.extend(output_sizes)
    spec.nas_config.operations.operation.extend(operations)
    return message


def trial(
    name: str,
    condition: int | None,
    assignments: Sequence[tuple[str, str]],
    metrics: Sequence[tuple[str, str]] = (),
    objective: str = "Validation-Accuracy",
) -> api_pb2.Trial:
    message = api_pb2.Trial(name=name)
    message.spec.objective.type = api_pb2.MAXIMIZE
    message.spec.objective.objective_metric_name = objective
    for assignment_name, value in assignments:
        message.spec.parameter_assignments.assignments.add(name=assignment_name, value=value)
    message.status.start_time = "2026-12-03T10:00:00Z"
    if condition is not None:
        message.status.condition = condition
    if condition in (CONDITIONS.SUCCEEDED, CONDITIONS.FAILED, CONDITIONS.KILLED):
        message.status.completion_time = "2026-12-03T10:05:00Z"
    for metric_name, value in metrics:
        message.status.observation.metrics.add(name=metric_name, value=value)
    return message


def katib_darts_experiment(settings: Sequence[tuple[str, str]] = ()) -> api_pb2.Experiment:
    """Katib's DARTS unit-test experiment (contract 6), without its ``num_epoch`` typo."""
    return experiment(
        "darts-experiment",
        "darts",
        [operation("separable_convolution", parameter("filter_size", "categorical", ["3", "5"]))],
        settings=settings or [("num_epochs", "10")],
        objective="Best-Genotype",
        parallel=1,
        max_trials=1,
    )


def katib_enas_operations() -> list[api_pb2.Operation]:
    """The operations of Katib's ENAS unit test (contract 6): four operation ids."""
    return [
        operation(
            "convolution",
            parameter("filter_size", "categorical", ["5"]),
            parameter("num_filter", "categorical", ["128"]),
            parameter("stride", "categorical", ["1", "2"]),
        ),
        operation(
            "reduction",
            parameter("reduction_type", "categorical", ["max_pooling"]),
            parameter("pool_size", "int", min="2", max="3", step="1"),
        ),
    ]


def katib_enas_experiment(settings: Sequence[tuple[str, str]] = ()) -> api_pb2.Experiment:
    return experiment(
        "enas-experiment",
        "enas",
        katib_enas_operations(),
        num_layers=4,
        input_sizes=(32, 32, 8),
        settings=settings,
    )


def request(
    experiment_message: api_pb2.Experiment,
    count: int,
    trials: Sequence[api_pb2.Trial] = (),
    total: int | None = None,
) -> api_pb2.GetSuggestionsRequest:
    return api_pb2.GetSuggestionsRequest(
        experiment=experiment_message,
        trials=list(trials),
        current_request_number=count,
        total_request_number=len(trials) + count if total is None else total,
    )
