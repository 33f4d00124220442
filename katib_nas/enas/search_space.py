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

Two bounds keep a mistyped search space from taking the service down (both are counted before
anything is built):

* at most :data:`MAX_OPERATION_IDS` operation ids in all. The controller holds an embedding and
  a softmax row per id, with Adam's two moments each (``6 H N`` floats for hidden size ``H``);
  a product of a few wide parameters reaches millions of ids and gigabytes, and a policy over
  that many choices cannot learn from the few hundred trials an experiment runs.
* at most :data:`MAX_NUM_LAYERS` layers. The ``architecture`` string has ``L (L + 1) / 2``
  numbers; for 256 layers and 3-digit ids it is about 100 KB, while Linux refuses a single
  command-line argument over 128 KiB, so the trial of a deeper network could not even be
  started (and sampling 20,000 layers takes gigabytes).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from katib_nas.errors import InvalidArgument
from katib_nas.search_space import NasConfig, OperationSpec, feasible_values

ParamValue = str | int | float

MAX_OPERATION_IDS = 10_000
MAX_NUM_LAYERS = 256


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
        if before + math.prod(len(values) for values in value_lists) > MAX_OPERATION_IDS:
            raise InvalidArgument(
                f"operation {op.operation_type!r}: the operations up to this one give "
                f"{before + math.prod(len(values) for values in value_lists):,} operation ids "
                f"(every combination of their parameters' values); at most {MAX_OPERATION_IDS} "
                "are allowed"
            )

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
        if graph.num_layers > MAX_NUM_LAYERS:
            raise InvalidArgument(
                f"graphConfig: numLayers {graph.num_layers} is more than ENAS allows "
                f"({MAX_NUM_LAYERS}): the architecture of a deeper network does not fit in the "
                "trial's command line"
            )
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
