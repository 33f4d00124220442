"""A Katib Experiment read from YAML into typed objects, and its wire form for the services.

:func:`load_experiment` reads the file with PyYAML, stops with every problem
:func:`~katib_nas.runner.admission.check_experiment` finds and every field that is not one of
Katib's (:func:`~katib_nas.manifests.experiment_schema.check_shape`, naming the closest valid
one), then applies the defaults Katib's mutating webhook applies (``parallelTrialCount`` 3; a
metric strategy ``max`` for a maximised objective and ``min`` for a minimised one, for the
objective and every additional metric that has none; the StdOut collector) and returns an
:class:`Experiment`.

:func:`to_api` converts it to ``api_pb2.Experiment`` as Katib's ``ConvertExperiment`` does: name,
algorithm (settings in order, values verbatim), objective (``goal`` only when set), an always
present and empty ``parameter_specs``, ``nas_config`` (graph config with ``num_layers`` 0 when
unset, operations each with an always present ``parameter_specs``, parameter and distribution
names mapped to the enums), and the trial counts when set. Metric strategies, the trial template
and the metrics collector are not sent.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from katib_nas import wire
from katib_nas.api import api_pb2
from katib_nas.manifests.experiment_schema import check_shape
from katib_nas.runner.admission import Problem, check_experiment, check_runnable_locally

DEFAULT_PARALLEL_TRIAL_COUNT = 3

_PARAMETER_TYPES = {name: enum for enum, name in wire.PARAMETER_TYPE_NAMES.items()}
_DISTRIBUTIONS = {
    "uniform": api_pb2.UNIFORM,
    "logUniform": api_pb2.LOG_UNIFORM,
    "normal": api_pb2.NORMAL,
    "logNormal": api_pb2.LOG_NORMAL,
}


class ExperimentError(ValueError):
    """The Experiment file cannot be run; ``problems`` lists every reason with its YAML path."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source} is not a valid Experiment:\n{lines}")


@dataclass(frozen=True)
class FeasibleSpace:
    min: str = ""
    max: str = ""
    step: str = ""
    list: tuple[str, ...] = ()
    distribution: str = ""


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    parameter_type: str
    feasible_space: FeasibleSpace


@dataclass(frozen=True)
class Operation:
    operation_type: str
    parameters: tuple[ParameterSpec, ...]


@dataclass(frozen=True)
class GraphConfig:
    num_layers: int | None
    input_sizes: tuple[int, ...]
    output_sizes: tuple[int, ...]


