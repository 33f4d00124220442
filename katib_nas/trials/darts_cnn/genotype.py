"""The discrete architecture read off the alphas, and its text form for Katib.

For each node of a cell, each incoming edge (i, j) gets the softmax weights of its primitives,
p_{i,j} = softmax(alpha_{i,j}) over all primitives including ``none``. The edge's candidate is
its strongest primitive other than ``none`` and the edge's strength is that weight; the node
keeps its ``k = 2`` strongest edges (Liu et al. 2019, section 2.4). Ranking by softmax weights
rather than raw alphas matters: a large ``none`` alpha on an edge shrinks every other weight of
that edge, which raw alphas do not show.

Input index 0 is the cell two back (C_{k-2}), 1 the previous cell (C_{k-1}), and 2, 3, ...
the earlier nodes of the same cell. ``str(genotype)`` is Katib's format, with no spaces:

    Genotype(normal=[[('max_pooling_3x3',0),('skip_connection',1)],...],
             normal_concat=range(2,N),reduce=[...],reduce_concat=range(2,N))

(on one line), N = 2 + number of nodes. ``reduce`` is ``[]`` for a network without reduction
cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from katib_nas.darts.primitives import NONE

Node = tuple[tuple[str, int], ...]
EDGES_PER_NODE = 2


@dataclass(frozen=True)
class Genotype:
    """The chosen edges of the normal and reduction cells."""

    normal: tuple[Node, ...]
    reduce: tuple[Node, ...]
    num_nodes: int

    @property
    def concat(self) -> range:
        return range(2, 2 + self.num_nodes)

    def __str__(self) -> str:
        concat = f"range({self.concat.start},{self.concat.stop})"
        return (
            f"Genotype(normal={_format_cell(self.normal)},normal_concat={concat},"
            f"reduce={_format_cell(self.reduce)},reduce_concat={concat})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "normal": [[list(edge) for edge in node] for node in self.normal],
            "normal_concat": list(self.concat),
            "reduce": [[list(edge) for edge in node] for node in self.reduce],
            "reduce_concat": list(self.concat),
            "katib": str(self),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Genotype:
        def cell(nodes: list[list[list[Any]]]) -> tuple[Node, ...]:
            return tuple(tuple((str(op), int(src)) for op, src in node) for node in nodes)

        return cls(cell(data["normal"]), cell(data["reduce"]), len(data["normal_concat"]))


def _format_cell(nodes: Sequence[Node]) -> str:
    return (
        "["
        + ",".join("[" + ",".join(f"('{op}',{src})" for op, src in node) + "]" for node in nodes)
        + "]"
    )


def parse_cell(alphas: Sequence[torch.Tensor], primitives: Sequence[str]) -> tuple[Node, ...]:
    """The top-2 edges of every node, ranked by per-edge softmax weight, ``none`` excluded."""
    if NONE not in primitives:
        raise ValueError(f"primitives must include {NONE!r}: {list(primitives)}")
    none_index = primitives.index(NONE)
    nodes = []
    for node_alpha in alphas:
        weights = torch.softmax(node_alpha.detach().float(), dim=-1)
        weights[:, none_index] = -1.0  # never chosen
        best_weight, best_op = weights.max(dim=-1)
        if len(best_weight) < EDGES_PER_NODE:
            raise ValueError(f"a node needs at least {EDGES_PER_NODE} inputs")
        # Strongest edge first, as Katib lists them; ties go to the earlier input.
        order = sorted(range(len(best_weight)), key=lambda j: -float(best_weight[j]))
        chosen = order[:EDGES_PER_NODE]
        nodes.append(tuple((primitives[int(best_op[j])], j) for j in chosen))
    return tuple(nodes)


def derive_genotype(
    alpha_normal: Sequence[torch.Tensor],
    alpha_reduce: Sequence[torch.Tensor],
    primitives: Sequence[str],
) -> Genotype:
    """Read the discrete architecture off both cell types' alphas."""
    return Genotype(
        normal=parse_cell(alpha_normal, primitives),
        reduce=parse_cell(alpha_reduce, primitives),
        num_nodes=len(alpha_normal),
    )
