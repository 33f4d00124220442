"""End-to-end tests of the ENAS trial command line, run as real subprocesses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.trials.dataset_files import random_images, write_cifar10
from tests.trials.enas_cpu_space import encode

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_TRIAL = REPO_ROOT / "trial_images" / "enas" / "RunTrial.py"

# Katib's default StdOut metrics filter (contract section 4.1).
KATIB_FILTER = re.compile(r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)")
METRICS = ("Training-Accuracy", "Training-Loss", "Validation-Accuracy", "Validation-Loss")

# Four stride-2 3x3 convolutions of the enas-cpu space (id 1: 32 filters, id 7: 96 filters)
# on the 28x28x1 images: small enough for a few seconds an epoch on two cores.
SMALL_ROWS = [[1], [7, 0], [7, 0, 0], [7, 0, 0, 0]]


def _run(args: list[str], timeout: float = 240, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    return subprocess.run(
        args, capture_output=True, text=True, env=environment, cwd=REPO_ROOT, timeout=timeout
    )


def _katib_metrics(text: str) -> dict[str, list[float]]:
    """Values per metric name, read line by line the way Katib's collector does."""
    found: dict[str, list[float]] = {}
    for line in text.splitlines():
        for match in KATIB_FILTER.finditer(line):
            if match.group(1) in METRICS:
                found.setdefault(match.group(1), []).append(float(match.group(2)))
    return found


@pytest.mark.slow
def test_small_architecture_learns_mnist_5k_in_one_epoch() -> None:
    architecture, nn_config = encode(SMALL_ROWS, [28, 28, 1], [10])
    result = _run(
        [
            sys.executable,
            "-m",
            "katib_nas.trials.enas_cnn",
            "--num_epochs=1",
            f"--architecture={architecture}",
            f"--nn_config={nn_config}",
            "--dataset=mnist-5k",
            "--batch-size=32",
            "--learning-rate=3e-3",
            "--num_gpus=0",
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]

    # Standard output holds the four metric lines and nothing else.
    lines = result.stdout.splitlines()
    assert [line.split("=")[0] for line in lines] == list(METRICS), result.stdout
    metrics = _katib_metrics(result.stdout)
    assert all(len(metrics[name]) == 1 for name in METRICS)
    assert metrics["Validation-Accuracy"][0] > 0.8, result.stdout
    assert 0.0 < metrics["Training-Loss"][0] < 2.3

    # Katib merges standard error into the same file: nothing there may look like a metric.
    assert not _katib_metrics(result.stderr), result.stderr


def test_unknown_operation_stops_with_a_clear_message() -> None:
    nn_config = (
        "{'num_layers': 1, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': "
        "{'0': {'opt_id': 0, 'opt_type': 'dilated_convolution', 'opt_params': {}}}}"
    )
    result = _run(
        [
            sys.executable,
            "-m",
            "katib_nas.trials.enas_cnn",
            "--architecture=[[0]]",
            f"--nn_config={nn_config}",
        ]
    )
    assert result.returncode == 2
    assert "unknown opt_type 'dilated_convolution'" in result.stderr
    assert result.stdout == ""


def test_katib_command_of_the_image_reaches_the_trial(tmp_path: Path) -> None:
    """RunTrial.py with Katib's own flags: a mismatch fails fast, a missing data set clearly."""
    architecture, nn_config = encode([[0], [0, 1]], [32, 32, 3], [10])
    mismatch = _run(
        [sys.executable, "-u", str(RUN_TRIAL), "--architecture=[[0]]", f"--nn_config={nn_config}"]
    )
    assert mismatch.returncode == 2
    assert "num_layers=2 rows, got 1" in mismatch.stderr

    no_data = _run(
        [
            sys.executable,
            "-u",
            str(RUN_TRIAL),
            "--num_epochs=1",
            f'--architecture="{architecture}"',  # quotes kept, as without Katib's sh -c
            f'--nn_config="{nn_config}"',
            f"--data-dir={tmp_path}",
            "--no-download",
        ]
    )
    assert no_data.returncode == 1
    assert str(tmp_path) in no_data.stderr and "cifar-10-python.tar.gz" in no_data.stderr
    assert no_data.stdout == ""


def test_images_that_cannot_fit_input_sizes_are_refused() -> None:
    architecture, nn_config = encode([[0]], [28, 28, 2], [10])
    result = _run(
        [
            sys.executable,
            "-m",
            "katib_nas.trials.enas_cnn",
            f"--architecture={architecture}",
            f"--nn_config={nn_config}",
            "--dataset=mnist-5k",
            "--num_gpus=0",
        ]
    )
    assert result.returncode == 2
    assert "(4500, 28, 28, 1)" in result.stderr and "[28, 28, 2]" in result.stderr


@pytest.mark.slow
def test_katibs_enas_cpu_command_trains_on_cifar10_from_the_image_data_dir(
    tmp_path: Path,
) -> None:
    """Katib's example command, verbatim but for the values, against CIFAR-10 files on disk."""
    rng = np.random.default_rng(0)
    images = random_images(rng, 110, (32, 32, 3))
    write_cifar10(tmp_path / "cifar-10-batches-py", images, rng.integers(0, 10, 110), 10)
    # A reduction with a skip from the input: the case that crashes Katib's trial on Keras 3.
    architecture, nn_config = encode([[5], [104, 1]], [32, 32, 3], [10])

    result = _run(
        [
            sys.executable,
            "-u",
            str(RUN_TRIAL),
            "--num_epochs=1",
            f"--architecture={architecture}",
            f"--nn_config={nn_config}",
        ],
        KATIB_NAS_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [line.split("=")[0] for line in result.stdout.splitlines()] == list(METRICS)
    assert "train_examples=90 validation_examples=10" in result.stderr
