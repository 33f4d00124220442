"""Every Experiment under examples/ and deploy/ passes the checks Katib and our images make."""

from __future__ import annotations

import pytest

from katib_nas.manifests.check import check_manifest
from katib_nas.manifests.trial_images import IMAGE_TAG, TRIAL_IMAGES, split_image
from katib_nas.runner.admission import ALGORITHM_ASSIGNMENTS
from tests.k8s.manifest_files import REPO_ROOT, experiments, manifest_files, primary_container

EXPERIMENTS = experiments()
IDS = [name for name, _ in EXPERIMENTS]


def test_the_manifest_folders_hold_the_expected_experiments() -> None:
    names = {doc["metadata"]["name"] for _, doc in EXPERIMENTS}
    assert {"enas-cpu", "enas-gpu", "darts-cpu", "darts-gpu"} <= names
    assert any(doc["spec"].get("resumePolicy") == "FromVolume" for _, doc in EXPERIMENTS)
    assert (REPO_ROOT / "deploy" / "kustomization.yaml") in manifest_files()


@pytest.mark.parametrize(("name", "doc"), EXPERIMENTS, ids=IDS)
def test_experiment_passes_every_check(name: str, doc: dict) -> None:
    problems = check_manifest(doc)
    assert problems == [], f"{name}:\n" + "\n".join(map(str, problems))


@pytest.mark.parametrize(("name", "doc"), EXPERIMENTS, ids=IDS)
def test_trial_parameters_reference_exactly_the_algorithms_assignments(
    name: str, doc: dict
) -> None:
    algorithm = doc["spec"]["algorithm"]["algorithmName"]
    references = [p["reference"] for p in doc["spec"]["trialTemplate"]["trialParameters"]]
    assert sorted(references) == sorted(ALGORITHM_ASSIGNMENTS[algorithm]), name


@pytest.mark.parametrize(("name", "doc"), EXPERIMENTS, ids=IDS)
def test_trials_run_a_katib_nas_image_of_the_experiments_algorithm(name: str, doc: dict) -> None:
    container = primary_container(doc)
    repository, tag = split_image(container["image"])
    assert repository in TRIAL_IMAGES, f"{name}: {container['image']} is not one of our images"
    assert tag == IMAGE_TAG, f"{name}: {container['image']} should be tagged {IMAGE_TAG}"
    trial = TRIAL_IMAGES[repository]
    assert trial.algorithm == doc["spec"]["algorithm"]["algorithmName"], name
    wants_gpu = "nvidia.com/gpu" in str(container.get("resources", {}).get("limits", {}))
    assert wants_gpu == (trial.device == "gpu"), f"{name}: a {trial.device} image"


def test_the_from_volume_example_is_an_enas_search() -> None:
    resumable = [d for _, d in EXPERIMENTS if d["spec"].get("resumePolicy") == "FromVolume"]
    assert all(d["spec"]["algorithm"]["algorithmName"] == "enas" for d in resumable)
