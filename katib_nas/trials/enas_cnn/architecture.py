"""Decoding and checking of the ``architecture`` / ``nn_config`` pair an ENAS suggestion sends.

Framework-free: this module turns the two strings into an :class:`Architecture` of typed
:class:`Operation` objects, or raises :class:`ArchitectureError` saying exactly what is wrong.

Format (Katib's ENAS reply, contract section 2.7). ``architecture`` is a JSON list of
``num_layers`` rows; row ``r`` describes network layer ``l = r + 1`` and holds ``l`` integers:
the operation id, then ``l - 1`` skip bits. Skip bit ``i`` connects layer ``i`` to layer
``l``, where layer 0 is the network input; layer ``l - 1`` is always connected. ``nn_config``
is JSON with ``'`` in place of ``"``: ``num_layers``, ``input_sizes`` ``[height, width,
channels]``, ``output_sizes`` (the last entry is the number of classes) and ``embedding``,
mapping ``str(op_id)`` to ``{"opt_id", "opt_type", "opt_params"}``.

Operation parameters missing from ``opt_params`` take Katib's trial defaults (3x3 filters, 64
filters, stride 1, depth multiplier 1, 2x2 max pooling). A parameter this trial does not know
is an error, because a search over it would silently change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from katib_nas import swapped_json

CONVOLUTION = "convolution"
SEPARABLE_CONVOLUTION = "separable_convolution"
DEPTHWISE_CONVOLUTION = "depthwise_convolution"
REDUCTION = "reduction"
MAX_POOLING = "max_pooling"
AVG_POOLING = "avg_pooling"

# Parameters each operation type accepts, with the default used when one is not given.
OPERATION_PARAMETERS: dict[str, dict[str, int | str]] = {
    CONVOLUTION: {"filter_size": 3, "num_filter": 64, "stride": 1},
    SEPARABLE_CONVOLUTION: {
        "filter_size": 3,
        "num_filter": 64,
        "stride": 1,
        "depth_multiplier": 1,
    },
    DEPTHWISE_CONVOLUTION: {"filter_size": 3, "stride": 1, "depth_multiplier": 1},
    REDUCTION: {"reduction_type": MAX_POOLING, "pool_size": 2},
}
REDUCTION_TYPES = (MAX_POOLING, AVG_POOLING)


class ArchitectureError(ValueError):
    """The architecture or nn_config cannot be built; the message says what and where."""


@dataclass(frozen=True)
class Operation:
    """One operation of the search space with every parameter resolved.

    ``num_filter`` is 0 for operation types that keep (depthwise) or do not touch (reduction)
    the channel count; ``pool_size`` and ``reduction_type`` are only meaningful for reductions.
    """

    op_id: int
    op_type: str
    filter_size: int = 3
    num_filter: int = 0
    stride: int = 1
    depth_multiplier: int = 1
    reduction_type: str = MAX_POOLING
    pool_size: int = 2


@dataclass(frozen=True)
class Layer:
    """Network layer ``index`` (1-based): its operation and the layers feeding it."""

    index: int
    operation: Operation
    inputs: tuple[int, ...]  # layer indices, 0 = network input; always ends with index - 1


@dataclass(frozen=True)
class Architecture:
    input_sizes: tuple[int, int, int]
    num_classes: int
    layers: tuple[Layer, ...]


def decode_katib_value(text: str, what: str) -> Any:
    """JSON-decode a value as Katib passes it on the command line.

    Katib replaces every ``"`` with ``'``; a value may also still be wrapped in one pair of
    quotes when the shell did not strip them (for example when the command is not run under
    ``sh -c``). Both are undone here.
    """
    candidate = text.strip()
    for _ in range(3):
        try:
            value = swapped_json.loads(candidate)
        except json.JSONDecodeError as exc:
            unwrapped = _strip_one_quote_pair(candidate)
            if unwrapped is None:
                raise ArchitectureError(f"{what} is not valid JSON ({exc}): {text!r}") from exc
            candidate = unwrapped
            continue
        if isinstance(value, str):  # a JSON string holding the JSON document
            candidate = value.strip()
            continue
        return value
    raise ArchitectureError(f"{what} is quoted too many times: {text!r}")


def _strip_one_quote_pair(text: str) -> str | None:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].strip()
    return None


def parse_architecture(architecture: str, nn_config: str) -> Architecture:
    """Decode and cross-check the two Katib values; raise ArchitectureError when invalid."""
    rows = decode_katib_value(architecture, "architecture")
    config = decode_katib_value(nn_config, "nn_config")
    if not isinstance(config, dict):
        raise ArchitectureError(f"nn_config must be a JSON object, got {type(config).__name__}")

    missing = [
        k for k in ("num_layers", "input_sizes", "output_sizes", "embedding") if k not in config
    ]
    if missing:
        raise ArchitectureError(f"nn_config lacks {', '.join(missing)}")
    num_layers = _positive_int(config["num_layers"], "nn_config num_layers")
    input_sizes = _int_list(config["input_sizes"], "nn_config input_sizes")
    if len(input_sizes) != 3:
        raise ArchitectureError(
            f"nn_config input_sizes must be [height, width, channels], got {input_sizes}"
        )
    output_sizes = _int_list(config["output_sizes"], "nn_config output_sizes")
    if not output_sizes:
        raise ArchitectureError("nn_config output_sizes is empty")
    embedding = config["embedding"]
    if not isinstance(embedding, dict):
        raise ArchitectureError("nn_config embedding must be an object keyed by operation id")

    if not isinstance(rows, list) or len(rows) != num_layers:
        length = len(rows) if isinstance(rows, list) else type(rows).__name__
        raise ArchitectureError(
            f"architecture must be a list of num_layers={num_layers} rows, got {length}"
        )

    operations: dict[int, Operation] = {}
    layers = []
    for row_index, row in enumerate(rows):
        index = row_index + 1
        where = f"architecture row {row_index} (layer {index})"
        if (
            not isinstance(row, list)
            or len(row) != index
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in row)
        ):
            raise ArchitectureError(
                f"{where} must hold {index} integers (operation id and {index - 1} skip bits), "
                f"got {row!r}"
            )
        op_id, skips = row[0], row[1:]
        if any(bit not in (0, 1) for bit in skips):
            raise ArchitectureError(f"{where} has skip bits other than 0 and 1: {skips}")
        if op_id not in operations:
            if str(op_id) not in embedding:
                known = ", ".join(sorted(embedding, key=_numeric_first))
                raise ArchitectureError(
                    f"{where} uses operation id {op_id}, which nn_config embedding lacks "
                    f"(it has {known or 'none'})"
                )
            operations[op_id] = parse_operation(op_id, embedding[str(op_id)])
        inputs = (*(i for i, bit in enumerate(skips) if bit == 1), index - 1)
        layers.append(Layer(index=index, operation=operations[op_id], inputs=inputs))

    height, width, channels = input_sizes
    return Architecture((height, width, channels), output_sizes[-1], tuple(layers))


def parse_operation(op_id: int, entry: Any) -> Operation:
    """Resolve one ``embedding`` entry to an :class:`Operation` with every parameter set."""
    where = f"nn_config embedding[{str(op_id)!r}]"
    if not isinstance(entry, dict) or "opt_type" not in entry:
        raise ArchitectureError(f"{where} must be an object with opt_type and opt_params")
    if "opt_id" in entry and entry["opt_id"] != op_id and str(entry["opt_id"]) != str(op_id):
        raise ArchitectureError(f"{where} has opt_id {entry['opt_id']!r}, not {op_id}")
    op_type = entry["opt_type"]
    if op_type not in OPERATION_PARAMETERS:
        raise ArchitectureError(
            f"{where} has unknown opt_type {op_type!r}; this trial builds "
            f"{', '.join(OPERATION_PARAMETERS)}"
        )
    params = entry.get("opt_params") or {}
    if not isinstance(params, Mapping):
        raise ArchitectureError(f"{where} opt_params must be an object, got {params!r}")

    allowed = OPERATION_PARAMETERS[op_type]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ArchitectureError(
            f"{where} ({op_type}) has unknown parameter(s) {', '.join(unknown)}; "
            f"{op_type} takes {', '.join(allowed)}"
        )
    resolved: dict[str, Any] = {}
    for name, default in allowed.items():
        value = params.get(name, default)
        if name == "reduction_type":
            if value not in REDUCTION_TYPES:
                raise ArchitectureError(
                    f"{where} reduction_type is {value!r}; use one of {', '.join(REDUCTION_TYPES)}"
                )
            resolved[name] = value
        else:
            resolved[name] = _positive_int(value, f"{where} {name}")
    return Operation(op_id=op_id, op_type=op_type, **resolved)


def _positive_int(value: Any, what: str) -> int:
    """Accept 3, "3", 3.0 or "3.0" (Katib sends categorical values as strings)."""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    else:
        try:
            as_float = float(value)
        except (TypeError, ValueError):
            number = None
        else:
            number = int(as_float) if as_float.is_integer() else None
    if number is None or number < 1:
        raise ArchitectureError(f"{what} must be a positive integer, got {value!r}")
    return number


def _int_list(value: Any, what: str) -> list[int]:
    if not isinstance(value, list):
        raise ArchitectureError(f"{what} must be a list of positive integers, got {value!r}")
    return [_positive_int(v, f"{what}[{i}]") for i, v in enumerate(value)]


def _numeric_first(key: str) -> tuple[int, str]:
    return (int(key), key) if key.isdigit() else (1 << 62, key)
