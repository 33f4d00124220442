"""What the suggestion service will say to ``ValidateAlgorithmSettings``, known before applying.

Katib calls ``ValidateAlgorithmSettings`` once the suggestion pod is up; a refusal fails the
Experiment ("Suggestion has failed"). :func:`check_algorithm` converts the Experiment's
``nasConfig`` to the wire message the controller sends (contract 9.2) and runs the same
validation code the services run on it, without starting a service (and without TensorFlow):

* DARTS: :func:`katib_nas.darts.suggestion.validate`;
* ENAS: the graph and operation checks, the expansion into operation ids and the settings table,
  in the order ``katib_nas.enas.service`` applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from katib_nas import wire
from katib_nas.api import api_pb2
from katib_nas.errors import InvalidArgument
from katib_nas.runner.admission import Problem
from katib_nas.search_space import NasConfig, validate_graph, validate_operations

_PARAMETER_TYPES = {
    "double": api_pb2.DOUBLE,
    "int": api_pb2.INT,
    "discrete": api_pb2.DISCRETE,
    "categorical": api_pb2.CATEGORICAL,
}

Settings = tuple[tuple[str, str], ...]


def _validate_darts(nas: NasConfig, settings: Settings) -> None:
    from katib_nas.darts.suggestion import validate

    validate(nas, settings)


def _validate_enas(nas: NasConfig, settings: Settings) -> None:
    from katib_nas.enas.search_space import SearchSpace
    from katib_nas.enas.settings import parse_enas_settings

    validate_graph(nas.graph)
    validate_operations(nas.operations)
    SearchSpace.from_nas_config(nas)
    parse_enas_settings(settings)


VALIDATORS: dict[str, Callable[[NasConfig, Settings], None]] = {
    "darts": _validate_darts,
    "enas": _validate_enas,
}


def nas_config_message(nas: Mapping[str, Any]) -> api_pb2.NasConfig:
    """The ``NasConfig`` message Katib's ConvertExperiment builds from the YAML's nasConfig."""
    message = api_pb2.NasConfig()
    graph = nas.get("graphConfig") or {}
    message.graph_config.num_layers = graph.get("numLayers") or 0
    message.graph_config.input_sizes.extend(graph.get("inputSizes") or [])
    message.graph_config.output_sizes.extend(graph.get("outputSizes") or [])
    message.operations.SetInParent()
    for operation in nas.get("operations") or []:
        entry = message.operations.operation.add(operation_type=operation["operationType"])
        entry.parameter_specs.SetInParent()
        for parameter in operation.get("parameters") or []:
            space = parameter.get("feasibleSpace") or {}
            entry.parameter_specs.parameters.add(
                name=parameter["name"],
                parameter_type=_PARAMETER_TYPES.get(
                    parameter.get("parameterType", ""), api_pb2.UNKNOWN_TYPE
                ),
                feasible_space=api_pb2.FeasibleSpace(
                    max=space.get("max") or "",
                    min=space.get("min") or "",
                    step=space.get("step") or "",
                    list=list(space.get("list") or []),
                ),
            )
    return message


def check_algorithm(doc: Mapping[str, Any]) -> list[Problem]:
    """The service's refusal of a well-formed Experiment, as a problem; [] when it accepts it.

    Call it only on documents :func:`katib_nas.runner.admission.check_experiment` accepts.
    """
    spec = doc["spec"]
    algorithm = spec["algorithm"]
    name = algorithm["algorithmName"]
    items = algorithm.get("algorithmSettings") or []
    settings = tuple((item["name"], item.get("value") or "") for item in items)
    nas = wire.nas_config_from_proto(nas_config_message(spec["nasConfig"]))
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
