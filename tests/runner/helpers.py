"""Shared pieces of the runner tests: valid Experiment documents, trial scripts, CLI runs."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def enas_doc() -> dict[str, Any]:
    """Katib's enas-cpu Experiment as shipped in examples/ (a valid document)."""
    return yaml.safe_load((EXAMPLES / "enas-cpu.yaml").read_text())


def darts_doc() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "darts-cpu.yaml").read_text())


# A trial that takes its behaviour from a plan: the i-th trial to start takes entry i.
# Entries: {"sleep": s, "print": ["Name=value", ...], "exit": code, "pid_file": path}.
PLAN_TRIAL = r"""
import json, os, sys, time
plan_path = sys.argv[1]
plan = json.load(open(plan_path))
slot = 0
while True:
    try:
        os.close(os.open(f"{plan_path}.slot{slot}", os.O_CREAT | os.O_EXCL))
        break
    except FileExistsError:
        slot += 1
entry = plan[min(slot, len(plan) - 1)]
with open(f"{plan_path}.args{slot}", "w") as out:
    json.dump(sys.argv[2:], out)
if entry.get("pid_file"):
    open(entry["pid_file"], "w").write(str(os.getpid()))
time.sleep(entry.get("sleep", 0))
for line in entry.get("print", []):
    print(line, flush=True)
sys.exit(entry.get("exit", 0))
"""


def plan_experiment(
    tmp_path: Path,
    plan: list[dict[str, Any]],
    name: str = "plan",
    *,
    trial_source: str = PLAN_TRIAL,
    trial_deadline: int | None = None,
    **spec: Any,
) -> Path:
    """A DARTS Experiment whose trials run ``trial_source`` with ``plan``; returns its path.

    ``spec`` overrides fields of the Experiment's spec; ``trial_deadline`` sets the trial
    Job's ``activeDeadlineSeconds``.
    """
    (tmp_path / "trial.py").write_text(trial_source)
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    doc = copy.deepcopy(darts_doc())
    doc["metadata"] = {"name": name}
    doc["spec"].pop("metricsCollectorSpec")
    doc["spec"]["objective"] = {"type": "maximize", "objectiveMetricName": "Validation-Accuracy"}
    doc["spec"].update({"parallelTrialCount": 1, "maxTrialCount": 3})
    doc["spec"].pop("maxFailedTrialCount")
    doc["spec"].update(spec)
    doc["spec"].setdefault("maxFailedTrialCount", min(3, doc["spec"]["maxTrialCount"]))
    job = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]
    if trial_deadline is not None:
        job["activeDeadlineSeconds"] = trial_deadline
    job["template"]["spec"]["containers"][0]["command"] = [
        "python3",
        str(tmp_path / "trial.py"),
        str(tmp_path / "plan.json"),
        '--algorithm-settings="${trialParameters.algorithmSettings}"',
        '--search-space="${trialParameters.searchSpace}"',
        '--num-layers="${trialParameters.numberLayers}"',
    ]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def run_cli(
    *args: str, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "katib_nas.runner", "run", *args, "--no-progress"],
        env=child_env(),
        cwd=cwd or REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "katib_nas.runner", "run", *args, "--no-progress"],
        env=child_env(),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_results(workdir: Path) -> dict[str, Any]:
    return json.loads((workdir / "results.json").read_text())


def wait_for(predicate: Any, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
