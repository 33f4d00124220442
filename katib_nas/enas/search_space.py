"""Operation ids of an ENAS search space, numbered exactly as Katib numbers them.

Every operation of ``nas_config.operations`` expands into one operation id per combination of
its parameters' feasible values. Operations are taken in the order they are declared, the
combinations of one operation in Cartesian-product order with the *last* parameter varying
fastest, and ids are counted from 0 across all operations. For Katib's enas-cpu example this
gives 106 ids: 0-29 ``convolution``, 30-89 ``separable_convolution``, 90-101
``depthwise_convolution`` and 102-105 ``reduction``.

Values keep the JSON type Katib gives them in ``nn_config``: CATEGORICAL values are strings,
INT values are integers. Katib crashes on DOUBLE and DISCRETE parameters; here DOUBLE expands
to ``min, min + step, ...`` up to ``max`` inclusive and DISCRETE to its list as numbers (both
through :func:`katib_nas.search_space.feasible_values`). An operation with no parameters has one
id with empty ``opt_params``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from katib_nas.errors import InvalidArgument
from katib_nas.search_space import NasConfig, OperationSpec, feasible_values

ParamValue = str | int | float


@dataclass(frozen=True)
class Operation:
    """One operation id: an operation type with one value for each of its parameters."""

    opt_id: int
    opt_type: str
    opt_params: tuple[tuple[str, ParamValue], ...]

    def as_json(self) -> dict[str, Any]:
        """The ``nn_config`` embedding entry: ``{opt_id, opt_type, opt_params}`` in that order."""
        return {
            "opt_id": self.opt_id,
            "opt_type": self.opt_type,
            "opt_params": dict(self.opt_params),
        }


def expand_operations(operations: Sequence[OperationSpec]) -> tuple[Operation, ...]:
    """All operation ids of ``operations``, in Katib's order.

    Raises InvalidArgument when an operation expands to no id at all (a parameter without a
    feasible value), since the controller cannot choose among zero operations.
    """
    expanded: list[Operation] = []
    for op in operations:
        names = [p.name for p in op.parameters]
        value_lists = [feasible_values(p) for p in op.parameters]
        before = len(expanded)

        for combination in itertools.product(*value_lists):
            opt_params = tuple(zip(names, combination, strict=True))
            expanded.append(Operation(len(expanded), op.operation_type, opt_params))

        if len(expanded) == before:
            empty = [
                p.name for p, values in zip(op.parameters, value_lists, strict=True) if not values
            ]
            raise InvalidArgument(
                f"operation {op.operation_type!r}: parameter(s) {', '.join(empty)} have no "
                "feasible value, so the operation gives no operation id"
            )
    if not expanded:
        raise InvalidArgument("nas_config.operations is empty: ENAS needs at least one operation")
    return tuple(expanded)


@dataclass(frozen=True)
class SearchSpace:
    """The ENAS search space of one experiment: graph sizes and the expanded operation ids."""

    num_layers: int
    input_sizes: tuple[int, ...]
    output_sizes: tuple[int, ...]
    operations: tuple[Operation, ...]

    @classmethod
    def from_nas_config(cls, nas_config: NasConfig) -> SearchSpace:
        graph = nas_config.graph
        return cls(
            num_layers=graph.num_layers,
            input_sizes=tuple(graph.input_sizes),
            output_sizes=tuple(graph.output_sizes),
            operations=expand_operations(nas_config.operations),
        )

    @property
    def num_operations(self) -> int:
        return len(self.operations)

    @property
    def num_skips(self) -> int:
        """Skip decisions per architecture: layer ``l`` decides about ``l`` earlier layers."""
        return self.num_layers * (self.num_layers - 1) // 2

    def describe(self) -> dict[str, Any]:
        """A JSON-able description (for the state fingerprint and mismatch messages)."""
        return {
            "num_layers": self.num_layers,
            "input_sizes": list(self.input_sizes),
            "output_sizes": list(self.output_sizes),
            "operations": [op.as_json() for op in self.operations],
        }
