"""Checks of an Experiment's search space, as Katib's webhook makes them, for a NAS algorithm.

Exactly one of ``spec.parameters`` and ``spec.nasConfig`` is given, and ``spec.nasConfig`` for
the NAS algorithms; the graph has ``numLayers >= 1`` and integer sizes; every operation has a
type, and every parameter of an operation follows Katib's rules for a ParameterSpec
(``validateParameters``): a known type and distribution, string bounds and list items, bounds
for ``int`` and ``double``, a list (and no bounds) for ``categorical`` and ``discrete``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_nas.runner.field_checks import FieldChecker

PARAMETER_TYPES = ("double", "int", "discrete", "categorical", "unknown")
DISTRIBUTIONS = ("", "uniform", "logUniform", "normal", "logNormal", "unknown")


def check_search_space(
    checker: FieldChecker, spec: Mapping[str, Any], algorithm: str | None
) -> None:
    """Exactly one of spec.parameters and spec.nasConfig (the latter for a NAS algorithm), and
    the graph and operations of spec.nasConfig."""
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


def _check_operation(checker: FieldChecker, value: Any, path: str) -> None:
    operation = checker.mapping(value, path, required=True)
    if operation is None:
        return
    checker.string(operation.get("operationType"), f"{path}.operationType", required=True)
    parameters = checker.sequence(operation.get("parameters"), f"{path}.parameters") or []
    for j, item in enumerate(parameters):
        _check_parameter(checker, item, f"{path}.parameters[{j}]")


def _check_parameter(checker: FieldChecker, value: Any, path: str) -> None:
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
