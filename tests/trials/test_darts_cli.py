"""A real DARTS search through Katib's command line, in a subprocess, on a slice of mnist-5k."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from katib_nas.trials.darts_cnn.cli import main
from katib_nas.trials.darts_cnn.genotype import Genotype
from katib_nas.trials.darts_cnn.plotting import draw_genotype

REPO = Path(__file__).resolve().parents[2]
KATIB_GENOTYPE_FILTER = re.compile(r"([\w-]+)=(Genotype.*)")
KATIB_METRIC_FILTER = re.compile(r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)")
SEARCH_SPACE = ["max_pooling_3x3", "separable_convolution_3x3", "skip_connection"]
# As the DARTS service sends them: defaults as numbers, user values as strings.
SETTINGS = (
    "{'num_epochs': '2', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, "
    "'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, "
    "'alpha_weight_decay': 0.001, 'batch_size': '16', 'num_workers': 4, "
    "'init_channels': '4', 'print_step': 50, 'num_nodes': '2', 'stem_multiplier': '1'}"
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def test_katib_command_line_search_prints_metrics_and_genotype(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable,
        str(REPO / "trial_images" / "darts" / "run_trial.py"),
        f"--algorithm-settings={SETTINGS}",
        f"--search-space={json.dumps(SEARCH_SPACE).replace(chr(34), chr(39))}",
        "--num-layers=2",
        "--dataset=mnist-5k",
        "--train-limit=64",
        f"--output-dir={out}",
        "--device=cpu",
    ]
    started = time.monotonic()
    result = subprocess.run(
        command, env=_env(), capture_output=True, text=True, timeout=120, check=False
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    assert elapsed < 60

    lines = result.stdout.splitlines()
    metric_names = [line.split("=", 1)[0] for line in lines[:-1]]
    assert metric_names == 2 * [
        "Training-Accuracy",
        "Training-Loss",
        "Validation-Accuracy",
        "Validation-Loss",
    ]
    for line in lines[:-1]:
        match = KATIB_METRIC_FILTER.fullmatch(line)
        assert match is not None and 0.0 <= float(match.group(2)) < 100.0, line

    last = KATIB_GENOTYPE_FILTER.fullmatch(lines[-1])
    assert last is not None and last.group(1) == "Best-Genotype"
    assert " " not in lines[-1]
    used = set(re.findall(r"\('([\w-]+)',\d+\)", last.group(2)))
    assert used and used <= set(SEARCH_SPACE)
    assert "range(2,4)" in last.group(2)

    saved = json.loads((out / "genotype.json").read_text())
    assert f"Best-Genotype={saved['best']['katib']}" == lines[-1]
    alphas = json.loads((out / "alphas" / "epoch_002.json").read_text())
    assert alphas["primitives"] == [*SEARCH_SPACE, "none"]
    assert len(alphas["normal"]) == 2 and len(alphas["reduce"]) == 2
    for name in ("checkpoint.pt", "alphas/epoch_001.json", "normal.dot", "reduce.dot"):
        assert (out / name).is_file(), name
    assert (out / "normal.png").is_file() == (shutil.which("dot") is not None)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("--search-space=['avg_pooling_9x9']", "unsupported primitive"),
        ("--algorithm-settings={'num_epoch': '1'}", 'did you mean "num_epochs"'),
        ("--num-layers=0", "--num-layers must be at least 1"),
        ("--amp", "--amp needs a CUDA device"),
    ],
)
def test_bad_arguments_fail_clearly(argument: str, message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--search-space=['max_pooling_3x3']", "--num-layers=1", "--device=cpu", argument])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_cell_pictures_fall_back_to_dot_source(tmp_path: Path, monkeypatch) -> None:
    genotype = Genotype(
        normal=((("skip_connection", 0), ("max_pooling_3x3", 1)),),
        reduce=(),
        num_nodes=1,
    )
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` program reachable
    written = draw_genotype(genotype, tmp_path)
    assert written == [tmp_path / "normal.dot"]
    source = (tmp_path / "normal.dot").read_text()
    assert "skip_connection" in source and "max_pooling_3x3" in source
    assert not (tmp_path / "normal.png").exists()
