"""The shape of Katib's v1beta1 Experiment as data: field names and JSON types, nothing more.

Katib's CRD declares its schema as ``x-kubernetes-preserve-unknown-fields``, so the API server
accepts any field: a misspelt ``parallelTrialCounts`` is stored and then silently ignored, and a
number where Katib's Go types hold a string (``min: 2``) only fails later, when the controller
decodes the object. :data:`EXPERIMENT_SCHEMA` writes down the Go types of
``pkg/apis/controller/experiments/v1beta1`` (their JSON names, contract section 7) as a JSON
Schema, and :func:`check_shape` reports every field that is not one of them, with the closest
valid name, and every value of the wrong JSON type.

The schema is closed (``additionalProperties: false``) wherever Katib's own types end; objects
that are Kubernetes types of their own (metadata, the trial's Job, an HTTP probe, a custom
collector container) are left open, since the API server checks them. What the values must be
(counts greater than zero, the algorithm's names, the template's placeholders) is the business
of :mod:`katib_nas.runner.admission`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from katib_nas.runner.field_checks import Problem, closest, describe

# Go's JSON decoder leaves a field at its zero value for `null`, so every type admits null.
_STRING: dict[str, Any] = {"type": ["string", "null"]}
_INTEGER: dict[str, Any] = {"type": ["integer", "null"]}
_NUMBER: dict[str, Any] = {"type": ["number", "null"]}
_BOOLEAN: dict[str, Any] = {"type": ["boolean", "null"]}
_OPEN_OBJECT: dict[str, Any] = {"type": ["object", "null"]}


def _strings() -> dict[str, Any]:
    return {"type": ["array", "null"], "items": _STRING}


def _closed(**properties: Any) -> dict[str, Any]:
    """An object with exactly these optional properties."""
    return {"type": ["object", "null"], "properties": properties, "additionalProperties": False}


def _list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": ["array", "null"], "items": item}


_NAME_VALUE = _closed(name=_STRING, value=_STRING)

_PARAMETER_SPEC = _closed(
    name=_STRING,
    parameterType=_STRING,
    feasibleSpace=_closed(
        max=_STRING, min=_STRING, list=_strings(), step=_STRING, distribution=_STRING
    ),
)

_OBJECTIVE = _closed(
    type=_STRING,
    goal=_NUMBER,
    objectiveMetricName=_STRING,
    additionalMetricNames=_strings(),
    metricStrategies=_list_of(_NAME_VALUE),
)

_ALGORITHM = _closed(algorithmName=_STRING, algorithmSettings=_list_of(_NAME_VALUE))

_EARLY_STOPPING = _closed(algorithmName=_STRING, algorithmSettings=_list_of(_NAME_VALUE))

_TRIAL_TEMPLATE = _closed(
    retain=_BOOLEAN,
    trialSpec=_OPEN_OBJECT,
    configMap=_closed(configMapName=_STRING, configMapNamespace=_STRING, templatePath=_STRING),
    trialParameters=_list_of(_closed(name=_STRING, description=_STRING, reference=_STRING)),
    primaryPodLabels={"type": ["object", "null"], "additionalProperties": _STRING},
    primaryContainerName=_STRING,
    successCondition=_STRING,
    failureCondition=_STRING,
)

_METRICS_COLLECTOR = _closed(
    source=_closed(
        httpGet=_OPEN_OBJECT,
        fileSystemPath=_closed(path=_STRING, kind=_STRING, format=_STRING),
        filter=_closed(metricsFormat=_strings()),
    ),
    collector=_closed(kind=_STRING, customCollector=_OPEN_OBJECT),
)

_NAS_CONFIG = _closed(
    graphConfig=_closed(
        numLayers=_INTEGER, inputSizes=_list_of(_INTEGER), outputSizes=_list_of(_INTEGER)
    ),
    operations=_list_of(
        _closed(operationType=_STRING, parameters=_list_of(_PARAMETER_SPEC)),
    ),
)

EXPERIMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Katib v1beta1 Experiment (kubeflow.org/v1beta1, kind Experiment)",
    **_closed(
        apiVersion=_STRING,
        kind=_STRING,
        metadata=_OPEN_OBJECT,
        spec=_closed(
            parameters=_list_of(_PARAMETER_SPEC),
            objective=_OBJECTIVE,
            algorithm=_ALGORITHM,
            earlyStopping=_EARLY_STOPPING,
            trialTemplate=_TRIAL_TEMPLATE,
            parallelTrialCount=_INTEGER,
            maxTrialCount=_INTEGER,
            maxFailedTrialCount=_INTEGER,
            metricsCollectorSpec=_METRICS_COLLECTOR,
            nasConfig=_NAS_CONFIG,
            resumePolicy=_STRING,
        ),
        status=_OPEN_OBJECT,
    ),
}

_VALIDATOR = Draft202012Validator(EXPERIMENT_SCHEMA)

_JSON_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
}


def check_shape(doc: Any) -> list[Problem]:
    """Every unknown field and every value of the wrong type in an Experiment document."""
    problems: list[Problem] = []
    errors = sorted(_VALIDATOR.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        problems.extend(_problems_of(error))
    return problems


def _problems_of(error: ValidationError) -> list[Problem]:
    path = yaml_path(error.absolute_path)
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        return [
            Problem(
                yaml_path([*error.absolute_path, name]),
                f"is not a field of Katib's v1beta1 Experiment{closest(name, known)}; "
                f"the fields here are {', '.join(known)}",
            )
            for name in unknown
        ]
    if error.validator == "type":
        kinds = [k for k in error.validator_value if k != "null"]
        wanted = " or ".join(_JSON_TYPE_WORDS.get(k, k) for k in kinds)
        return [Problem(path, f"must be {wanted}, got {_describe(error.instance)}")]
    return [Problem(path, error.message)]


def yaml_path(parts: Sequence[str | int] | Any) -> str:
    """``spec.trialTemplate.trialParameters[0].name`` from a JSON-pointer-like sequence."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _describe(value: Any) -> str:
    """What ``value`` is; a number gets the hint that YAML needs quotes for a string."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return describe(value) + ("; quote it if a string is meant" if is_number else "")
