"""The manifest checks catch what a cluster would refuse or silently ignore."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from katib_nas.manifests.check import check_manifest, load_documents
from katib_nas.manifests.experiment_schema import check_shape, yaml_path
from katib_nas.manifests.trial_images import IMAGE_TAG, split_image
from tests.k8s.manifest_files import REPO_ROOT, primary_container

ENAS = load_documents(REPO_ROOT / "examples" / "enas-cpu.yaml")[0]
DARTS = load_documents(REPO_ROOT / "examples" / "darts-cpu.yaml")[0]
CONTAINER = "spec.trialTemplate.trialSpec.spec.template.spec.containers[0]"


def messages(doc: Any) -> str:
    return "\n".join(map(str, check_manifest(doc)))


def test_a_misspelt_field_is_named_with_the_closest_valid_one() -> None:
    doc = copy.deepcopy(ENAS)
    doc["spec"]["parallelTrialCounts"] = doc["spec"].pop("parallelTrialCount")
    doc["spec"]["trialTemplate"]["trialParameters"][0]["refrence"] = "x"

    text = messages(doc)

    assert "spec.parallelTrialCounts: is not a field" in text
    assert "did you mean 'parallelTrialCount'" in text
    assert "trialParameters[0].refrence: is not a field" in text


def test_a_number_where_katib_holds_a_string_is_reported_at_its_path() -> None:
    doc = copy.deepcopy(ENAS)
    space = doc["spec"]["nasConfig"]["operations"][3]["parameters"][1]["feasibleSpace"]
    space["min"] = 2

    problems = check_shape(doc)

    assert [p.path for p in problems] == [
        "spec.nasConfig.operations[3].parameters[1].feasibleSpace.min"
    ]
    assert "must be a string, got the number 2" in problems[0].message


def test_the_shape_and_admission_checks_do_not_report_one_field_twice() -> None:
    doc = copy.deepcopy(DARTS)
    doc["spec"]["maxTrialCount"] = "1"

    problems = check_manifest(doc)

    assert [p.path for p in problems].count("spec.maxTrialCount") == 1


def test_a_reference_the_algorithm_does_not_return_is_refused() -> None:
    doc = copy.deepcopy(DARTS)
    doc["spec"]["trialTemplate"]["trialParameters"][2]["reference"] = "num_layers"

    text = messages(doc)

    assert "'num_layers' is not an assignment of algorithm darts" in text
    assert "no trial parameter references 'num-layers'" in text


def test_an_unquoted_placeholder_breaks_apart_at_the_spaces_of_its_value() -> None:
    doc = copy.deepcopy(ENAS)
    command = primary_container(doc)["command"]
    command[:] = [
        w.replace(
            '"${trialParameters.neuralNetworkConfig}"', "${trialParameters.neuralNetworkConfig}"
        )
        for w in command
    ]

    text = messages(doc)

    assert f"{CONTAINER}.command: the trial rejects its arguments" in text
    assert "unrecognized arguments" in text


def test_a_flag_the_trial_does_not_know_is_refused() -> None:
    doc = copy.deepcopy(DARTS)
    primary_container(doc)["command"].append("--epochs=3")

    assert "unrecognized arguments: --epochs=3" in messages(doc)


@pytest.mark.parametrize(
    ("program", "accepted"),
    [
        (["python3", "-u", "RunTrial.py"], True),
        (["python", "/opt/katib-nas/RunTrial.py"], True),
        (["python3", "-m", "katib_nas.trials.enas_cnn"], True),
        (["python3", "run_trial.py"], False),
        (["python3", "-m", "katib_nas.trials.darts_cnn"], False),
        (["bash", "RunTrial.py"], False),
    ],
)
def test_only_the_images_own_program_is_accepted(program: list[str], accepted: bool) -> None:
    doc = copy.deepcopy(ENAS)
    container = primary_container(doc)
    flags = [w for w in container["command"] if w.startswith("--")]
    container["command"] = [*program, *flags]

    problems = check_manifest(doc)

    assert (problems == []) == accepted, problems


def test_an_image_of_the_other_algorithm_is_refused() -> None:
    doc = copy.deepcopy(DARTS)
    primary_container(doc)["image"] = f"ghcr.io/katib-nas/enas-trial-cpu:{IMAGE_TAG}"

    assert "trains enas suggestions, but spec.algorithm.algorithmName is 'darts'" in (
        messages(doc)
    )


def test_images_of_other_publishers_are_not_second_guessed() -> None:
    doc = copy.deepcopy(ENAS)
    container = primary_container(doc)
    container["image"] = "registry.example/team/my-trial:1"
    container["command"] = [
        "/app/train",
        "--arch",
        "${trialParameters.neuralNetworkArchitecture}",
        "${trialParameters.neuralNetworkConfig}",
    ]

    assert check_manifest(doc) == []


def test_image_names_and_paths_are_split_and_written_as_users_read_them() -> None:
    assert split_image("ghcr.io/katib-nas/enas-trial-cpu:v0.1.0") == (
        "ghcr.io/katib-nas/enas-trial-cpu",
        "v0.1.0",
    )
    assert split_image("localhost:5000/trial") == ("localhost:5000/trial", "")
    assert split_image("repo/x@sha256:ab") == ("repo/x", "@sha256:ab")
    assert yaml_path(["spec", "operations", 3, "name"]) == "spec.operations[3].name"


def test_the_command_line_prints_each_problem_and_fails(tmp_path: Path) -> None:
    doc = copy.deepcopy(ENAS)
    doc["spec"]["maxTrialCounts"] = 3
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "katib_nas.manifests"]

    good = subprocess.run(
        [*command, str(REPO_ROOT / "examples" / "enas-cpu.yaml")],
        capture_output=True,
        text=True,
        env=env,
    )
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True, env=env)

    assert good.returncode == 0, good.stdout + good.stderr
    assert failed.returncode == 1
    assert f"{bad}: spec.maxTrialCounts: is not a field" in failed.stdout


def test_a_search_space_the_service_refuses_is_reported_before_applying() -> None:
    doc = copy.deepcopy(DARTS)
    doc["spec"]["nasConfig"]["operations"][0]["operationType"] = "dilated_convolution"
    doc["spec"]["nasConfig"]["operations"][0]["parameters"][0]["feasibleSpace"]["list"] = ["9"]
    doc["spec"]["algorithm"]["algorithmSettings"].append({"name": "num_epoch", "value": "2"})

    text = messages(doc)

    assert "the darts suggestion service refuses this Experiment" in text
    assert "dilated_convolution_9x9" in text


def test_a_misspelt_enas_setting_is_reported_with_the_closest_name() -> None:
    doc = copy.deepcopy(ENAS)
    settings = [{"name": "controller_hiden_size", "value": "64"}]
    doc["spec"]["algorithm"]["algorithmSettings"] = settings

    text = messages(doc)

    assert "the enas suggestion service refuses this Experiment" in text
    assert "controller_hidden_size" in text
