"""The NAS search space as plain data, and the checks every algorithm runs on it.

``NasConfig`` mirrors the ``nasConfig`` of a Katib Experiment. The checks are those of Katib's
``validate_operations`` (contract 2.3) plus the ones Katib lacks (DECISIONS): ``min > max``, an
INT without a positive step, numbers that do not parse, and values with characters that cannot
survive Katib's trial templating. An operation with no parameters is accepted. Every error names
the operation, the parameter and what is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from katib_nas.errors import InvalidArgument

CATEGORICAL = "categorical"
INT = "int"
DOUBLE = "double"
DISCRETE = "discrete"
UNKNOWN = "unknown"
PARAMETER_TYPES = (CATEGORICAL, INT, DOUBLE, DISCRETE)

# A parameter's feasible values are enumerated (and, for ENAS, multiplied with the other
# parameters'); a space larger than this is a mistake, and enumerating it would exhaust memory.
MAX_VALUES_PER_PARAMETER = 10_000
# ENAS turns every combination of an operation's parameter values into one operation id, and
# its controller holds weights per id and per layer; beyond these sizes a request only costs
# memory and time (numbers of this size come from typos, not from real search spaces).
MAX_COMBINATIONS = 10_000
MAX_NUM_LAYERS = 100

# Katib substitutes values textually into a JSON trial template and runs the command under
# `sh -c` (contract 9.3), so these characters would corrupt the trial's command line.
FORBIDDEN_CHARACTERS = "'\"\\$`"

Value = str | int | float


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    parameter_type: str
    min: str = ""
    max: str = ""
    step: str = ""
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperationSpec:
    operation_type: str
    parameters: tuple[ParameterSpec, ...] = ()


@dataclass(frozen=True)
class GraphConfig:
    num_layers: int = 0
    input_sizes: tuple[int, ...] = ()
    output_sizes: tuple[int, ...] = ()


@dataclass(frozen=True)
class NasConfig:
    graph: GraphConfig = field(default_factory=GraphConfig)
    operations: tuple[OperationSpec, ...] = ()


def validate_graph(graph: GraphConfig) -> None:
    """The graph checks of Katib's ENAS service, with negative sizes rejected too."""
    if not graph.input_sizes:
        raise InvalidArgument("graphConfig: missing inputSizes (for example [32, 32, 3])")
    if not graph.output_sizes:
        raise InvalidArgument("graphConfig: missing outputSizes (for example [10])")
    validate_num_layers(graph)
    for what, sizes in (("inputSizes", graph.input_sizes), ("outputSizes", graph.output_sizes)):
        if any(size <= 0 for size in sizes):
            raise InvalidArgument(
                f"graphConfig: every {what} entry must be >= 1, got {list(sizes)}"
            )


def validate_num_layers(graph: GraphConfig) -> None:
    if graph.num_layers < 1:
        raise InvalidArgument(f"graphConfig: numLayers must be >= 1, got {graph.num_layers}")
    if graph.num_layers > MAX_NUM_LAYERS:
        raise InvalidArgument(
            f"graphConfig: numLayers must be <= {MAX_NUM_LAYERS}, got {graph.num_layers}"
        )


def validate_operations(operations: tuple[OperationSpec, ...]) -> None:
    """Every operation and parameter check; the first failure, in declared order, is raised.

    The operations may hold at most ``MAX_COMBINATIONS`` combinations of parameter values in
    all (the product of the value counts of each operation's parameters, summed).
    """
    if not operations:
        raise InvalidArgument("nasConfig: operations is empty; declare at least one operation")
    combinations = 0.0
    for index, operation in enumerate(operations):
        where = f"operation {index}"
        if not operation.operation_type:
            raise InvalidArgument(f"{where}: missing operationType")
        where = f'operation {index} "{operation.operation_type}"'
        _check_text(where, "operationType", operation.operation_type)
        product = 1.0
        for parameter in operation.parameters:
            product *= validate_parameter(where, parameter)
        combinations += product
        if combinations > MAX_COMBINATIONS:
            raise InvalidArgument(
                f"{where}: the operations up to here combine their parameter values in "
                f"{combinations:.4g} ways, more than the {MAX_COMBINATIONS} allowed; "
                "use fewer values"
            )


