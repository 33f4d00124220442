"""The two strings an ENAS suggestion carries: ``architecture`` and ``nn_config``.

``architecture`` is ``json.dumps`` of one row per layer, ``[op_id, skip_0, ..., skip_{l-1}]``
for layer ``l`` (row ``l`` has ``l + 1`` integers), with the default separators, e.g.
``[[2], [1, 1], [2, 1, 1]]``.

``nn_config`` is ``json.dumps`` of ``{num_layers, input_sizes, output_sizes, embedding}`` with
every ``"`` replaced by ``'`` (Katib substitutes the value textually into a JSON trial template
and runs it under ``sh -c``, where a double quote would break both). ``embedding`` maps
``str(op_id)`` to ``{opt_id, opt_type, opt_params}`` for the operation ids the architecture
uses, in order of first use by layer. Validation rejects values containing quotes, so the swap
loses nothing. Both are byte-identical to what Katib's service writes for the same architecture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from katib_nas import swapped_json
from katib_nas.enas.search_space import SearchSpace

# The assignments of one ENAS suggestion, in the order the service returns them.
ASSIGNMENT_NAMES = ("architecture", "nn_config")


@dataclass(frozen=True)
class Architecture:
    """One operation id per layer and, for layer ``l``, ``l`` skip bits to layers ``0..l-1``."""

    ops: tuple[int, ...]
    skips: tuple[tuple[int, ...], ...]

    def rows(self) -> list[list[int]]:
        return [[op, *bits] for op, bits in zip(self.ops, self.skips, strict=True)]

    @property
    def skip_count(self) -> int:
        return sum(sum(bits) for bits in self.skips)


class ArchitectureError(ValueError):
    """An ``architecture`` string that does not describe an architecture of the search space."""


def format_architecture(arc: Architecture) -> str:
    return json.dumps(arc.rows())


def format_nn_config(space: SearchSpace, arc: Architecture) -> str:
    embedding: dict[str, Any] = {}
    for op_id in arc.ops:
        if str(op_id) not in embedding:
            embedding[str(op_id)] = space.operations[op_id].as_json()
    config = {
        "num_layers": space.num_layers,
        "input_sizes": list(space.input_sizes),
        "output_sizes": list(space.output_sizes),
        "embedding": embedding,
    }
    return swapped_json.dumps(config)


def assignments(space: SearchSpace, arc: Architecture) -> list[tuple[str, str]]:
    """The (name, value) pairs of one suggestion, named as :data:`ASSIGNMENT_NAMES`."""
    values = (format_architecture(arc), format_nn_config(space, arc))
    return list(zip(ASSIGNMENT_NAMES, values, strict=True))


def parse_architecture(text: str, space: SearchSpace) -> Architecture:
    """Read an ``architecture`` string back, checking it against ``space``.

    Raises ArchitectureError saying what is wrong and where: not JSON, not a list of
    ``num_layers`` rows, a row of the wrong length, a non-integer entry, an operation id out of
    range, or a skip bit other than 0 or 1.
    """
    try:
        rows = swapped_json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchitectureError(f"architecture is not JSON ({exc.msg} at {exc.pos})") from exc
    except RecursionError:
        # json's decoder recurses once per nesting level; a client may send any depth.
        raise ArchitectureError("architecture is nested too deeply to be a list of rows") from None
    if not isinstance(rows, list):
        raise ArchitectureError(f"architecture must be a list of rows, got {type(rows).__name__}")
    if len(rows) != space.num_layers:
        raise ArchitectureError(
            f"architecture has {len(rows)} rows, the search space has {space.num_layers} layers"
        )

    ops: list[int] = []
    skips: list[tuple[int, ...]] = []
    for layer, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != layer + 1:
            raise ArchitectureError(
                f"architecture row {layer} must be a list of {layer + 1} integers, got {row!r}"
            )
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in row):
            raise ArchitectureError(f"architecture row {layer} has a non-integer entry: {row!r}")
        op, *bits = row
        if not 0 <= op < space.num_operations:
            raise ArchitectureError(
                f"architecture row {layer}: operation id {op} is outside "
                f"0..{space.num_operations - 1}"
            )
        if any(b not in (0, 1) for b in bits):
            raise ArchitectureError(f"architecture row {layer}: skip bits must be 0 or 1: {row!r}")
        ops.append(op)
        skips.append(tuple(bits))
    return Architecture(tuple(ops), tuple(skips))
