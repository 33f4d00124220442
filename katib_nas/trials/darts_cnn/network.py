"""The DARTS search network and, separately, its architecture weights (the alphas).

``SearchNetwork`` holds only the operation weights w: a 3 x 3 convolution stem, ``num_layers``
cells (reduction cells, which halve the resolution and double the channels, at one and two
thirds of the depth) and a linear classifier on globally pooled features. Its ``forward``
takes the alphas as an argument, so ``SearchNetwork.parameters()`` is exactly the set the
weight optimizer trains, and DistributedDataParallel only ever synchronises weights.

``Alphas`` holds the architecture weights alpha: for each of the normal and reduction cell
types, one tensor per node of shape (node + 2, number of primitives), initialised as
1e-3 * N(0, 1) as in the paper. The network turns them into mixing weights with a softmax over
each edge's primitives.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from katib_nas.trials.darts_cnn.cell import SearchCell


def reduction_layers(num_layers: int) -> frozenset[int]:
    """Indices of the reduction cells: none for one cell, the second of two, else L/3, 2L/3."""
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    if num_layers == 1:
        return frozenset()
    if num_layers == 2:
        return frozenset({1})
    return frozenset({num_layers // 3, 2 * num_layers // 3})


class Alphas(nn.Module):
    """The architecture weights of the normal and reduction cells."""

    def __init__(self, num_nodes: int, num_ops: int, has_reduction: bool) -> None:
        super().__init__()
        self.normal = nn.ParameterList(
            nn.Parameter(1e-3 * torch.randn(node + 2, num_ops)) for node in range(num_nodes)
        )
        self.reduce = nn.ParameterList(
            nn.Parameter(1e-3 * torch.randn(node + 2, num_ops))
            for node in range(num_nodes if has_reduction else 0)
        )

    def tensors(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        return list(self.normal), list(self.reduce)

    def detached(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        return [a.detach() for a in self.normal], [a.detach() for a in self.reduce]


class SearchNetwork(nn.Module):
    """The over-parameterised network whose every edge mixes all candidate operations."""

    def __init__(
        self,
        primitives: Sequence[str],
        *,
        in_channels: int,
        num_classes: int,
        num_layers: int,
        num_nodes: int,
        init_channels: int,
        stem_multiplier: int,
    ) -> None:
        super().__init__()
        self.primitives = tuple(primitives)
        self.num_nodes = num_nodes
        self.reductions = reduction_layers(num_layers)

        c_stem = stem_multiplier * init_channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem)
        )

        c_prev_prev, c_prev, channels = c_stem, c_stem, init_channels
        reduction_prev = False
        self.cells = nn.ModuleList()
        for layer in range(num_layers):
            reduction = layer in self.reductions
            if reduction:
                channels *= 2
            cell = SearchCell(
                self.primitives,
                num_nodes,
                c_prev_prev,
                c_prev,
                channels,
                reduction,
                reduction_prev,
            )
            self.cells.append(cell)
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, num_nodes * channels

        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def new_alphas(self) -> Alphas:
        """Fresh architecture weights shaped for this network."""
        return Alphas(self.num_nodes, len(self.primitives), bool(self.reductions))

    def forward(
        self,
        x: torch.Tensor,
        alpha_normal: Sequence[torch.Tensor],
        alpha_reduce: Sequence[torch.Tensor],
    ) -> torch.Tensor:
        weights_normal = [torch.softmax(a, dim=-1) for a in alpha_normal]
        weights_reduce = [torch.softmax(a, dim=-1) for a in alpha_reduce]
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            weights = weights_reduce if cell.reduction else weights_normal  # type: ignore[union-attr]
            s0, s1 = s1, cell(s0, s1, weights)
        return self.classifier(torch.flatten(self.pool(s1), 1))
