"""Trial commands built as Katib builds them, run as real local processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from katib_nas.runner.experiment import experiment_from_dict, load_experiment
from katib_nas.runner.trials import (
    TrialCommandError,
    TrialProcess,
    build_command,
    guarded,
    localise,
    shell_words,
    substitute,
    trial_environment,
)
from tests.runner.helpers import EXAMPLES, REPO_ROOT, darts_doc, wait_for

NN_CONFIG = (
    "{'num_layers': 1, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': "
    "{'3': {'opt_id': 3, 'opt_type': 'convolution', 'opt_params': {'filter_size': '3', "
    "'num_filter': '48', 'stride': '2'}}}}"
)


def test_enas_command_is_split_as_sh_would_with_quotes_removed() -> None:
    experiment = load_experiment(EXAMPLES / "enas-cpu.yaml")
    argv = build_command(
        experiment, "enas-cpu-abc", {"architecture": "[[3]]", "nn_config": NN_CONFIG}
    )
    assert argv == [
        sys.executable,
        "-u",
        "-m",
        "katib_nas.trials.enas_cnn",
        "--num_epochs=1",
        "--dataset=cifar10",
        "--architecture=[[3]]",
        f"--nn_config={NN_CONFIG}",
    ]


def test_katib_example_commands_map_to_this_package() -> None:
    katib_enas = ["python3", "-u", "RunTrial.py", "--num_epochs=1", "--architecture=[[1]]"]
    assert localise(katib_enas, REPO_ROOT) == [
        sys.executable,
        "-u",
        "-m",
        "katib_nas.trials.enas_cnn",
        "--num_epochs=1",
        "--architecture=[[1]]",
    ]
    katib_darts = ["python3", "run_trial.py", "--num-layers=1"]
    assert localise(katib_darts, REPO_ROOT) == [
        sys.executable,
        "-m",
        "katib_nas.trials.darts_cnn",
        "--num-layers=1",
    ]
    assert localise(["/usr/local/bin/python3.11", "-m", "x"], REPO_ROOT) == [
        sys.executable,
        "-m",
        "x",
    ]
    assert localise(["bash", "run.sh"], REPO_ROOT) == ["bash", "run.sh"]


def test_relative_script_resolves_against_the_experiment_directory(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("")
    assert localise(["python", "train.py", "--x"], tmp_path) == [
        sys.executable,
        str(tmp_path / "train.py"),
        "--x",
    ]
    assert localise(["python", "missing.py"], tmp_path) == [sys.executable, "missing.py"]


def test_katib_darts_example_command_in_one_string() -> None:
    # Katib's own darts example puts the whole command in separate words; a user may instead
    # write one `sh -c` string: both give the same argument list.
    words = ['python3 run_trial.py --search-space="[\'max_pooling_3x3\']" --num-layers="1"']
    assert shell_words(words) == [
        "python3",
        "run_trial.py",
        "--search-space=['max_pooling_3x3']",
        "--num-layers=1",
    ]


def test_unbalanced_quote_is_a_clear_error() -> None:
    with pytest.raises(TrialCommandError, match="cannot be split as sh would"):
        shell_words(['--nn_config="{', "x"])


def test_substitution_is_textual_and_every_placeholder_needs_a_value() -> None:
    assert substitute("--a=${trialParameters.x}${trialParameters.x}", {"x": "1"}) == "--a=11"
    with pytest.raises(TrialCommandError, match=r"\$\{trialParameters.y\} has no value"):
        substitute("${trialParameters.y}", {"x": "1"})


def test_metadata_references_and_container_env() -> None:
    doc = darts_doc()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"] += [
        {"name": "trialName", "reference": "${trialSpec.Name}"},
        {"name": "ns", "reference": "${trialSpec.Namespace}"},
        {"name": "team", "reference": "${trialSpec.Labels[team]}"},
    ]
    template["trialSpec"]["metadata"] = {"labels": {"team": "vision"}}
    container = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] += [
        "--out=runs/${trialParameters.trialName}",
        "--ns=${trialParameters.ns}",
        "--team=${trialParameters.team}",
    ]
    container["env"] = [{"name": "KATIB_NAS_TEST", "value": "42"}]
    experiment = experiment_from_dict(doc)
    assignments = {"algorithm-settings": "{}", "search-space": "[]", "num-layers": "1"}
    argv = build_command(experiment, "darts-cpu-x1", assignments)
    assert argv[-3:] == ["--out=runs/darts-cpu-x1", "--ns=kubeflow", "--team=vision"]
    env = trial_environment(experiment)
    assert env["KATIB_NAS_TEST"] == "42"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(REPO_ROOT)


def test_missing_assignment_is_a_clear_error() -> None:
    experiment = load_experiment(EXAMPLES / "darts-cpu.yaml")
    with pytest.raises(TrialCommandError, match="references 'num-layers'"):
        build_command(experiment, "t", {"algorithm-settings": "{}", "search-space": "[]"})


def test_trial_process_writes_stdout_and_stderr_to_its_log(tmp_path: Path) -> None:
    code = (
        "import sys; print('Validation-Accuracy=0.5'); print('oops', file=sys.stderr); sys.exit(3)"
    )
    process = TrialProcess.start(
        "t1",
        [sys.executable, "-c", code],
        dict(os.environ),
        tmp_path / "t1",
        tmp_path / "t1" / "trial.log",
    )
    wait_for(lambda: process.poll() is not None, what="trial exit")
    assert process.poll() == 3
    log = (tmp_path / "t1" / "trial.log").read_text()
    assert "Validation-Accuracy=0.5" in log and "oops" in log


def test_stop_ends_the_trial_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(60)"
    )
    process = TrialProcess.start(
        "t2", [sys.executable, "-c", code], dict(os.environ), tmp_path, tmp_path / "trial.log"
    )
    wait_for(lambda: pid_file.read_text().strip() != "", what="child pid")
    child = int(pid_file.read_text())
    started = time.monotonic()
    assert process.stop(grace=5) == -signal.SIGTERM
    assert time.monotonic() - started < 5
    wait_for(lambda: not _alive(child), timeout=5, what="child to end")


def test_stop_kills_a_trial_that_ignores_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"open({str(ready)!r}, 'w').write('1'); time.sleep(60)"
    )
    process = TrialProcess.start(
        "t3", [sys.executable, "-c", code], dict(os.environ), tmp_path, tmp_path / "trial.log"
    )
    wait_for(ready.exists, what="trial ready")
    assert process.stop(grace=0.5) == -signal.SIGKILL


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_guarded_process_dies_with_its_parent(tmp_path: Path) -> None:
    pid_file = tmp_path / "trial.pid"
    # A parent Python starts a guarded sleeper, then is SIGKILLed: the sleeper must follow.
    sleeper = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    parent_code = (
        "import subprocess, sys, time\n"
        "from katib_nas.runner.trials import guarded\n"
        f"p = subprocess.Popen(guarded([sys.executable, '-c', {sleeper!r}]))\n"
        "time.sleep(60)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    parent = subprocess.Popen([sys.executable, "-c", parent_code], env=env)
    try:
        wait_for(lambda: pid_file.read_text().strip() != "", what="guarded trial pid")
        trial = int(pid_file.read_text())
        parent.kill()
        parent.wait()
        wait_for(lambda: not _alive(trial), timeout=5, what="orphan to die")
    finally:
        parent.kill()
    assert guarded(["x"])[-2:] == ["--", "x"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
