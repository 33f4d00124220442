"""The op registry builds every shared primitive plus `none`, and nothing else."""

from __future__ import annotations

import pytest
import torch

from katib_nas.darts.primitives import NONE, SUPPORTED_PRIMITIVES
from katib_nas.trials.darts_cnn.network import SearchNetwork, reduction_layers
from katib_nas.trials.darts_cnn.ops import OPS, build_op


def test_registry_is_exactly_the_shared_list_plus_none() -> None:
    assert set(OPS) == {*SUPPORTED_PRIMITIVES, NONE}


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("stride", [1, 2])
def test_every_op_keeps_channels_and_applies_stride(name: str, stride: int) -> None:
    op = build_op(name, 4, stride)
    out = op(torch.randn(2, 4, 8, 8))
    assert out.shape == (2, 4, 8 // stride, 8 // stride)


def test_unknown_primitive_is_refused_with_the_list() -> None:
    with pytest.raises(
        ValueError, match=r"unknown DARTS primitive 'convolution_9x9'.*max_pooling"
    ):
        build_op("convolution_9x9", 4, 1)


def test_reduction_positions() -> None:
    assert reduction_layers(1) == frozenset()
    assert reduction_layers(2) == frozenset({1})
    assert reduction_layers(3) == frozenset({1, 2})
    assert reduction_layers(8) == frozenset({2, 5})


def test_alphas_are_not_network_parameters() -> None:
    net = SearchNetwork(
        ("max_pooling_3x3", NONE),
        in_channels=3,
        num_classes=10,
        num_layers=3,
        num_nodes=2,
        init_channels=4,
        stem_multiplier=1,
    )
    alphas = net.new_alphas()
    assert [tuple(a.shape) for a in alphas.normal] == [(2, 2), (3, 2)]
    assert [tuple(a.shape) for a in alphas.reduce] == [(2, 2), (3, 2)]
    weight_ids = {id(p) for p in net.parameters()}
    assert not any(id(a) in weight_ids for a in alphas.parameters())
    logits = net(torch.randn(2, 3, 16, 16), *alphas.tensors())
    assert logits.shape == (2, 10)
