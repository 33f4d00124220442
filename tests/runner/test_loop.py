"""The controller loop through ``python -m katib_nas.runner`` with the real DARTS service.

The trials are small Python scripts (tests/runner/helpers.PLAN_TRIAL) run as real processes;
each takes the next entry of a plan that says what to print, how long to sleep and how to exit.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from katib_nas.api import api_pb2
from katib_nas.runner.experiment import load_experiment
from katib_nas.runner.loop import Runner, RunOptions
from katib_nas.runner.results import (
    FAILED,
    INTERRUPTED,
    METRICS_UNAVAILABLE,
    RUNNING,
    SUCCEEDED,
    TrialRecord,
)
from tests.runner.helpers import (
    plan_experiment,
    read_results,
    run_cli,
    start_cli,
    wait_for,
)

DARTS_NAMES = ["algorithm-settings", "search-space", "num-layers"]


def accuracy(value: float, *more: float, sleep: float = 0.0) -> dict:
    lines = [f"Validation-Accuracy={v}" for v in (value, *more)]
    return {"print": lines, "sleep": sleep}


def test_trials_run_and_results_are_recorded(tmp_path: Path) -> None:
    plan = [accuracy(0.5, 0.6), accuracy(0.9, 0.7), accuracy(0.3)]
    path = plan_experiment(tmp_path, plan, parallelTrialCount=2, maxTrialCount=3)
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir))

    assert done.returncode == 0, done.stderr
    assert "plan: Succeeded (MaxTrialsReached)" in done.stderr
    results = read_results(workdir)
    assert results["status"]["state"] == "Succeeded"
    trials = results["trials"]
    assert [t["condition"] for t in trials] == [SUCCEEDED] * 3
    assert {t["metrics"]["Validation-Accuracy"]["max"] for t in trials} == {"0.6", "0.9", "0.3"}
    second = next(t for t in trials if t["metrics"]["Validation-Accuracy"]["max"] == "0.9")
    assert second["metrics"]["Validation-Accuracy"] == {
        "min": "0.7",
        "max": "0.9",
        "latest": "0.7",
    }
    assert results["best_trial"]["name"] == second["name"]
    assert results["best_trial"]["value"] == "0.9"
    for record in trials:
        assert list(record["assignments"]) == DARTS_NAMES
        assert record["name"].startswith("plan-") and len(record["name"]) == len("plan-") + 8
        assert record["start_time"].endswith("Z") and record["end_time"] >= record["start_time"]
        assert (workdir / record["log"]).is_file()
        assert record["exit_code"] == 0
    # the trial got the assignments with Katib's double quotes removed
    args = json.loads((tmp_path / "plan.json.args0").read_text())
    assert args[0].startswith("--algorithm-settings={'num_epochs': 1,") or args[0].startswith(
        "--algorithm-settings={'num_epochs': '1'"
    )
    assert args[2] == "--num-layers=1"
    assert (workdir / "report.html").is_file() and (workdir / "objective.png").is_file()
    # the service was validated once, then asked for 2 trials and later for the third
    service_log = (workdir / "suggestion.log").read_text()
    assert service_log.count("method=ValidateAlgorithmSettings") == 1
    assert service_log.count("method=GetSuggestions") == 2


def test_failed_trials_end_the_experiment_after_max_failed(tmp_path: Path) -> None:
    plan = [
        {"print": ["Validation-Accuracy=0.9", "trial: error: no dataset here"], "exit": 1},
        {"exit": 2},
        accuracy(0.5),
    ]
    path = plan_experiment(tmp_path, plan, maxTrialCount=5, maxFailedTrialCount=1)
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir))

    assert done.returncode == 1, done.stderr
    results = read_results(workdir)
    assert results["status"] == {
        "state": "Failed",
        "reason": "MaxFailedTrialsReached",
        "message": "",
    }
    assert [t["condition"] for t in results["trials"]] == [FAILED, FAILED]
    assert [t["exit_code"] for t in results["trials"]] == [1, 2]
    # a failed trial's metrics are still collected, but it is never the best
    assert results["trials"][0]["metrics"]["Validation-Accuracy"]["latest"] == "0.9"
    assert results["best_trial"] is None
    # each failure is shown as it happens, with the log's last line and where the log is
    first = results["trials"][0]
    assert (
        f"trial={first['name']} condition=FAILED exit_code=1 log={workdir / first['log']} "
        "last_line='trial: error: no dataset here'" in done.stderr
    )


def test_trial_without_the_objective_is_metrics_unavailable(tmp_path: Path) -> None:
    plan = [{"print": ["Training-Loss=0.1"]}, accuracy(0.4)]
    path = plan_experiment(tmp_path, plan, maxTrialCount=2, maxFailedTrialCount=0)
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir))

    assert done.returncode == 0, done.stderr
    trials = read_results(workdir)["trials"]
    assert [t["condition"] for t in trials] == [METRICS_UNAVAILABLE, SUCCEEDED]
    assert trials[0]["metrics"]["Validation-Accuracy"] == {
        "min": "unavailable",
        "max": "unavailable",
        "latest": "unavailable",
    }


def test_goal_ends_the_experiment_and_stops_running_trials(tmp_path: Path) -> None:
    plan = [accuracy(0.5), accuracy(0.95, 0.8), accuracy(0.1, sleep=30)]
    path = plan_experiment(tmp_path, plan, maxTrialCount=6, parallelTrialCount=1)
    doc_text = path.read_text().replace("type: maximize", "type: maximize\n    goal: 0.9")
    path.write_text(doc_text)
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir))

    assert done.returncode == 0, done.stderr
    results = read_results(workdir)
    assert results["status"]["reason"] == "GoalReached"
    assert [t["condition"] for t in results["trials"]] == [SUCCEEDED, SUCCEEDED]
    assert results["best_trial"]["value"] == "0.95"  # max strategy: 0.95, not the latest 0.8


def test_minimise_goal_with_latest_strategy(tmp_path: Path) -> None:
    plan = [
        {"print": ["Validation-Loss=0.1", "Validation-Loss=0.5"]},
        {"print": ["Validation-Loss=0.3", "Validation-Loss=0.2"]},
    ]
    path = plan_experiment(tmp_path, plan, maxTrialCount=4)
    text = path.read_text().replace(
        "objectiveMetricName: Validation-Accuracy",
        "objectiveMetricName: Validation-Loss\n    goal: 0.25\n"
        "    metricStrategies:\n    - name: Validation-Loss\n"
        "      value: latest",
    )
    path.write_text(text.replace("type: maximize", "type: minimize"))
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir))

    assert done.returncode == 0, done.stderr
    results = read_results(workdir)
    # the first trial's min (0.1) meets the goal but its latest (0.5) does not
    assert results["status"]["reason"] == "GoalReached"
    assert len(results["trials"]) == 2
    assert results["best_trial"]["value"] == "0.2"


def test_history_sent_to_the_service(tmp_path: Path) -> None:
    path = plan_experiment(tmp_path, [accuracy(0.1)], maxTrialCount=5, parallelTrialCount=2)
    text = path.read_text().replace(
        "objectiveMetricName: Validation-Accuracy",
        "objectiveMetricName: Validation-Accuracy\n    additionalMetricNames: [Validation-Loss]"
        "\n    metricStrategies:\n    - name: Validation-Loss\n      value: min",
    )
    path.write_text(text)
    runner = Runner(load_experiment(path), RunOptions(workdir=tmp_path / "work", progress=False))
    metrics = {
        "Validation-Accuracy": {"min": "0.2", "max": "0.8", "latest": "0.5"},
        "Validation-Loss": {"min": "0.3", "max": "0.9", "latest": "unavailable"},
    }
    runner.results.trials = [
        TrialRecord(
            "t-ok",
            {"num-layers": "1"},
            SUCCEEDED,
            metrics=metrics,
            start_time="2026-01-01T00:00:00Z",
            end_time="2026-01-01T00:01:00Z",
        ),
        TrialRecord("t-no-metrics", {"num-layers": "1"}, METRICS_UNAVAILABLE),
        TrialRecord(
            "t-failed",
            {"num-layers": "1"},
            FAILED,
            metrics={
                "Validation-Accuracy": {
                    "min": "unavailable",
                    "max": "unavailable",
                    "latest": "unavailable",
                }
            },
        ),
        TrialRecord("t-running", {"num-layers": "1"}, RUNNING, start_time="2026-01-01T00:02:00Z"),
    ]

    request = runner.build_request(2)

    assert (request.current_request_number, request.total_request_number) == (2, 6)
    assert request.experiment.name == "plan"
    assert request.experiment.spec.max_trial_count == 5
    sent = {t.name: t for t in request.trials}
    assert list(sent) == ["t-ok", "t-failed", "t-running"]  # METRICSUNAVAILABLE left out
    ok = sent["t-ok"]
    assert ok.status.condition == api_pb2.TrialStatus.SUCCEEDED
    assert {m.name: m.value for m in ok.status.observation.metrics} == {
        "Validation-Accuracy": "0.8",  # max, the default for a maximised objective
        "Validation-Loss": "0.3",  # min, from metricStrategies
    }
    assert (ok.status.start_time, ok.status.completion_time) == (
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:01:00Z",
    )
    assert ok.spec.objective.objective_metric_name == "Validation-Accuracy"
    assert ok.spec.objective.type == api_pb2.MAXIMIZE
    assert [(a.name, a.value) for a in ok.spec.parameter_assignments.assignments] == [
        ("num-layers", "1")
    ]
    assert sent["t-failed"].status.condition == api_pb2.TrialStatus.FAILED
    assert sent["t-running"].status.condition == api_pb2.TrialStatus.RUNNING
    assert not sent["t-running"].status.observation.metrics


def test_resume_after_the_runner_is_killed(tmp_path: Path) -> None:
    slow_pid = tmp_path / "slow.pid"
    plan = [
        accuracy(0.6),
        {**accuracy(0.7, sleep=60), "pid_file": str(slow_pid)},
        accuracy(0.8),
        accuracy(0.9),
    ]
    path = plan_experiment(tmp_path, plan, maxTrialCount=3)
    workdir = tmp_path / "work"

    runner = start_cli(str(path), "--workdir", str(workdir))
    try:
        wait_for(
            lambda: (
                [t["condition"] for t in read_results(workdir)["trials"]] == [SUCCEEDED, RUNNING]
                and slow_pid.read_text() != ""
            ),
            what="one finished and one running trial",
        )
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        runner.kill()
    first = read_results(workdir)["trials"]
    # the trial the dead runner had started does not outlive it
    wait_for(
        lambda: (
            not Path(f"/proc/{int(slow_pid.read_text())}").exists()
            or _zombie(int(slow_pid.read_text()))
        ),
        timeout=5,
        what="orphaned trial to end",
    )

    done = run_cli(str(path), "--workdir", str(workdir))

    assert done.returncode == 0, done.stderr
    trials = read_results(workdir)["trials"]
    assert [t["condition"] for t in trials] == [SUCCEEDED] * 3
    assert trials[0] == first[0]  # the finished trial is kept as it was, not run again
    assert trials[1]["name"] == first[1]["name"]  # the interrupted one runs again, same name
    assert trials[1]["assignments"] == first[1]["assignments"]
    assert trials[1]["metrics"]["Validation-Accuracy"]["max"] == "0.8"
    assert len(list((tmp_path).glob("plan.json.slot*"))) == 4  # 2 + 2 trial starts in all


def test_a_second_runner_on_the_same_work_directory_stops(tmp_path: Path) -> None:
    plan = [accuracy(0.6, sleep=60), accuracy(0.7)]
    path = plan_experiment(tmp_path, plan, maxTrialCount=1)
    workdir = tmp_path / "work"

    first = start_cli(str(path), "--workdir", str(workdir))
    try:
        wait_for(
            lambda: [t["condition"] for t in read_results(workdir)["trials"]] == [RUNNING],
            what="the first runner's trial running",
        )
        second = run_cli(str(path), "--workdir", str(workdir))
        assert second.returncode == 2, second.stderr
        assert f"{workdir} is in use by another katib-nas run (pid {first.pid})" in second.stderr
        # the first run's trial was neither started again nor marked otherwise
        assert [t["condition"] for t in read_results(workdir)["trials"]] == [RUNNING]
        assert not (tmp_path / "plan.json.slot1").exists()
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
    finally:
        first.kill()
    assert first.returncode == 130


def test_ctrl_c_stops_running_trials_and_keeps_finished_ones(tmp_path: Path) -> None:
    plan = [accuracy(0.6), accuracy(0.7, sleep=60), accuracy(0.8), accuracy(0.9)]
    path = plan_experiment(tmp_path, plan, maxTrialCount=3)
    workdir = tmp_path / "work"

    runner = start_cli(str(path), "--workdir", str(workdir))
    try:
        wait_for(
            lambda: (
                [t["condition"] for t in read_results(workdir)["trials"]] == [SUCCEEDED, RUNNING]
                and (tmp_path / "plan.json.slot1").exists()
            ),
            what="one finished and one running trial",
        )
        runner.send_signal(signal.SIGINT)
        _, stderr = runner.communicate(timeout=30)
    finally:
        runner.kill()

    assert runner.returncode == 130, stderr
    assert "run the same command again" in stderr
    results = read_results(workdir)
    assert results["status"]["state"] == "Interrupted"
    assert [(t["condition"], t["reason"]) for t in results["trials"]] == [
        (SUCCEEDED, "TrialSucceeded"),
        ("KILLED", INTERRUPTED),
    ]

    done = run_cli(str(path), "--workdir", str(workdir))
    assert done.returncode == 0, done.stderr
    assert [t["condition"] for t in read_results(workdir)["trials"]] == [SUCCEEDED] * 3


def test_more_trials_can_be_added_to_a_finished_run(tmp_path: Path) -> None:
    path = plan_experiment(tmp_path, [accuracy(0.5)], maxTrialCount=1, maxFailedTrialCount=1)
    workdir = tmp_path / "work"
    assert run_cli(str(path), "--workdir", str(workdir)).returncode == 0
    first = read_results(workdir)["trials"]
    done = run_cli(str(path), "--workdir", str(workdir), "--max-trials", "2")
    assert done.returncode == 0, done.stderr
    trials = read_results(workdir)["trials"]
    assert len(trials) == 2 and trials[0] == first[0]


def test_workdir_of_another_experiment_is_refused(tmp_path: Path) -> None:
    path = plan_experiment(tmp_path, [accuracy(0.5)], maxTrialCount=1, maxFailedTrialCount=1)
    workdir = tmp_path / "work"
    assert run_cli(str(path), "--workdir", str(workdir)).returncode == 0
    path.write_text(path.read_text().replace("numLayers: 1", "numLayers: 2"))
    done = run_cli(str(path), "--workdir", str(workdir))
    assert done.returncode == 2
    assert "holds a run of a different experiment" in done.stderr


def test_work_directory_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    path = plan_experiment(tmp_path, [accuracy(0.5)], maxTrialCount=1, maxFailedTrialCount=1)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")  # as a read-only disk does, but for root too

    done = run_cli(str(path), "--workdir", str(blocker / "work"))

    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr
    assert f"error: cannot write to the work directory {blocker / 'work'}" in done.stderr
    assert "Not a directory" in done.stderr


def test_unreadable_results_file_is_a_clear_error_and_is_kept(tmp_path: Path) -> None:
    path = plan_experiment(tmp_path, [accuracy(0.5)], maxTrialCount=1, maxFailedTrialCount=1)
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "results.json").write_text('{"format": 1, "trials": [')  # cut short

    done = run_cli(str(path), "--workdir", str(workdir))

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{workdir / 'results.json'} cannot be read" in done.stderr
    assert (workdir / "results.json").read_text() == '{"format": 1, "trials": ['


def test_invalid_experiment_stops_before_running_anything(tmp_path: Path) -> None:
    path = plan_experiment(tmp_path, [accuracy(0.5)])
    path.write_text(path.read_text().replace("reference: num-layers", "reference: num_layers"))
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir))

    assert done.returncode == 2
    assert (
        "spec.trialTemplate.trialParameters[2].reference: 'num_layers' is not an assignment"
        in done.stderr
    )
    assert "did you mean 'num-layers'" in done.stderr
    assert not workdir.exists()


def test_settings_rejected_by_the_service(tmp_path: Path) -> None:
    path = plan_experiment(tmp_path, [accuracy(0.5)])
    path.write_text(path.read_text().replace("name: num_epochs", "name: num_epoch"))
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir))

    assert done.returncode == 2, done.stderr
    assert "rejected the Experiment: ValidateAlgorithmSettings Error:" in done.stderr
    assert "num_epoch" in done.stderr
    assert read_results(workdir)["trials"] == []


def test_running_service_via_suggestion_address(tmp_path: Path, service_factory) -> None:
    service = service_factory("darts")
    path = plan_experiment(tmp_path, [accuracy(0.5)], maxTrialCount=2, parallelTrialCount=2)
    workdir = tmp_path / "work"

    done = run_cli(str(path), "--workdir", str(workdir), "--suggestion-address", service.address)

    assert done.returncode == 0, done.stderr
    assert not (workdir / "suggestion.log").exists()  # nothing was started
    assert service.process.poll() is None  # and the service is left running
    log = service.log()
    assert log.count("experiment=plan method=ValidateAlgorithmSettings") == 1
    assert log.count("experiment=plan method=GetSuggestions") == 1  # one call for both trials


def test_unreachable_suggestion_address(tmp_path: Path) -> None:
    path = plan_experiment(tmp_path, [accuracy(0.5)])
    done = run_cli(
        str(path),
        "--workdir",
        str(tmp_path / "work"),
        "--suggestion-address",
        "127.0.0.1:1",
        timeout=60,
    )
    assert done.returncode == 3
    assert "is not SERVING" in done.stderr
    assert "run the same command again to continue" in done.stderr


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_bad_counts_on_the_command_line_are_named(tmp_path: Path) -> None:
    path = plan_experiment(tmp_path, [accuracy(0.5)])
    for flag, value, words in (
        ("--max-trials", "x", "argument --max-trials: must be a whole number, got 'x'"),
        ("--parallel", "0", "argument --parallel: must be at least 1, got 0"),
    ):
        done = run_cli(str(path), "--workdir", str(tmp_path / "work"), flag, value)
        assert done.returncode == 2
        assert words in done.stderr
