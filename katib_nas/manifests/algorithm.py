"""What the suggestion service will say to ``ValidateAlgorithmSettings``, known before applying.

Katib calls ``ValidateAlgorithmSettings`` once the suggestion pod is up; a refusal fails the
Experiment ("Suggestion has failed"). :func:`check_algorithm` converts the Experiment's
``nasConfig`` to the wire message the controller sends (contract 9.2) and runs the same
validation code the services run on it, without starting a service (and without TensorFlow):

* DARTS: :func:`katib_nas.darts.suggestion.validate`;
* ENAS: :func:`katib_nas.enas.validation.validate_search`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from katib_nas import wire
from katib_nas.errors import InvalidArgument
from katib_nas.runner.experiment import nas_config_from_yaml, nas_config_to_api
from katib_nas.runner.field_checks import Problem
from katib_nas.search_space import NasConfig

Settings = tuple[tuple[str, str], ...]


def _validate_darts(nas: NasConfig, settings: Settings) -> None:
    from katib_nas.darts.suggestion import validate

    validate(nas, settings)


def _validate_enas(nas: NasConfig, settings: Settings) -> None:
    from katib_nas.enas.validation import validate_search

    validate_search(nas, settings)


VALIDATORS: dict[str, Callable[[NasConfig, Settings], None]] = {
    "darts": _validate_darts,
    "enas": _validate_enas,
}


def check_algorithm(doc: Mapping[str, Any]) -> list[Problem]:
    """The service's refusal of a well-formed Experiment, as a problem; [] when it accepts it.

    Call it only on documents :func:`katib_nas.runner.admission.check_experiment` accepts.
    """
    spec = doc["spec"]
    algorithm = spec["algorithm"]
    name = algorithm["algorithmName"]
    items = algorithm.get("algorithmSettings") or []
    settings = tuple((item["name"], item.get("value") or "") for item in items)
    message = nas_config_to_api(nas_config_from_yaml(spec["nasConfig"]))
    nas = wire.nas_config_from_proto(message)
    try:
        VALIDATORS[name](nas, settings)
    except InvalidArgument as refusal:
        return [
            Problem(
                "spec",
                f"the {name} suggestion service refuses this Experiment "
                f"(ValidateAlgorithmSettings): {refusal}",
            )
        ]
    return []
