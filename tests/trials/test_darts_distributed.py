"""The multi-process path: torchrun with two CPU processes (gloo) agrees with one process.

Two processes each take half of every global batch; one process doing the same step on the
same two halves as micro-batches computes the same averaged gradients, so after a search step
the alphas must agree (to float rounding of the different summation order). The search itself
checks at every epoch end that the alphas are identical on both processes and fails if not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from katib_nas.trials.darts_cnn.network import SearchNetwork

REPO = Path(__file__).resolve().parents[2]
PRIMITIVES = ("max_pooling_3x3", "convolution_3x3", "skip_connection")
ALPHA_LR = 3e-4  # Katib's default
SETTINGS = (
    "{'num_epochs': '1', 'batch_size': '16', 'init_channels': '4', "
    "'num_nodes': '2', 'stem_multiplier': '1'}"
)


def _search_arguments(output_dir: Path) -> list[str]:
    return [
        f"--algorithm-settings={SETTINGS}",
        f"--search-space={list(PRIMITIVES)!r}".replace('"', "'"),
        "--num-layers=2",
        "--dataset=mnist-5k",
        "--train-limit=32",  # 16 + 16: exactly one search step
        "--device=cpu",
        f"--output-dir={output_dir}",
    ]


def _alphas(output_dir: Path) -> list[float]:
    data = json.loads((output_dir / "alphas" / "epoch_001.json").read_text())
    return [x for cell in ("normal", "reduce") for n in data[cell] for r in n["alpha"] for x in r]


def _initial_alphas() -> list[float]:
    """The alphas before any step: the search seeds torch (--seed 0) then builds the network."""
    torch.manual_seed(0)
    net = SearchNetwork(
        (*PRIMITIVES, "none"),
        in_channels=1,
        num_classes=10,
        num_layers=2,
        num_nodes=2,
        init_channels=4,
        stem_multiplier=1,
    )
    alphas = net.new_alphas()
    return [float(x) for a in [*alphas.normal, *alphas.reduce] for x in a.detach().flatten()]


def test_two_gloo_processes_agree_with_one_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    two = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            "-m",
            "katib_nas.trials.darts_cnn",
            *_search_arguments(tmp_path / "two"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    one = subprocess.run(
        [
            sys.executable,
            "-m",
            "katib_nas.trials.darts_cnn",
            *_search_arguments(tmp_path / "one"),
            "--micro-batches=2",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    two_out, two_err = two.communicate(timeout=180)
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two_err[-3000:]
    assert "backend=gloo rank=1 world_size=2" in two_err

    # Only rank 0 prints: one set of metric lines and one genotype line.
    assert two_out.count("Best-Genotype=") == 1
    assert two_out.count("Validation-Accuracy=") == 1

    one_alphas, two_alphas = _alphas(tmp_path / "one"), _alphas(tmp_path / "two")
    # Adam's first step moves every alpha by about alpha_lr * sign(gradient).
    moved = sorted(abs(a - b) for a, b in zip(one_alphas, _initial_alphas(), strict=True))
    assert moved[len(moved) // 2] > 0.5 * ALPHA_LR and moved[-1] < 1.01 * ALPHA_LR
    assert max(abs(a - b) for a, b in zip(one_alphas, two_alphas, strict=True)) < 1e-8
    assert one.stdout.splitlines()[-1] == two_out.splitlines()[-1]
