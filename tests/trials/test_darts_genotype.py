"""Reading the genotype off the alphas, and its text form for Katib."""

from __future__ import annotations

import re

import pytest
import torch

from katib_nas.trials.darts_cnn.genotype import Genotype, derive_genotype, parse_cell

PRIMITIVES = ("max_pooling_3x3", "convolution_3x3", "skip_connection", "none")
KATIB_FILTER = re.compile(r"([\w-]+)=(Genotype.*)")


def test_softmax_ranking_differs_from_raw_alpha_ranking() -> None:
    # Node with three inputs. Edge 0 has the largest raw non-none alpha (3.0) but an even
    # larger `none`, so its convolution only gets softmax weight ~0.12. Edge 1's best raw
    # alpha is smaller (1.0) yet, with everything else at 0, it gets ~0.48. Edge 2 gets ~0.40.
    node = torch.tensor(
        [
            [0.0, 3.0, 0.0, 5.0],  # edge 0: conv 0.117
            [0.0, 1.0, 0.0, 0.0],  # edge 1: conv 0.475
            [0.0, 0.0, 0.8, 0.0],  # edge 2: skip 0.398
        ]
    )
    softmax_best = torch.softmax(node, -1)[:, :3].max(-1).values
    raw_best = node[:, :3].max(-1).values
    assert raw_best.argsort(descending=True)[:2].tolist() == [0, 1]  # raw ranking: 0, 1
    assert softmax_best.argsort(descending=True)[:2].tolist() == [1, 2]  # softmax: 1, 2

    (chosen,) = parse_cell([node], PRIMITIVES)
    assert chosen == (("convolution_3x3", 1), ("skip_connection", 2))


def test_none_is_never_chosen_even_when_strongest() -> None:
    node = torch.tensor([[0.0, 0.1, 0.0, 9.0], [0.2, 0.0, 0.0, 9.0]])
    (chosen,) = parse_cell([node], PRIMITIVES)
    assert all(op != "none" for op, _ in chosen)
    assert chosen == (("max_pooling_3x3", 1), ("convolution_3x3", 0))


def test_katib_text_form_without_spaces() -> None:
    normal = [torch.zeros(2, 4), torch.zeros(3, 4)]
    normal[0][0, 0] = normal[0][1, 2] = 1.0
    normal[1][2, 1] = normal[1][0, 2] = 1.0
    genotype = derive_genotype(normal, [], PRIMITIVES)
    text = f"Best-Genotype={genotype}"
    assert text == (
        "Best-Genotype=Genotype(normal=[[('max_pooling_3x3',0),('skip_connection',1)],"
        "[('convolution_3x3',2),('skip_connection',0)]],normal_concat=range(2,4),"
        "reduce=[],reduce_concat=range(2,4))"
    )
    assert " " not in text
    match = KATIB_FILTER.fullmatch(text)
    assert match is not None and match.group(1) == "Best-Genotype"


def test_json_round_trip() -> None:
    torch.manual_seed(0)
    genotype = derive_genotype(
        [torch.randn(i + 2, 4) for i in range(3)],
        [torch.randn(i + 2, 4) for i in range(3)],
        PRIMITIVES,
    )
    again = Genotype.from_json(genotype.to_json())
    assert again == genotype
    assert str(again) == str(genotype) == genotype.to_json()["katib"]


def test_primitives_must_include_none() -> None:
    with pytest.raises(ValueError, match="none"):
        parse_cell([torch.zeros(2, 3)], PRIMITIVES[:3])
