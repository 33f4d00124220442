"""Each Dockerfile lints clean, keeps our image rules, and its install steps work without Docker.

Resolution of every image's pinned requirements is checked in a fresh virtual environment
(``pip install --dry-run``); the DARTS service image is installed for real and its entrypoint
must answer a health check. The pip runs are mostly waiting on the package index, so they all
run at once, in one module fixture. ``scripts/check_images.py`` installs every image for real
and starts each entrypoint (minutes; run it by hand before publishing images).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from katib_nas.manifests.trial_images import TRIAL_IMAGES
from tests.k8s.dockerfile_rules import violations
from tests.k8s.dockerfiles import parse
from tests.k8s.image_build import REPO_ROOT, ReplayResult, ignored, lay_out, pip_arguments, replay
from tests.k8s.images import IMAGES, Image, check_service

HADOLINT = Path(sys.executable).with_name("hadolint")
IDS = [image.dockerfile for image in IMAGES]


@pytest.mark.parametrize("image", IMAGES, ids=IDS)
def test_dockerfile_exists(image: Image) -> None:
    assert image.path.is_file(), f"{image.dockerfile} is missing"


@pytest.mark.parametrize("image", IMAGES, ids=IDS)
def test_hadolint_finds_no_warning(image: Image) -> None:
    done = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "warning", str(image.path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("image", IMAGES, ids=IDS)
def test_dockerfile_keeps_our_image_rules(image: Image) -> None:
    assert violations(parse(image.path)) == []


INSTALLED_FOR_REAL = "Dockerfile.darts"


@pytest.fixture(scope="module")
def replays(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ReplayResult | Exception]:
    """Every image resolved (and the DARTS service installed), all pip runs at once."""

    def run(image: Image, dry_run: bool) -> ReplayResult | Exception:
        workspace = tmp_path_factory.mktemp(Path(image.dockerfile).name)
        try:
            return replay(image.path, workspace, dry_run=dry_run)
        except (AssertionError, OSError, subprocess.SubprocessError) as error:
            return error

    # The image installed for real needs no separate resolution: its install report is one.
    jobs = {
        image.dockerfile: (image, image.dockerfile != INSTALLED_FOR_REAL)
        for image in IMAGES
        if image.path.is_file()
    }
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(run, *job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def replayed(replays: dict[str, ReplayResult | Exception], name: str) -> ReplayResult:
    if name not in replays:
        pytest.fail(f"{name} is missing")
    result = replays[name]
    if isinstance(result, Exception):
        raise result
    return result


@pytest.mark.parametrize("image", IMAGES, ids=IDS)
def test_install_steps_resolve_in_a_fresh_virtual_environment(
    image: Image, replays: dict[str, ReplayResult | Exception]
) -> None:
    result = replayed(replays, image.dockerfile)

    missing = [name for name in image.requires if name not in result.installed]
    assert missing == [], f"resolved {sorted(result.installed)}; missing {missing}"


def test_darts_service_image_installs_and_answers_the_health_check(
    replays: dict[str, ReplayResult | Exception], tmp_path: Path
) -> None:
    result = replayed(replays, INSTALLED_FOR_REAL)

    assert check_service(result, tmp_path) == "SERVING"


@pytest.mark.parametrize("trial", list(TRIAL_IMAGES.values()), ids=list(TRIAL_IMAGES))
def test_trial_image_table_matches_its_dockerfile(trial, tmp_path: Path) -> None:
    dockerfile = parse(REPO_ROOT / trial.dockerfile)

    lay_out(dockerfile, tmp_path)

    assert dockerfile.workdir == trial.workdir
    assert (tmp_path / trial.workdir.lstrip("/") / trial.script).is_file()
    assert Path(dockerfile.entrypoint[-1]).name == trial.script


def test_the_rules_catch_what_they_are_for(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "FROM python:3.11-slim\n"
        "WORKDIR /app\n"
        "RUN pip install numpy grpcio==1.85.3\n"
        "USER katib\n"
        "ENTRYPOINT python -m katib_nas.enas\n"
    )

    found = "\n".join(violations(parse(path)))

    assert "FROM python:3.11-slim: pin a full version" in found
    assert "add --no-cache-dir" in found
    assert "'numpy' is not pinned" in found
    assert "'grpcio==1.85.3'" not in found
    assert "USER katib: use a numeric UID" in found
    assert "/app: give it to group 0" in found
    assert "/opt/katib/data: give it to group 0" in found
    assert "must EXPOSE 6789" in found
    assert "ENTRYPOINT in shell form" in found


def test_dockerignore_patterns_and_pip_arguments_are_read_as_docker_and_pip_do() -> None:
    assert ignored("katib_nas/__pycache__/x.pyc", ["**/__pycache__"])
    assert ignored("tests/k8s/test_x.py", ["tests"])
    assert not ignored("katib_nas/trials/x.py", ["tests", "**/__pycache__"])
    assert pip_arguments(
        ["--no-cache-dir", "--index-url", "https://download.pytorch.org/whl/cpu", "torch==2"]
    ) == ["torch==2"]
