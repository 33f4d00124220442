"""A search killed with SIGKILL and resumed gives exactly the uninterrupted result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 3
# First order here (the second-order path is covered by the other trial tests).
SETTINGS = (
    f"{{'num_epochs': '{EPOCHS}', 'batch_size': '16', 'init_channels': '4', "
    "'num_nodes': '2', 'stem_multiplier': '1', 'second_order': 'false'}"
)


def _command(output_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "katib_nas.trials.darts_cnn",
        f"--algorithm-settings={SETTINGS}",
        "--search-space=['max_pooling_3x3', 'convolution_3x3', 'skip_connection']",
        "--num-layers=3",
        "--dataset=mnist-5k",
        "--train-limit=96",
        "--seed=7",
        "--device=cpu",
        f"--output-dir={output_dir}",
        *extra,
    ]


def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    whole_dir, killed_dir = tmp_path / "whole", tmp_path / "killed"

    whole = subprocess.Popen(
        _command(whole_dir), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    killed = subprocess.Popen(
        _command(killed_dir), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        # Let the first epoch finish (its metric lines come after its checkpoint), then kill.
        assert killed.stdout is not None
        seen = [killed.stdout.readline() for _ in range(4)]
        assert seen[-1].startswith("Validation-Loss="), seen
        killed.send_signal(signal.SIGKILL)
        rest, _ = killed.communicate(timeout=60)
    finally:
        killed.kill()
    assert killed.returncode == -signal.SIGKILL
    assert "Best-Genotype" not in rest

    whole_out, _ = whole.communicate(timeout=120)
    assert whole.returncode == 0

    resumed = subprocess.run(
        _command(killed_dir, "--resume"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resume epoch=" in resumed.stderr

    # Same metric lines (replayed, then continued) and the same final genotype, bit for bit.
    assert resumed.stdout == whole_out
    for name in [f"alphas/epoch_{EPOCHS:03d}.json", "genotype.json"]:
        assert json.loads((killed_dir / name).read_text()) == json.loads(
            (whole_dir / name).read_text()
        ), name
