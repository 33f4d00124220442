"""The local runner under faults: trials that hang, print garbage, flood their log or are
killed; the suggestion service dying mid-experiment; a work directory that fills up or turns
read-only.

Every run is the real CLI (``python -m katib_nas.runner run``) with the real DARTS service and
real trial processes; the trial is a small script whose i-th run takes entry i of a plan. The
disk tests mount a small tmpfs (a real full or read-only file system), which needs root with
CAP_SYS_ADMIN; elsewhere they are skipped, saying why.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import REPO_ROOT, subprocess_env
from tests.runner.helpers import plan_experiment

# The i-th trial to start takes entry i of the plan (the last entry repeats). Entry keys:
# garbage (bytes of binary noise), flood_mb (MiB of log lines), long_line_mb (one line without
# a newline), fill_disk (write into the work directory until it is full), read_only (mount the
# work directory read-only over itself), kill_service (SIGKILL the suggestion service),
# sleep (seconds), print (lines), kill_self (SIGKILL itself), exit (code).
FAULT_TRIAL = r"""
import json, os, signal, subprocess, sys, time
from pathlib import Path
plan_path = Path(sys.argv[1])
plan = json.loads(plan_path.read_text())
slot = 0
while True:
    try:
        os.close(os.open(f"{plan_path}.slot{slot}", os.O_CREAT | os.O_EXCL))
        break
    except FileExistsError:
        slot += 1
Path("slot").write_text(str(slot))
entry = plan[min(slot, len(plan) - 1)]
workdir = Path.cwd().parents[1]
out = sys.stdout.buffer
if entry.get("garbage"):
    noise = bytes(range(256)) * (entry["garbage"] // 256 + 1)
    out.write(b"Validation-Accuracy=\xff\xfe\x00nan-ish\n" + noise[: entry["garbage"]] + b"\n")
    out.write(b"Validation-Accuracy=abc\n\x1b[31mValidation-Accuracy\x00=1.0\n")
for _ in range(entry.get("flood_mb", 0) * 16):
    out.write(b"step loss=0.1234 " * 3855 + b"\n")
if entry.get("long_line_mb"):
    out.write(b"x" * (entry["long_line_mb"] << 20) + b"\n")
out.flush()
if entry.get("fill_disk"):
    try:
        with open(workdir / "filler", "wb") as filler:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
    except OSError:
        pass
if entry.get("read_only"):
    # A read-only bind mount over the work directory: every new open for writing fails.
    subprocess.run(["mount", "--bind", str(workdir), str(workdir)], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(workdir)], check=True)
if entry.get("kill_service"):
    port_file = str(workdir / "suggestion.port")
    for pid in os.listdir("/proc"):
        try:
            words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if port_file.encode() in words and b"katib_nas.runner.orphan_guard" not in words:
            os.kill(int(pid), signal.SIGKILL)
if entry.get("pid_file"):
    Path(entry["pid_file"]).write_text(str(os.getpid()))
time.sleep(entry.get("sleep", 0))
for line in entry.get("print", []):
    print(line, flush=True)
if entry.get("kill_self"):
    os.kill(os.getpid(), signal.SIGKILL)
