"""The checks Katib's admission webhook makes on an Experiment, plus those a NAS run needs.

:func:`check_experiment` takes the Experiment as loaded from YAML (plain dicts and lists) and
returns every problem it finds, each naming the YAML path of the bad field. It runs nothing and
contacts nothing, so the same function serves the local runner (before any process starts) and
the validation of the Kubernetes manifests under ``examples/`` and ``deploy/``.

What it checks, in Katib's terms (``pkg/webhook/v1beta1/experiment/validator``):

* the name, the counts (``maxTrialCount > 0``, ``parallelTrialCount > 0``,
  ``maxFailedTrialCount >= 0``, neither larger than ``maxTrialCount``), the objective (type
  ``minimize`` or ``maximize``, a metric name not repeated among the additional metrics, metric
  strategies ``min``, ``max`` or ``latest``), the resume policy;
* exactly one of ``spec.parameters`` and ``spec.nasConfig``; the trial template (primary
  container, trial parameters with unique names and references, every ``${trialParameters.X}``
  declared and every declared parameter used, no ``metadata.name``/``namespace``);
* the metrics collector (kind, file paths, filters that compile and have two groups).

What it adds for the NAS algorithms katib-nas provides:

* ``algorithm.algorithmName`` is ``enas`` or ``darts``, and ``spec.nasConfig`` is given;
* the field types Katib's Go decoder would refuse (a number where a string is expected, as in
  an unquoted ``value: 5``), reported here instead of as a decoding error on the cluster;
* the trial parameters reference exactly the assignment names the algorithm returns (ENAS:
  ``architecture``, ``nn_config``; DARTS: ``algorithm-settings``, ``search-space``,
  ``num-layers``). Katib's controller cannot create a Trial otherwise and retries forever.

:func:`check_runnable_locally` adds what the local runner needs on top: an inline ``batch/v1``
Job whose primary container has a command, and the StdOut collector.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Assignment names each algorithm returns, in the order its service returns them.
ALGORITHM_ASSIGNMENTS: dict[str, tuple[str, ...]] = {
    "enas": ("architecture", "nn_config"),
    "darts": ("algorithm-settings", "search-space", "num-layers"),
}

API_VERSION = "kubeflow.org/v1beta1"
NAME_PATTERN = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME_LENGTH = 40
OBJECTIVE_TYPES = ("minimize", "maximize")
METRIC_STRATEGIES = ("min", "max", "latest")
RESUME_POLICIES = ("", "Never", "LongRunning", "FromVolume")
PARAMETER_TYPES = ("double", "int", "discrete", "categorical", "unknown")
DISTRIBUTIONS = ("", "uniform", "logUniform", "normal", "logNormal", "unknown")
COLLECTOR_KINDS = (
    "StdOut",
    "File",
    "TensorFlowEvent",
    "PrometheusMetric",
    "Custom",
    "None",
    "Push",
)

# `${trialParameters.NAME}` placeholders in a trial template, and `${trialSpec.KEY}` references.
PLACEHOLDER = re.compile(r"\$\{trialParameters\.([^}]+)\}")
META_REFERENCE = re.compile(
    r"^\$\{trialSpec\.(Name|Namespace|Kind|APIVersion|Labels\[[^\]]+\]|"
    r"Annotations\[[^\]]+\])\}$"
)
# Katib's webhook requires a metrics filter to contain two bracketed groups.
TWO_GROUPS = re.compile(r".*\(.*\).*\(.*\).*")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an Experiment: the YAML path of the field and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _Checker:
    """Collects problems while walking the document; helpers return None on a wrong type."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def mapping(self, value: Any, path: str, required: bool = False) -> Mapping[str, Any] | None:
        if value is None:
            if required:
                self.add(path, "is required")
            return None
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping, got {_describe(value)}")
            return None
        return value

    def sequence(self, value: Any, path: str, required: bool = False) -> Sequence[Any] | None:
        if value is None:
            if required:
                self.add(path, "is required")
            return None
        if isinstance(value, str) or not isinstance(value, Sequence):
            self.add(path, f"must be a list, got {_describe(value)}")
            return None
        return value

    def string(self, value: Any, path: str, required: bool = False) -> str | None:
        if value is None or value == "":
            if required:
                self.add(path, "is required")
            return None
        if not isinstance(value, str):
            self.add(path, f'must be a string, got {_describe(value)}; quote it: "{value}"')
            return None
        return value

    def integer(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"must be an integer, got {_describe(value)}")
            return None
        return value


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _closest(word: str, choices: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def check_experiment(doc: Any) -> list[Problem]:
    """Every problem of a Katib Experiment document for an ENAS or DARTS search; [] if none."""
    checker = _Checker()
    root = checker.mapping(doc, "(document)", required=True)
    if root is None:
        return checker.problems

    if root.get("apiVersion") != API_VERSION:
        checker.add("apiVersion", f"must be {API_VERSION!r}, got {root.get('apiVersion')!r}")
    if root.get("kind") != "Experiment":
        checker.add("kind", f"must be 'Experiment', got {root.get('kind')!r}")
    _check_metadata(checker, root.get("metadata"))

    spec = checker.mapping(root.get("spec"), "spec", required=True)
    if spec is None:
        return checker.problems

    _check_counts(checker, spec)
    metric_names = _check_objective(checker, spec.get("objective"))
    algorithm = _check_algorithm(checker, spec.get("algorithm"))
    _check_search_space(checker, spec, algorithm)
    resume = spec.get("resumePolicy", "")
    if resume not in RESUME_POLICIES:
        checker.add(
            "spec.resumePolicy", f"must be one of Never, LongRunning, FromVolume, got {resume!r}"
        )
    early = checker.mapping(spec.get("earlyStopping"), "spec.earlyStopping")
    if early is not None:
        checker.string(early.get("algorithmName"), "spec.earlyStopping.algorithmName", True)
    _check_trial_template(checker, spec.get("trialTemplate"), algorithm)
    _check_metrics_collector(checker, spec.get("metricsCollectorSpec"), metric_names)
    return checker.problems


def _check_metadata(checker: _Checker, value: Any) -> None:
    metadata = checker.mapping(value, "metadata", required=True)
    if metadata is None:
        return
    name = checker.string(metadata.get("name"), "metadata.name", required=True)
    if name is not None:
        if not NAME_PATTERN.match(name):
            checker.add(
                "metadata.name",
                f"{name!r} must consist of lower case letters, digits "
                "or '-', start with a letter and end with a letter or digit",
            )
        elif len(name) > MAX_NAME_LENGTH:
            checker.add(
                "metadata.name",
                f"{name!r} is {len(name)} characters long; at most {MAX_NAME_LENGTH} are allowed",
            )
    checker.string(metadata.get("namespace"), "metadata.namespace")


def _check_counts(checker: _Checker, spec: Mapping[str, Any]) -> None:
    max_trials = checker.integer(spec.get("maxTrialCount"), "spec.maxTrialCount")
    parallel = checker.integer(spec.get("parallelTrialCount"), "spec.parallelTrialCount")
    max_failed = checker.integer(spec.get("maxFailedTrialCount"), "spec.maxFailedTrialCount")
    if max_failed is not None and max_failed < 0:
        checker.add("spec.maxFailedTrialCount", f"should not be less than 0, got {max_failed}")
    if max_trials is not None and max_trials <= 0:
        checker.add("spec.maxTrialCount", f"must be greater than 0, got {max_trials}")
    if parallel is not None and parallel <= 0:
        checker.add("spec.parallelTrialCount", f"must be greater than 0, got {parallel}")
    if max_trials is not None and max_trials > 0:
        if max_failed is not None and max_failed > max_trials:
            checker.add(
                "spec.maxFailedTrialCount",
                f"{max_failed} should be less than or equal to spec.maxTrialCount ({max_trials})",
            )
        if parallel is not None and parallel > max_trials:
            checker.add(
                "spec.parallelTrialCount",
                f"{parallel} should be less than or equal to spec.maxTrialCount ({max_trials})",
            )


def _check_objective(checker: _Checker, value: Any) -> list[str]:
    """Check spec.objective; returns the metric names (objective first) for later checks."""
    objective = checker.mapping(value, "spec.objective", required=True)
    if objective is None:
        return []
    kind = objective.get("type")
    if kind not in OBJECTIVE_TYPES:
        checker.add("spec.objective.type", f"must be 'minimize' or 'maximize', got {kind!r}")
    goal = objective.get("goal")
    if goal is not None and (isinstance(goal, bool) or not isinstance(goal, int | float)):
        checker.add("spec.objective.goal", f"must be a number, got {_describe(goal)}")
    name = checker.string(
        objective.get("objectiveMetricName"), "spec.objective.objectiveMetricName", required=True
    )
    names = [name] if name else []
    extra = (
        checker.sequence(
            objective.get("additionalMetricNames"), "spec.objective.additionalMetricNames"
        )
        or []
    )
    for i, item in enumerate(extra):
        path = f"spec.objective.additionalMetricNames[{i}]"
        extra_name = checker.string(item, path, required=True)
        if extra_name is not None and extra_name == name:
            checker.add(
                path,
                f"{extra_name!r} is the objective metric; additionalMetricNames "
                "should not contain spec.objective.objectiveMetricName",
            )
        elif extra_name is not None:
            names.append(extra_name)
    strategies = (
        checker.sequence(objective.get("metricStrategies"), "spec.objective.metricStrategies")
        or []
    )
    for i, item in enumerate(strategies):
        path = f"spec.objective.metricStrategies[{i}]"
        strategy = checker.mapping(item, path, required=True)
        if strategy is None:
            continue
        checker.string(strategy.get("name"), f"{path}.name", required=True)
        if strategy.get("value") not in METRIC_STRATEGIES:
            checker.add(
                f"{path}.value", f"must be 'min', 'max' or 'latest', got {strategy.get('value')!r}"
            )
    return names


def _check_algorithm(checker: _Checker, value: Any) -> str | None:
    """Check spec.algorithm; returns the algorithm name when it is one katib-nas provides."""
    algorithm = checker.mapping(value, "spec.algorithm", required=True)
    if algorithm is None:
        return None
    name = checker.string(
        algorithm.get("algorithmName"), "spec.algorithm.algorithmName", required=True
    )
    if name is not None and name not in ALGORITHM_ASSIGNMENTS:
        checker.add(
            "spec.algorithm.algorithmName",
            f"{name!r} is not provided by katib-nas; use "
            f"'enas' or 'darts'{_closest(name, list(ALGORITHM_ASSIGNMENTS))}",
        )
        name = None
    settings = (
        checker.sequence(algorithm.get("algorithmSettings"), "spec.algorithm.algorithmSettings")
        or []
    )
    seen: set[str] = set()
    for i, item in enumerate(settings):
        path = f"spec.algorithm.algorithmSettings[{i}]"
        setting = checker.mapping(item, path, required=True)
        if setting is None:
            continue
        setting_name = checker.string(setting.get("name"), f"{path}.name", required=True)
        if "value" not in setting:
            checker.add(f"{path}.value", "is required")
        elif setting.get("value") is not None:
            checker.string(setting.get("value"), f"{path}.value")
        if setting_name is not None and setting_name in seen:
            checker.add(f"{path}.name", f"{setting_name!r} is set more than once")
        if setting_name is not None:
            seen.add(setting_name)
    return name


def _check_search_space(checker: _Checker, spec: Mapping[str, Any], algorithm: str | None) -> None:
    has_parameters = bool(spec.get("parameters"))
    has_nas = spec.get("nasConfig") is not None
    if has_parameters and has_nas:
        checker.add("spec", "only one of spec.parameters and spec.nasConfig can be specified")
    elif not has_parameters and not has_nas:
        checker.add("spec", "spec.parameters or spec.nasConfig must be specified")
    elif has_parameters and algorithm is not None:
        checker.add(
            "spec.nasConfig",
            f"is required by algorithm {algorithm!r}, which searches "
            "architectures; spec.parameters is for hyper-parameter algorithms",
        )
    if not has_nas:
        return

    nas = checker.mapping(spec.get("nasConfig"), "spec.nasConfig", required=True)
    if nas is None:
        return
    graph = checker.mapping(nas.get("graphConfig"), "spec.nasConfig.graphConfig", required=True)
    if graph is not None:
        layers = checker.integer(graph.get("numLayers"), "spec.nasConfig.graphConfig.numLayers")
        if graph.get("numLayers") is None:
            checker.add("spec.nasConfig.graphConfig.numLayers", "is required")
        elif layers is not None and layers < 1:
            checker.add(
                "spec.nasConfig.graphConfig.numLayers", f"must be at least 1, got {layers}"
            )
        for key in ("inputSizes", "outputSizes"):
            path = f"spec.nasConfig.graphConfig.{key}"
            sizes = checker.sequence(graph.get(key), path)
            for i, size in enumerate(sizes or []):
                checker.integer(size, f"{path}[{i}]")
    operations = checker.sequence(
        nas.get("operations"), "spec.nasConfig.operations", required=True
    )
    if operations is not None and not operations:
        checker.add("spec.nasConfig.operations", "must list at least one operation")
    for i, item in enumerate(operations or []):
        _check_operation(checker, item, f"spec.nasConfig.operations[{i}]")


def _check_operation(checker: _Checker, value: Any, path: str) -> None:
    operation = checker.mapping(value, path, required=True)
    if operation is None:
        return
    checker.string(operation.get("operationType"), f"{path}.operationType", required=True)
    parameters = checker.sequence(operation.get("parameters"), f"{path}.parameters") or []
    for j, item in enumerate(parameters):
        _check_parameter(checker, item, f"{path}.parameters[{j}]")


def _check_parameter(checker: _Checker, value: Any, path: str) -> None:
    """Katib's rules for a ParameterSpec (validateParameters), applied to an operation's."""
    parameter = checker.mapping(value, path, required=True)
    if parameter is None:
        return
    checker.string(parameter.get("name"), f"{path}.name", required=True)
    kind = parameter.get("parameterType")
    if kind not in PARAMETER_TYPES:
        checker.add(
            f"{path}.parameterType",
            f"must be one of categorical, int, double, discrete, got {kind!r}",
        )
    space = checker.mapping(parameter.get("feasibleSpace"), f"{path}.feasibleSpace", required=True)
    if space is None:
        return
    for key in ("min", "max", "step"):
        checker.string(space.get(key), f"{path}.feasibleSpace.{key}")
    values = checker.sequence(space.get("list"), f"{path}.feasibleSpace.list") or []
    for k, item in enumerate(values):
        checker.string(item, f"{path}.feasibleSpace.list[{k}]", required=True)
    if space.get("distribution", "") not in DISTRIBUTIONS:
        checker.add(
            f"{path}.feasibleSpace.distribution",
            "must be one of uniform, logUniform, "
            f"normal, logNormal, got {space.get('distribution')!r}",
        )
    bounded = space.get("min") not in (None, "") or space.get("max") not in (None, "")
    if kind in ("int", "double"):
        if values:
            checker.add(f"{path}.feasibleSpace.list", f"is not supported for parameterType {kind}")
        if not bounded:
            checker.add(
                f"{path}.feasibleSpace", f"min or max must be specified for parameterType {kind}"
            )
    elif kind in ("categorical", "discrete"):
        if bounded or space.get("step") not in (None, ""):
            checker.add(
                f"{path}.feasibleSpace",
                f"min, max and step are not supported for parameterType {kind}; use list",
            )
        if not values:
            checker.add(f"{path}.feasibleSpace.list", f"is required for parameterType {kind}")


def _check_trial_template(checker: _Checker, value: Any, algorithm: str | None) -> None:
    template = checker.mapping(value, "spec.trialTemplate", required=True)
    if template is None:
        return
    checker.string(
        template.get("primaryContainerName"),
        "spec.trialTemplate.primaryContainerName",
        required=True,
    )
    trial_spec = template.get("trialSpec")
    config_map = template.get("configMap")
    if trial_spec is None and config_map is None:
        checker.add(
            "spec.trialTemplate",
            "spec.trialTemplate.trialSpec or spec.trialTemplate.configMap must be specified",
        )
    elif trial_spec is not None and config_map is not None:
        checker.add(
            "spec.trialTemplate",
            "only one of spec.trialTemplate.trialSpec or "
            "spec.trialTemplate.configMap can be specified",
        )
    source = checker.mapping(config_map, "spec.trialTemplate.configMap")
    if source is not None:
        for key in ("configMapName", "configMapNamespace", "templatePath"):
            checker.string(source.get(key), f"spec.trialTemplate.configMap.{key}", required=True)
    job = checker.mapping(trial_spec, "spec.trialTemplate.trialSpec")
    if job is not None:
        _check_trial_spec(checker, job, template)

    parameters = checker.sequence(
        template.get("trialParameters"), "spec.trialTemplate.trialParameters", required=True
    )
    if parameters is None:
        return
    text = json.dumps(trial_spec) if job is not None else None
    names: set[str] = set()
    references: dict[str, str] = {}
    for i, item in enumerate(parameters):
        path = f"spec.trialTemplate.trialParameters[{i}]"
        parameter = checker.mapping(item, path, required=True)
        if parameter is None:
            continue
        name = checker.string(parameter.get("name"), f"{path}.name", required=True)
        reference = checker.string(parameter.get("reference"), f"{path}.reference", required=True)
        if name is not None:
            if "{" in name or "}" in name:
                checker.add(f"{path}.name", f"{name!r} must not contain '{{' or '}}'")
            elif name in names:
                checker.add(f"{path}.name", f"{name!r} is declared more than once")
            elif text is not None and "${trialParameters." + name + "}" not in text:
                checker.add(
                    f"{path}.name",
                    f"${{trialParameters.{name}}} is not used in spec.trialTemplate.trialSpec",
                )
            names.add(name)
        if reference is not None:
            if reference in references.values():
                checker.add(f"{path}.reference", f"{reference!r} is referenced more than once")
            references[path] = reference

    if text is not None:
        for used in sorted(set(PLACEHOLDER.findall(text)) - names):
            checker.add(
                "spec.trialTemplate.trialSpec",
                f"uses ${{trialParameters.{used}}}, "
                "which spec.trialTemplate.trialParameters does not declare"
                f"{_closest(used, sorted(names))}",
            )
    if algorithm is not None:
        _check_references(checker, references, algorithm)


def _check_references(checker: _Checker, references: dict[str, str], algorithm: str) -> None:
    """Every assignment the algorithm returns is referenced once, and nothing else is."""
    expected = ALGORITHM_ASSIGNMENTS[algorithm]
    referenced = set()
    for path, reference in references.items():
        if META_REFERENCE.match(reference):
            continue
        if reference.startswith("${trialSpec."):
            checker.add(
                f"{path}.reference",
                f"{reference!r} is not a trial metadata reference; "
                "Katib knows ${trialSpec.Name}, ${trialSpec.Namespace}, "
                "${trialSpec.Kind}, ${trialSpec.APIVersion}, ${trialSpec.Labels[key]} "
                "and ${trialSpec.Annotations[key]}",
            )
        elif reference not in expected:
            checker.add(
                f"{path}.reference",
                f"{reference!r} is not an assignment of algorithm "
                f"{algorithm}, which returns {', '.join(expected)}"
                f"{_closest(reference, expected)}",
            )
        referenced.add(reference)
    for name in expected:
        if name not in referenced:
            checker.add(
                "spec.trialTemplate.trialParameters",
                f"no trial parameter references "
                f"{name!r}; algorithm {algorithm} returns {', '.join(expected)} and Katib "
                "cannot create a trial unless every one of them is referenced",
            )


def _check_trial_spec(
    checker: _Checker, job: Mapping[str, Any], template: Mapping[str, Any]
) -> None:
    path = "spec.trialTemplate.trialSpec"
    if not job.get("apiVersion") or not job.get("kind"):
        checker.add(path, "apiVersion and kind must be specified")
    metadata = job.get("metadata")
    if isinstance(metadata, Mapping) and (metadata.get("name") or metadata.get("namespace")):
        checker.add(
            f"{path}.metadata", "name and namespace must be omitted (Katib names each trial's Job)"
        )
    is_job = job.get("apiVersion") == "batch/v1" and job.get("kind") == "Job"
    if not is_job:
        for key in ("successCondition", "failureCondition"):
            checker.string(template.get(key), f"spec.trialTemplate.{key}", required=True)
        return
    containers = _job_containers(checker, job)
    primary = template.get("primaryContainerName")
    if containers is not None and isinstance(primary, str) and primary:
        names = [c.get("name") for c in containers if isinstance(c, Mapping)]
        if primary not in names:
            checker.add(
                "spec.trialTemplate.primaryContainerName",
                f"{primary!r} is not a "
                f"container of the Job (containers: {', '.join(map(str, names))})",
            )


def _job_containers(checker: _Checker, job: Mapping[str, Any]) -> Sequence[Any] | None:
    path = "spec.trialTemplate.trialSpec.spec"
    job_spec = checker.mapping(job.get("spec"), path, required=True)
    if job_spec is None:
        return None
    pod = checker.mapping(job_spec.get("template"), f"{path}.template", required=True)
    if pod is None:
        return None
    pod_spec = checker.mapping(pod.get("spec"), f"{path}.template.spec", required=True)
    if pod_spec is None:
        return None
    containers = checker.sequence(
        pod_spec.get("containers"), f"{path}.template.spec.containers", required=True
    )
    for i, container in enumerate(containers or []):
        cpath = f"{path}.template.spec.containers[{i}]"
        entry = checker.mapping(container, cpath, required=True)
        if entry is None:
            continue
        checker.string(entry.get("name"), f"{cpath}.name", required=True)
        for key in ("command", "args"):
            words = checker.sequence(entry.get(key), f"{cpath}.{key}") or []
            for k, word in enumerate(words):
                checker.string(word, f"{cpath}.{key}[{k}]")
    return containers


def _check_metrics_collector(checker: _Checker, value: Any, metric_names: list[str]) -> None:
    path = "spec.metricsCollectorSpec"
    spec = checker.mapping(value, path)
    if spec is None:
        return
    collector = checker.mapping(spec.get("collector"), f"{path}.collector") or {}
    kind = collector.get("kind", "StdOut")
    if kind not in COLLECTOR_KINDS:
        checker.add(
            f"{path}.collector.kind",
            f"invalid metrics collector kind {kind!r}; one of "
            f"{', '.join(COLLECTOR_KINDS)}{_closest(str(kind), COLLECTOR_KINDS)}",
        )
    source = checker.mapping(spec.get("source"), f"{path}.source") or {}
    file_path = checker.mapping(source.get("fileSystemPath"), f"{path}.source.fileSystemPath")
    if kind in ("File", "TensorFlowEvent"):
        wanted = "File" if kind == "File" else "Directory"
        if (
            file_path is None
            or file_path.get("kind") != wanted
            or not str(file_path.get("path", "")).startswith("/")
        ):
            checker.add(
                f"{path}.source.fileSystemPath",
                f"an absolute path of kind {wanted} is required by collector kind {kind}",
            )
    if kind == "Custom" and collector.get("customCollector") is None:
        checker.add(f"{path}.collector.customCollector", "is required for collector kind Custom")
    filter_spec = checker.mapping(source.get("filter"), f"{path}.source.filter") or {}
    formats = (
        checker.sequence(filter_spec.get("metricsFormat"), f"{path}.source.filter.metricsFormat")
        or []
    )
    for i, item in enumerate(formats):
        fpath = f"{path}.source.filter.metricsFormat[{i}]"
        pattern = checker.string(item, fpath, required=True)
        if pattern is None:
            continue
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            checker.add(fpath, f"{pattern!r} is not a valid regular expression: {exc}")
            continue
        if not TWO_GROUPS.match(pattern) or compiled.groups < 2:
            checker.add(fpath, f"{pattern!r} needs two groups: the metric name, then its value")


def check_runnable_locally(doc: Mapping[str, Any]) -> list[Problem]:
    """What the local runner needs beyond a valid Experiment (call after check_experiment)."""
    problems: list[Problem] = []
    spec = doc["spec"]
    template = spec["trialTemplate"]
    if template.get("trialSpec") is None:
        problems.append(
            Problem(
                "spec.trialTemplate.configMap",
                "the local runner cannot read "
                "ConfigMaps; put the Job inline as spec.trialTemplate.trialSpec",
            )
        )
        return problems
    job = template["trialSpec"]
    if job.get("apiVersion") != "batch/v1" or job.get("kind") != "Job":
        problems.append(
            Problem(
                "spec.trialTemplate.trialSpec",
                "the local runner runs batch/v1 "
                f"Jobs, not {job.get('apiVersion')} {job.get('kind')}",
            )
        )
        return problems
    collector = (spec.get("metricsCollectorSpec") or {}).get("collector") or {}
    kind = collector.get("kind", "StdOut")
    if kind not in ("StdOut", "None"):
        problems.append(
            Problem(
                "spec.metricsCollectorSpec.collector.kind",
                f"the local runner collects metrics from stdout only (StdOut), not {kind}",
            )
        )
    if spec.get("earlyStopping") is not None:
        problems.append(
            Problem(
                "spec.earlyStopping",
                "early stopping is not supported by the "
                "local runner (the NAS algorithms do not use it)",
            )
        )
    containers = job["spec"]["template"]["spec"]["containers"]
    for i, container in enumerate(containers):
        if container.get("name") == template["primaryContainerName"] and not container.get(
            "command"
        ):
            problems.append(
                Problem(
                    f"spec.trialTemplate.trialSpec.spec.template.spec.containers[{i}].command",
                    "is required locally: the image is not run, so its entrypoint is unknown",
                )
            )
    return problems
