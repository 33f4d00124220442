"""The DARTS suggestion: validate the search space and format the one-shot trial's inputs.

DARTS searches inside a single trial, so every suggestion is the same three assignments, in
Katib's order and formats (contract 3.3): ``algorithm-settings`` (a JSON object with ``'`` for
``"``: defaults as numbers, the user's values as the strings they sent, ``"None"`` as
``null``), ``search-space`` (the primitive names) and ``num-layers`` (a decimal string).
"""

from __future__ import annotations

from typing import Any

from katib_nas import swapped_json
from katib_nas.darts.primitives import (
    SKIP_CONNECTION,
    SUPPORTED_PRIMITIVES,
    is_supported,
    primitive_name,
)
from katib_nas.darts.settings import DARTS_SETTINGS
from katib_nas.errors import InvalidArgument
from katib_nas.search_space import (
    NasConfig,
    feasible_values,
    validate_num_layers,
    validate_operations,
)
from katib_nas.settings import parse_settings
from katib_nas.wire import Assignments

# The assignments of every DARTS suggestion, in the order the service returns them.
ASSIGNMENT_NAMES = ("algorithm-settings", "search-space", "num-layers")


def validate(nas: NasConfig, settings: tuple[tuple[str, str], ...]) -> None:
    validate_operations(nas.operations)
    validate_num_layers(nas.graph)
    search_space(nas)
    parse_settings(DARTS_SETTINGS, settings)


def search_space(nas: NasConfig) -> list[str]:
    """Primitive names, in declared order, as Katib names them (contract 3.2).

    ``skip_connection`` stands alone; any other operation takes the values of its first
    parameter as kernel sizes. Every name must be one the trial can build.
    """
    primitives: list[str] = []
    for index, operation in enumerate(nas.operations):
        where = f'operation {index} "{operation.operation_type}"'
        if operation.operation_type == SKIP_CONNECTION:
            names = [SKIP_CONNECTION]
        elif not operation.parameters:
            raise InvalidArgument(
                f"{where}: needs a kernel-size parameter (for example filter_size with "
                'list ["3"]); only skip_connection takes none'
            )
        else:
            first = operation.parameters[0]
            if first.parameter_type == "double":
                raise InvalidArgument(
                    f'{where}, parameter "{first.name}": kernel sizes must be whole numbers, '
                    "use categorical, discrete or int"
                )
            names = [primitive_name(operation.operation_type, v) for v in feasible_values(first)]
        for name in names:
            if not is_supported(name):
                raise InvalidArgument(
                    f'{where}: primitive "{name}" is not supported by the DARTS trial; '
                    f"supported primitives: {', '.join(SUPPORTED_PRIMITIVES)}"
                )
            if name in primitives:
                raise InvalidArgument(f'{where}: primitive "{name}" is listed twice')
            primitives.append(name)
    return primitives


def settings_json_object(settings: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Katib's mix of types: defaults as numbers, user values verbatim, "None" as null."""
    values: dict[str, Any] = {setting.name: setting.default for setting in DARTS_SETTINGS}
    for name, raw in settings:
        values[name] = None if raw == "None" else raw
    return values


def suggestions(
    nas: NasConfig, settings: tuple[tuple[str, str], ...], count: int
) -> list[Assignments]:
    """``count`` identical suggestions for a validated experiment."""
    values = (
        swapped_json.dumps(settings_json_object(settings)),
        swapped_json.dumps(search_space(nas)),
        str(nas.graph.num_layers),
    )
    entry = list(zip(ASSIGNMENT_NAMES, values, strict=True))
    return [list(entry) for _ in range(count)]
