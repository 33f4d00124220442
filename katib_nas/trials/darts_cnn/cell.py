"""The DARTS search cell: mixed operations on every edge of a small directed acyclic graph.

A cell has two input states, ``s0`` (the output of the cell two back, C_{k-2}) and ``s1`` (the
previous cell, C_{k-1}), and ``num_nodes`` intermediate nodes. Node ``i`` sums one mixed
operation from each of the ``i + 2`` states before it:

    x_i = sum_{j < i + 2} MixedOp_{i,j}(x_j),
    MixedOp_{i,j}(x) = sum_o softmax(alpha_{i,j})_o * o(x)            (Liu et al. 2019, eq. 2)

and the cell's output is the channel concatenation of the intermediate nodes. In a reduction
cell the edges leaving the two input states have stride 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from katib_nas.trials.darts_cnn.ops import FactorizedReduce, ReLUConvBN, build_op


class MixedOp(nn.Module):
    """The weighted sum of every candidate operation on one edge."""

    def __init__(self, primitives: Sequence[str], channels: int, stride: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(build_op(name, channels, stride) for name in primitives)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return sum(w * op(x) for w, op in zip(weights, self.ops, strict=True))  # type: ignore[return-value]


class SearchCell(nn.Module):
    """One normal or reduction cell of the search network."""

    def __init__(
        self,
        primitives: Sequence[str],
        num_nodes: int,
        c_prev_prev: int,
        c_prev: int,
        channels: int,
        reduction: bool,
        reduction_prev: bool,
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.num_nodes = num_nodes

        # Bring both inputs to `channels` channels at this cell's input resolution.
        self.preprocess0: nn.Module
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(c_prev_prev, channels, affine=False)
        else:
            self.preprocess0 = ReLUConvBN(c_prev_prev, channels, 1, 1, 0, affine=False)
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, 1, 0, affine=False)

        self.edges = nn.ModuleList()
        for node in range(num_nodes):
            for source in range(node + 2):
                stride = 2 if reduction and source < 2 else 1
                self.edges.append(MixedOp(primitives, channels, stride))

    def forward(
        self, s0: torch.Tensor, s1: torch.Tensor, weights: Sequence[torch.Tensor]
    ) -> torch.Tensor:
        """``weights[i]`` holds the softmax weights of node ``i``, shape (i + 2, num_ops)."""
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        edge = 0
        for node in range(self.num_nodes):
            node_weights = weights[node]
            total = self.edges[edge](states[0], node_weights[0])
            for source in range(1, node + 2):
                total = total + self.edges[edge + source](states[source], node_weights[source])
            edge += node + 2
            states.append(total)
        return torch.cat(states[2:], dim=1)
