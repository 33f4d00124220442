"""Checks of an Experiment's trial template and metrics collector, as Katib's webhook makes them.

The trial template needs a primary container, trial parameters with unique names and
references, every ``${trialParameters.X}`` of the template declared and every declared parameter
used, and no ``metadata.name``/``namespace``. For a NAS algorithm the parameters must reference
exactly the assignment names the algorithm returns (or trial metadata such as
``${trialSpec.Name}``); Katib's controller cannot create a trial otherwise and retries forever.
The metrics collector needs a known kind, the paths its kind requires, and filters that compile
and have two groups (the metric name, then its value).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from katib_nas.runner.field_checks import FieldChecker, closest

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


def check_trial_template(
    checker: FieldChecker, value: Any, algorithm: str | None, expected: Sequence[str] | None
) -> None:
    """Check spec.trialTemplate; ``expected`` are the assignment names ``algorithm`` returns."""
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
                f"{closest(used, sorted(names))}",
            )
    if algorithm is not None and expected is not None:
        _check_references(checker, references, algorithm, expected)


def _check_references(
    checker: FieldChecker, references: dict[str, str], algorithm: str, expected: Sequence[str]
) -> None:
    """Every assignment the algorithm returns is referenced once, and nothing else is."""
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
                f"{closest(reference, expected)}",
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
    checker: FieldChecker, job: Mapping[str, Any], template: Mapping[str, Any]
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


def _job_containers(checker: FieldChecker, job: Mapping[str, Any]) -> Sequence[Any] | None:
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


def primary_container(doc: Any) -> tuple[int, Mapping[str, Any]] | None:
    """The index and body of the trial Job's primary container; None when there is none."""
    try:
        template = doc["spec"]["trialTemplate"]
        containers = template["trialSpec"]["spec"]["template"]["spec"]["containers"]
        primary = template["primaryContainerName"]
    except (KeyError, TypeError):
        return None
    if not isinstance(containers, Sequence):
        return None
    for index, container in enumerate(containers):
        if isinstance(container, Mapping) and container.get("name") == primary:
            return index, container
    return None


def check_metrics_collector(checker: FieldChecker, value: Any, metric_names: list[str]) -> None:
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
            f"{', '.join(COLLECTOR_KINDS)}{closest(str(kind), COLLECTOR_KINDS)}",
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