def validate_parameter(where: str, parameter: ParameterSpec) -> float:
    """Check one parameter; returns how many values it takes."""
    if not parameter.name:
        raise InvalidArgument(f"{where}: a parameter has no name")
    where = f'{where}, parameter "{parameter.name}"'
    _check_text(where, "name", parameter.name)
    kind = parameter.parameter_type
    if kind not in PARAMETER_TYPES:
        raise InvalidArgument(
            f"{where}: missing or unknown parameterType {kind!r}; "
            f"use one of {', '.join(PARAMETER_TYPES)}"
        )
    if kind in (CATEGORICAL, DISCRETE):
        if not parameter.values:
            raise InvalidArgument(f"{where}: {kind} parameter needs feasibleSpace.list")
        _check_count(where, len(parameter.values))
        for value in parameter.values:
            _check_text(where, "feasibleSpace.list value", value)
        if kind == DISCRETE:
            for value in parameter.values:
                _parse_number(where, "feasibleSpace.list value", value, float)
        return len(parameter.values)
    if not parameter.min and not parameter.max:
        raise InvalidArgument(f"{where}: {kind} parameter needs feasibleSpace.min and max")
    number: type = int if kind == INT else float
    low = _parse_number(where, "feasibleSpace.min", parameter.min, number)
    high = _parse_number(where, "feasibleSpace.max", parameter.max, number)
    if low > high:
        raise InvalidArgument(f"{where}: feasibleSpace.min {low} is greater than max {high}")
    if not parameter.step:
        raise InvalidArgument(f"{where}: {kind} parameter needs feasibleSpace.step > 0")
    step = _parse_number(where, "feasibleSpace.step", parameter.step, number)
    if step <= 0:
        raise InvalidArgument(f"{where}: feasibleSpace.step must be > 0, got {parameter.step!r}")
    # The count feasible_values will enumerate, without overflowing when (max - min) / step
    # is astronomically large.
    span = (high - low) / step
    count = math.floor(span + 1e-9) + 1 if span <= MAX_VALUES_PER_PARAMETER else span
    _check_count(where, count)
    return count


def feasible_values(parameter: ParameterSpec) -> list[Value]:
    """The values a validated parameter can take, in Katib's order (contract 2.1, DECISIONS).

    CATEGORICAL: the list as strings. INT: ``range(min, max + 1, step)``. DOUBLE: ``min``,
    ``min + step``, ... up to ``max`` inclusive, with a relative tolerance so that float
    accumulation neither drops nor overshoots the last value. DISCRETE: the list as numbers.
    """
    kind = parameter.parameter_type
    if kind == CATEGORICAL:
        return list(parameter.values)
    if kind == DISCRETE:
        return [_as_number(value) for value in parameter.values]
    if kind == INT:
        return list(range(int(parameter.min), int(parameter.max) + 1, int(parameter.step)))
    low, high, step = float(parameter.min), float(parameter.max), float(parameter.step)
    count = math.floor((high - low) / step + 1e-9) + 1
    return [float(f"{low + k * step:.12g}") for k in range(count)]


def _check_text(where: str, what: str, text: str) -> None:
    # Not printable: C0 and C1 controls, separators other than the space, unassigned code points.
    bad = [c for c in text if c in FORBIDDEN_CHARACTERS or not c.isprintable()]
    if bad:
        raise InvalidArgument(
            f"{where}: {what} {text!r} contains {bad[0]!r}; quotes, backslashes, '$', "
            "backticks and control characters cannot survive Katib's trial templating"
        )


def _check_count(where: str, count: float) -> None:
    if count > MAX_VALUES_PER_PARAMETER:
        raise InvalidArgument(
            f"{where}: feasibleSpace holds {count:.4g} values, more than the "
            f"{MAX_VALUES_PER_PARAMETER} a parameter may have; narrow it or use a larger step"
        )


def _parse_number(where: str, what: str, text: str, number: type) -> float:
    try:
        value = float(number(text.strip()))
    except ValueError:
        raise InvalidArgument(
            f"{where}: {what} {text!r} is not a valid {number.__name__}"
        ) from None
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise InvalidArgument(f"{where}: {what} {text!r} is not a finite number")
    return value


def _as_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
