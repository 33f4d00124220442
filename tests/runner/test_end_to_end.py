"""End to end on real data: ``python -m katib_nas.runner run`` with the real services and trials.

A small ENAS search (two trials, trained for one epoch on mnist-5k) and a tiny DARTS search (one
trial) run through the command line in a subprocess, as a user runs them. These tests need the
ENAS service and both trial packages: they fail, not skip, when one is missing.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from katib_nas.runner.metrics import parse_float
from katib_nas.runner.report import parse_genotype
from tests.runner.helpers import EXAMPLES, read_results, run_cli

pytestmark = pytest.mark.slow

CHANCE = 0.1  # ten classes


def require_modules(*needed: str) -> None:
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    assert not missing, f"end-to-end tests need {', '.join(missing)} (not in this checkout)"


def command(doc: dict) -> list[str]:
    spec = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
    return spec["containers"][0]["command"]


def test_enas_search_on_mnist_and_resume(tmp_path: Path) -> None:
    require_modules("katib_nas.enas", "katib_nas.trials.enas_cnn")
    doc = yaml.safe_load((EXAMPLES / "enas-local.yaml").read_text())
    spec = doc["spec"]
    spec.update({"parallelTrialCount": 1, "maxTrialCount": 2, "maxFailedTrialCount": 0})
    spec["nasConfig"]["graphConfig"]["numLayers"] = 3
    # 3x3 convolutions only, so that every sampled network learns in one short epoch
    convolution = copy.deepcopy(spec["nasConfig"]["operations"][0])
    convolution["parameters"][0]["feasibleSpace"]["list"] = ["3"]
    spec["nasConfig"]["operations"] = [convolution]
    words = command(doc)
    words[:] = [w for w in words if not w.startswith("--num_epochs")] + ["--num_epochs=1"]
    path = tmp_path / "enas.yaml"
    path.write_text(yaml.safe_dump(doc))
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir), timeout=240)

    assert done.returncode == 0, done.stderr + _logs(workdir)
    results = read_results(workdir)
    assert results["status"]["state"] == "Succeeded"
    trials = results["trials"]
    assert len(trials) == 2
    for trial in trials:
        assert trial["condition"] == "SUCCEEDED", _logs(workdir)
        accuracy = parse_float(trial["metrics"]["Validation-Accuracy"]["max"])
        # 450 validation images: a network that learned nothing stays within 0.1 +- 0.05
        assert accuracy is not None and accuracy > 2 * CHANCE, trial["metrics"]
        assert parse_float(trial["metrics"]["Validation-Loss"]["min"]) is not None
        assert trial["assignments"]["architecture"].startswith("[[")
        assert "'num_layers': 3" in trial["assignments"]["nn_config"]
    assert results["best_trial"]["name"] in {t["name"] for t in trials}
    assert any((workdir / "enas-state").iterdir())  # the controller state lives in the workdir
    assert (workdir / "best-architecture.png").stat().st_size > 1000
    assert "best-architecture.png" in (workdir / "report.html").read_text()

    # One more trial: the restarted service continues from its saved controller, which has
    # learned from the first trial already, so it learns from the second one only.
    done = run_cli(str(path), "--workdir", str(workdir), "--max-trials", "3", timeout=240)

    assert done.returncode == 0, done.stderr + _logs(workdir)
    again = read_results(workdir)["trials"]
    assert again[:2] == trials and again[2]["condition"] == "SUCCEEDED"
    second_run = (workdir / "suggestion.log").read_text().rsplit("event=starting", 1)[1]
    # "trials=N learned_total=M": N trials learned from in this call, M in the experiment's life
    learned = re.findall(r"trials=(\d+) learned_total=(\d+)", second_run)
    assert learned == [("1", "2")], second_run[-2000:]


def test_darts_search_on_mnist(tmp_path: Path) -> None:
    require_modules("katib_nas.darts", "katib_nas.trials.darts_cnn")
    doc = yaml.safe_load((EXAMPLES / "darts-local.yaml").read_text())
    spec = doc["spec"]
    spec["nasConfig"]["graphConfig"]["numLayers"] = 1
    spec["algorithm"]["algorithmSettings"] = [
        {"name": "num_epochs", "value": "1"},
        {"name": "num_nodes", "value": "1"},
        {"name": "init_channels", "value": "2"},
        {"name": "stem_multiplier", "value": "1"},
        {"name": "batch_size", "value": "32"},
        {"name": "num_workers", "value": "0"},
    ]
    command(doc).append("--train-limit=128")
    path = tmp_path / "darts.yaml"
    path.write_text(yaml.safe_dump(doc))
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir), timeout=240)

    assert done.returncode == 0, done.stderr + _logs(workdir)
    results = read_results(workdir)
    (trial,) = results["trials"]
    assert trial["condition"] == "SUCCEEDED", _logs(workdir)
    genotype = trial["metrics"]["Best-Genotype"]["latest"]
    assert genotype.startswith("Genotype(normal=[[")
    cells = parse_genotype(genotype)
    used = {op for node in cells["normal"] for op, _ in node}
    assert used and used <= {"separable_convolution_3x3", "max_pooling_3x3", "skip_connection"}
    assert parse_float(trial["metrics"]["Validation-Accuracy"]["latest"]) is not None
    assert results["best_trial"]["value"] == genotype
    assert (workdir / "best-architecture.png").stat().st_size > 1000


def _logs(workdir: Path) -> str:
    texts = []
    for log in [*sorted(workdir.glob("trials/*/trial.log")), workdir / "suggestion.log"]:
        if log.exists():
            texts.append(f"\n--- {log}\n{log.read_text()[-3000:]}")
    return "".join(texts)
