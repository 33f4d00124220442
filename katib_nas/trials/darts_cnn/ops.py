"""The candidate operations of a DARTS edge, built from the shared primitive list.

Every name in :data:`katib_nas.darts.primitives.SUPPORTED_PRIMITIVES` can be built here, plus
``none`` (the zero operation that lets an edge switch itself off), and nothing else: the
registry is derived from ``KERNEL_SIZES`` so the service and the trial cannot drift apart.

Operation families, for ``C`` channels in and out and a stride of 1 or 2:

* ``convolution_kxk``: ReLU, k x k convolution, batch norm.
* ``separable_convolution_kxk``: two rounds of ReLU, depthwise k x k, pointwise 1 x 1, batch
  norm (the first round carries the stride), as in the DARTS paper.
* ``dilated_convolution_kxk``: ReLU, depthwise k x k with dilation 2, pointwise, batch norm.
* ``avg_pooling_kxk`` / ``max_pooling_kxk``: k x k pooling then an affine-free batch norm (the
  pooling output is otherwise on a different scale from the convolutions it is mixed with).
* ``skip_connection``: identity, or a factorized reduction when the stride is 2.
* ``none``: zeros of the output shape.

Batch norms inside mixed operations are affine-free (``affine=False``) during the search, so
that learnable scales cannot stand in for the architecture weights.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from katib_nas.darts.primitives import (
    KERNEL_SIZES,
    NONE,
    SKIP_CONNECTION,
    SUPPORTED_PRIMITIVES,
    parse_primitive,
)

OpBuilder = Callable[[int, int, bool], nn.Module]


class ReLUConvBN(nn.Sequential):
    """ReLU, a k x k convolution, batch norm."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class DilatedConv(nn.Sequential):
    """ReLU, depthwise k x k convolution with a dilation, pointwise convolution, batch norm."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int,
        padding: int,
        dilation: int,
        affine: bool,
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                c_in,
                c_in,
                kernel,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=c_in,
                bias=False,
            ),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class SeparableConv(nn.Sequential):
    """Two undilated depthwise-separable rounds; the first one carries the stride."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, affine: bool) -> None:
        padding = kernel // 2
        super().__init__(
            DilatedConv(c_in, c_in, kernel, stride, padding, 1, affine),
            DilatedConv(c_in, c_out, kernel, 1, padding, 1, affine),
        )


class PoolBN(nn.Sequential):
    """Average or max pooling followed by an affine-free batch norm."""

    def __init__(self, kind: str, channels: int, kernel: int, stride: int) -> None:
        padding = kernel // 2
        pool: nn.Module
        if kind == "avg":
            pool = nn.AvgPool2d(kernel, stride=stride, padding=padding, count_include_pad=False)
        else:
            pool = nn.MaxPool2d(kernel, stride=stride, padding=padding)
        super().__init__(pool, nn.BatchNorm2d(channels, affine=False))


class FactorizedReduce(nn.Module):
    """Halve the resolution with two 1 x 1 stride-2 convolutions offset by one pixel.

    Each convolution produces half of the output channels; the second one sees the input
    shifted by one pixel so that together they look at every input position.
    """

    def __init__(self, c_in: int, c_out: int, affine: bool) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even channel count, got c_out={c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_a = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_b = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_a(x), self.conv_b(shifted)], dim=1))


class Zero(nn.Module):
    """The ``none`` operation: zeros shaped like the output of a stride-``stride`` op."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :: self.stride, :: self.stride] * 0.0


def _family_builder(op_type: str, kernel: int) -> OpBuilder:
    if op_type == "convolution":
        return lambda c, s, a: ReLUConvBN(c, c, kernel, s, kernel // 2, a)
    if op_type == "separable_convolution":
        return lambda c, s, a: SeparableConv(c, c, kernel, s, a)
    if op_type == "dilated_convolution":
        return lambda c, s, a: DilatedConv(c, c, kernel, s, kernel - 1, 2, a)
    if op_type == "avg_pooling":
        return lambda c, s, a: PoolBN("avg", c, kernel, s)
    if op_type == "max_pooling":
        return lambda c, s, a: PoolBN("max", c, kernel, s)
    raise ValueError(f"no builder for operation type {op_type!r}")


def _skip(channels: int, stride: int, affine: bool) -> nn.Module:
    if stride == 1:
        return nn.Identity()
    return FactorizedReduce(channels, channels, affine)


def _build_registry() -> dict[str, OpBuilder]:
    registry: dict[str, OpBuilder] = {NONE: lambda c, s, a: Zero(s), SKIP_CONNECTION: _skip}
    for op_type, sizes in KERNEL_SIZES.items():
        for kernel in sizes:
            name = f"{op_type}_{kernel}x{kernel}"
            parsed_type, parsed_kernel = parse_primitive(name)
            registry[name] = _family_builder(parsed_type, int(parsed_kernel or 0))
    missing = set(SUPPORTED_PRIMITIVES) - set(registry)
    if missing:
        raise RuntimeError(f"primitives without a builder: {sorted(missing)}")
    return registry


OPS: dict[str, OpBuilder] = _build_registry()


def build_op(name: str, channels: int, stride: int, affine: bool = False) -> nn.Module:
    """Build primitive ``name`` mapping ``channels`` to ``channels`` at ``stride`` (1 or 2)."""
    if name not in OPS:
        raise ValueError(f"unknown DARTS primitive {name!r}; supported: {', '.join(sorted(OPS))}")
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride}")
    return OPS[name](channels, stride, affine)