sys.exit(entry.get("exit", 0))
"""
OK = {"print": ["Validation-Accuracy=0.5"]}


def fault_experiment(
    where: Path, plan: list[dict[str, Any]], name: str = "faults", **spec: Any
) -> Path:
    """A DARTS Experiment whose trials run FAULT_TRIAL with ``plan``; returns the YAML path."""
    return plan_experiment(where, plan, name, trial_source=FAULT_TRIAL, **spec)


def run_cli(experiment: Path, workdir: Path, *args: str, timeout: float = 90):
    command = [sys.executable, "-m", "katib_nas.runner", "run", str(experiment)]
    return subprocess.run(
        [*command, "--workdir", str(workdir), "--no-progress", *args],
        env=subprocess_env(),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def trials_by_slot(workdir: Path) -> dict[int, dict[str, Any]]:
    """The results.json record of each trial, keyed by the plan slot it took."""
    results = json.loads((workdir / "results.json").read_text())
    by_slot = {}
    for trial in results["trials"]:
        slot_file = workdir / "trials" / trial["name"] / "slot"
        if slot_file.exists():
            by_slot[int(slot_file.read_text())] = trial
    return by_slot


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_hanging_trial_is_stopped_at_its_deadline(tmp_path):
    hang = {"sleep": 600, "pid_file": str(tmp_path / "hung.pid")}
    experiment = fault_experiment(
        tmp_path, [hang, OK], trial_deadline=1, maxTrialCount=2, maxFailedTrialCount=1
    )

    done = run_cli(experiment, tmp_path / "work")  # the hung trial alone would take 600 s

    assert done.returncode == 0, done.stderr
    trials = trials_by_slot(tmp_path / "work")
    assert trials[0]["condition"] == "FAILED" and trials[0]["reason"] == "DeadlineExceeded"
    assert trials[1]["condition"] == "SUCCEEDED"
    assert not alive(int((tmp_path / "hung.pid").read_text()))


def test_trial_timeout_flag_stops_a_hanging_trial(tmp_path):
    hang = {"sleep": 600, "pid_file": str(tmp_path / "hung.pid")}
    experiment = fault_experiment(tmp_path, [hang], maxTrialCount=1, maxFailedTrialCount=1)

    run_cli(experiment, tmp_path / "work", "--trial-timeout", "1")

    (trial,) = trials_by_slot(tmp_path / "work").values()
    assert trial["condition"] == "FAILED" and trial["reason"] == "DeadlineExceeded"
    assert not alive(int((tmp_path / "hung.pid").read_text()))


def test_garbage_flooded_logs_and_killed_trials_do_not_stop_the_experiment(tmp_path):
    plan = [
        {"garbage": 4096, "print": ["Validation-Accuracy=0.61"]},
        {"flood_mb": 48, "long_line_mb": 8, "print": ["Validation-Accuracy=0.62"]},
        {"kill_self": True, "print": ["Validation-Accuracy=0.99"]},
        {"print": ["Validation-Accuracy=0.63"]},
    ]
    experiment = fault_experiment(tmp_path, plan, maxTrialCount=4, parallelTrialCount=2)

    done = run_cli(experiment, tmp_path / "work")

    assert done.returncode == 0, done.stderr
    trials = trials_by_slot(tmp_path / "work")
    values = {s: t["metrics"].get("Validation-Accuracy", {}).get("max") for s, t in trials.items()}
    assert [trials[s]["condition"] for s in range(4)] == [
        "SUCCEEDED",
        "SUCCEEDED",
        "FAILED",
        "SUCCEEDED",
    ]
    assert values[0] == "0.61" and values[1] == "0.62" and values[3] == "0.63"
    assert trials[2]["exit_code"] == -signal.SIGKILL
    results = json.loads((tmp_path / "work" / "results.json").read_text())
    assert results["best_trial"]["value"] == "0.63"


def test_suggestion_service_killed_mid_experiment_is_restarted(tmp_path):
    plan = [OK, {"kill_service": True, **OK}, OK, OK]
    experiment = fault_experiment(tmp_path, plan, maxTrialCount=4)

    done = run_cli(experiment, tmp_path / "work")

    assert done.returncode == 0, done.stderr
    trials = trials_by_slot(tmp_path / "work")
    assert [trials[s]["condition"] for s in range(4)] == ["SUCCEEDED"] * 4
    runner_log = (tmp_path / "work" / "runner.log").read_text()
    assert "restart" in runner_log, runner_log[-3000:]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MiB tmpfs mounted for the test (root with CAP_SYS_ADMIN only)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        for _ in range(3):  # the tmpfs and any read-only bind mount over it
            if subprocess.run(["umount", "-l", str(mount_point)], check=False).returncode:
                break


def check_clear_disk_error(done: subprocess.CompletedProcess, workdir: Path, words: str) -> None:
    assert done.returncode == 4, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert words in done.stderr and str(workdir) in done.stderr, done.stderr
    assert "run the same command again" in done.stderr, done.stderr


def test_full_disk_is_a_clear_error_and_keeps_finished_trials(tmp_path, small_disk):
    plan = [OK, {"fill_disk": True, **OK}, OK]
    experiment = fault_experiment(tmp_path, plan, maxTrialCount=3)

    full = run_cli(experiment, small_disk)

    check_clear_disk_error(full, small_disk, "No space left on device")
    assert trials_by_slot(small_disk)[0]["condition"] == "SUCCEEDED"
    (small_disk / "filler").unlink()
    again = run_cli(experiment, small_disk)
    assert again.returncode == 0, again.stderr
    trials = trials_by_slot(small_disk)
    assert all(trials[s]["condition"] == "SUCCEEDED" for s in trials), trials
    assert len(json.loads((small_disk / "results.json").read_text())["trials"]) == 3


def test_read_only_disk_is_a_clear_error_and_keeps_finished_trials(tmp_path, small_disk):
    plan = [OK, {"read_only": True, **OK}, OK]
    experiment = fault_experiment(tmp_path, plan, maxTrialCount=3)

    frozen = run_cli(experiment, small_disk)

    check_clear_disk_error(frozen, small_disk, "Read-only file system")
    assert trials_by_slot(small_disk)[0]["condition"] == "SUCCEEDED"
    from_start = run_cli(experiment, small_disk)
    check_clear_disk_error(from_start, small_disk, "Read-only file system")
    subprocess.run(["umount", "-l", str(small_disk)], check=True)  # the read-only bind mount
    again = run_cli(experiment, small_disk)
    assert again.returncode == 0, again.stderr
    assert len(json.loads((small_disk / "results.json").read_text())["trials"]) == 3