@dataclass(frozen=True)
class NasConfig:
    graph_config: GraphConfig
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Objective:
    type: str
    objective_metric_name: str
    goal: float | None = None
    additional_metric_names: tuple[str, ...] = ()
    metric_strategies: dict[str, str] = field(default_factory=dict)

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The objective metric first, then the additional ones (Katib's collector order)."""
        return (self.objective_metric_name, *self.additional_metric_names)


@dataclass(frozen=True)
class TrialParameter:
    name: str
    reference: str
    description: str = ""


@dataclass(frozen=True)
class Experiment:
    """The parts of a Katib Experiment the runner uses, with Katib's defaults applied."""

    name: str
    namespace: str
    algorithm_name: str
    algorithm_settings: tuple[tuple[str, str], ...]
    objective: Objective
    nas_config: NasConfig
    parallel_trial_count: int
    max_trial_count: int | None
    max_failed_trial_count: int | None
    trial_parameters: tuple[TrialParameter, ...]
    primary_container_name: str
    trial_spec: dict[str, Any]
    metrics_formats: tuple[str, ...]
    collector_kind: str
    source_dir: Path
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def fingerprint(self) -> str:
        """A hash of everything that defines the search (the counts may change on a resume)."""
        spec = {
            k: v
            for k, v in self.raw["spec"].items()
            if k not in ("parallelTrialCount", "maxTrialCount", "maxFailedTrialCount")
        }
        text = json.dumps({"name": self.name, "spec": spec}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_experiment(path: str | Path) -> Experiment:
    """Read, check and default an Experiment file; raises ExperimentError listing every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ExperimentError(
            source, [Problem("(file)", f"cannot be read: {exc.strerror}")]
        ) from exc
    try:
        stream = io.StringIO(text)
        stream.name = source  # PyYAML names the file in its errors
        docs = [doc for doc in yaml.safe_load_all(stream) if doc is not None]
    except yaml.YAMLError as exc:
        raise ExperimentError(source, [Problem("(file)", f"is not valid YAML: {exc}")]) from exc
    experiments = [d for d in docs if isinstance(d, Mapping) and d.get("kind") == "Experiment"]
    if len(docs) == 1:
        doc = docs[0]
    elif len(experiments) == 1:
        doc = experiments[0]
    else:
        raise ExperimentError(
            source,
            [
                Problem(
                    "(file)",
                    f"holds {len(experiments)} "
                    "Experiments among its documents; exactly one "
                    "is needed",
                )
            ],
        )
    return experiment_from_dict(doc, source=source, source_dir=Path(path).resolve().parent)


def experiment_from_dict(
    doc: Any, source: str = "<experiment>", source_dir: Path | None = None
) -> Experiment:
    """Check a loaded Experiment document and build the typed, defaulted Experiment."""
    problems = check_experiment(doc)
    # Katib's CRD keeps fields it does not know and ignores them: a misspelt field (say
    # maxTrialCounts) would silently change the run, so it is an error here.
    reported = {problem.path for problem in problems}
    problems += [problem for problem in check_shape(doc) if problem.path not in reported]
    if not problems:
        problems = check_runnable_locally(doc)
    if problems:
        raise ExperimentError(source, problems)
    spec = doc["spec"]
    template = spec["trialTemplate"]
    collector = spec.get("metricsCollectorSpec") or {}
    formats = ((collector.get("source") or {}).get("filter") or {}).get("metricsFormat") or []
    return Experiment(
        name=doc["metadata"]["name"],
        namespace=doc["metadata"].get("namespace") or "default",
        algorithm_name=spec["algorithm"]["algorithmName"],
        algorithm_settings=tuple(
            (s["name"], s.get("value") or "")
            for s in spec["algorithm"].get("algorithmSettings") or []
        ),
        objective=_objective(spec["objective"]),
        nas_config=nas_config_from_yaml(spec["nasConfig"]),
        parallel_trial_count=spec.get("parallelTrialCount") or DEFAULT_PARALLEL_TRIAL_COUNT,
        max_trial_count=spec.get("maxTrialCount"),
        max_failed_trial_count=spec.get("maxFailedTrialCount"),
        trial_parameters=tuple(
            TrialParameter(p["name"], p["reference"], p.get("description") or "")
            for p in template["trialParameters"]
        ),
        primary_container_name=template["primaryContainerName"],
        trial_spec=template["trialSpec"],
        metrics_formats=tuple(formats),
        collector_kind=(collector.get("collector") or {}).get("kind", "StdOut"),
        source_dir=source_dir or Path.cwd(),
        raw=dict(doc),
    )


def _objective(doc: Mapping[str, Any]) -> Objective:
    kind = doc["type"]
    additional = tuple(doc.get("additionalMetricNames") or ())
    default = "max" if kind == "maximize" else "min"
    strategies = {s["name"]: s["value"] for s in doc.get("metricStrategies") or []}
    for name in (doc["objectiveMetricName"], *additional):
        strategies.setdefault(name, default)
    goal = doc.get("goal")
    return Objective(
        type=kind,
        objective_metric_name=doc["objectiveMetricName"],
        goal=None if goal is None else float(goal),
        additional_metric_names=additional,
        metric_strategies=strategies,
    )


def nas_config_from_yaml(doc: Mapping[str, Any]) -> NasConfig:
    """The typed ``spec.nasConfig`` of an Experiment that check_experiment accepts."""
    graph = doc["graphConfig"]
    operations = []
    for op in doc["operations"]:
        parameters = []
        for p in op.get("parameters") or []:
            space = p.get("feasibleSpace") or {}
            parameters.append(
                ParameterSpec(
                    name=p["name"],
                    parameter_type=p["parameterType"],
                    feasible_space=FeasibleSpace(
                        min=space.get("min") or "",
                        max=space.get("max") or "",
                        step=space.get("step") or "",
                        list=tuple(space.get("list") or ()),
                        distribution=space.get("distribution") or "",
                    ),
                )
            )
        operations.append(Operation(op["operationType"], tuple(parameters)))
    return NasConfig(
        graph_config=GraphConfig(
            num_layers=graph.get("numLayers"),
            input_sizes=tuple(graph.get("inputSizes") or ()),
            output_sizes=tuple(graph.get("outputSizes") or ()),
        ),
        operations=tuple(operations),
    )


def objective_to_api(objective: Objective) -> api_pb2.ObjectiveSpec:
    """The ObjectiveSpec Katib sends, both in the Experiment and in every Trial."""
    message = api_pb2.ObjectiveSpec(
        type=api_pb2.MAXIMIZE if objective.type == "maximize" else api_pb2.MINIMIZE,
        objective_metric_name=objective.objective_metric_name,
        additional_metric_names=list(objective.additional_metric_names),
    )
    if objective.goal is not None:
        message.goal = objective.goal
    return message


def to_api(
    experiment: Experiment,
    parallel_trial_count: int | None = None,
    max_trial_count: int | None = None,
) -> api_pb2.Experiment:
    """The api_pb2.Experiment Katib's ConvertExperiment builds from this Experiment.

    The counts may be overridden (the runner's ``--parallel`` and ``--max-trials``), as an edit
    of the Experiment's counts on the cluster would change them.
    """
    spec = api_pb2.ExperimentSpec(
        algorithm=api_pb2.AlgorithmSpec(
            algorithm_name=experiment.algorithm_name,
            algorithm_settings=[
                api_pb2.AlgorithmSetting(name=n, value=v) for n, v in experiment.algorithm_settings
            ],
        ),
        objective=objective_to_api(experiment.objective),
    )
    spec.parameter_specs.SetInParent()
    spec.nas_config.CopyFrom(nas_config_to_api(experiment.nas_config))

    parallel = parallel_trial_count or experiment.parallel_trial_count
    spec.parallel_trial_count = parallel
    max_trials = max_trial_count or experiment.max_trial_count
    if max_trials is not None:
        spec.max_trial_count = max_trials
    return api_pb2.Experiment(name=experiment.name, spec=spec)


def nas_config_to_api(nas: NasConfig) -> api_pb2.NasConfig:
    """The NasConfig message ConvertExperiment builds (operations and their specs always set)."""
    message = api_pb2.NasConfig()
    graph = nas.graph_config
    message.graph_config.num_layers = graph.num_layers or 0
    message.graph_config.input_sizes.extend(graph.input_sizes)
    message.graph_config.output_sizes.extend(graph.output_sizes)
    message.operations.SetInParent()
    for op in nas.operations:
        operation = message.operations.operation.add(operation_type=op.operation_type)
        operation.parameter_specs.SetInParent()
        for p in op.parameters:
            space = p.feasible_space
            operation.parameter_specs.parameters.add(
                name=p.name,
                parameter_type=_PARAMETER_TYPES.get(p.parameter_type, api_pb2.UNKNOWN_TYPE),
                feasible_space=api_pb2.FeasibleSpace(
                    max=space.max,
                    min=space.min,
                    list=list(space.list),
                    step=space.step,
                    distribution=_DISTRIBUTIONS.get(
                        space.distribution, api_pb2.DISTRIBUTION_UNSPECIFIED
                    ),
                ),
            )
    return message
