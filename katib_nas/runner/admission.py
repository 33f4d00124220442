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

import re
from collections.abc import Mapping
from typing import Any

from katib_nas.darts import suggestion as darts_suggestion
from katib_nas.enas import encoding as enas_encoding
from katib_nas.runner.field_checks import FieldChecker, Problem, closest, describe
from katib_nas.runner.nas_config_checks import check_search_space
from katib_nas.runner.template_checks import (
    check_metrics_collector,
    check_trial_template,
    primary_container,
)

__all__ = ["ALGORITHM_ASSIGNMENTS", "Problem", "check_experiment", "check_runnable_locally"]

# Assignment names each algorithm returns, in the order its service returns them.
ALGORITHM_ASSIGNMENTS: dict[str, tuple[str, ...]] = {
    "enas": enas_encoding.ASSIGNMENT_NAMES,
    "darts": darts_suggestion.ASSIGNMENT_NAMES,
}

API_VERSION = "kubeflow.org/v1beta1"
NAME_PATTERN = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME_LENGTH = 40
OBJECTIVE_TYPES = ("minimize", "maximize")
METRIC_STRATEGIES = ("min", "max", "latest")
RESUME_POLICIES = ("", "Never", "LongRunning", "FromVolume")


def check_experiment(doc: Any) -> list[Problem]:
    """Every problem of a Katib Experiment document for an ENAS or DARTS search; [] if none."""
    checker = FieldChecker()
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
    check_search_space(checker, spec, algorithm)
    resume = spec.get("resumePolicy", "")
    if resume not in RESUME_POLICIES:
        checker.add(
            "spec.resumePolicy", f"must be one of Never, LongRunning, FromVolume, got {resume!r}"
        )
    early = checker.mapping(spec.get("earlyStopping"), "spec.earlyStopping")
    if early is not None:
        checker.string(early.get("algorithmName"), "spec.earlyStopping.algorithmName", True)
    expected = ALGORITHM_ASSIGNMENTS.get(algorithm) if algorithm else None
    check_trial_template(checker, spec.get("trialTemplate"), algorithm, expected)
    check_metrics_collector(checker, spec.get("metricsCollectorSpec"), metric_names)
    return checker.problems


def _check_metadata(checker: FieldChecker, value: Any) -> None:
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


def _check_counts(checker: FieldChecker, spec: Mapping[str, Any]) -> None:
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


def _check_objective(checker: FieldChecker, value: Any) -> list[str]:
    """Check spec.objective; returns the metric names (objective first) for later checks."""
    objective = checker.mapping(value, "spec.objective", required=True)
    if objective is None:
        return []
    kind = objective.get("type")
    if kind not in OBJECTIVE_TYPES:
        checker.add("spec.objective.type", f"must be 'minimize' or 'maximize', got {kind!r}")
    goal = objective.get("goal")
    if goal is not None and (isinstance(goal, bool) or not isinstance(goal, int | float)):
        checker.add("spec.objective.goal", f"must be a number, got {describe(goal)}")
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


def _check_algorithm(checker: FieldChecker, value: Any) -> str | None:
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
            f"'enas' or 'darts'{closest(name, list(ALGORITHM_ASSIGNMENTS))}",
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
    found = primary_container(doc)
    if found is not None and not found[1].get("command"):
        problems.append(
            Problem(
                f"spec.trialTemplate.trialSpec.spec.template.spec.containers[{found[0]}].command",
                "is required locally: the image is not run, so its entrypoint is unknown",
            )
        )
    return problems
