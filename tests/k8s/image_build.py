"""Replay a Dockerfile's Python install steps in a fresh virtual environment, without Docker.

No container engine runs on the development machines, so the parts of an image build that can
go wrong for a Python image are redone here:

1. the build context is laid out as the image's file system would be (``COPY`` sources from the
   repository, minus what ``.dockerignore`` leaves out, under a temporary root);
2. a plain virtual environment is created (``python -m venv --without-pip``: no system site
   packages, so every dependency must come from the install steps) and each ``pip install`` of
   the Dockerfile runs against it from the ``WORKDIR`` it would run in; with ``dry_run`` pip only
   resolves, which proves that the pinned requirements are consistent and exist for this Python
   and platform (``pip install --dry-run --report``);
3. after a real install, :func:`start_entrypoint` starts the image's ``ENTRYPOINT`` with the
   virtual environment's Python.

Replayed faithfully except: ``--no-cache-dir`` is dropped (so pip's cache makes this fast),
real installs skip compiling bytecode (``--no-compile``; the images set
``PYTHONDONTWRITEBYTECODE`` anyway), and
an ``--index-url``/``--extra-index-url`` of the PyTorch download site is dropped (not reachable
here; this machine's pip configuration finds the same CPU wheels locally).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.k8s.dockerfiles import Dockerfile, parse

REPO_ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_INDEXES = ("download.pytorch.org",)
PIP_TIMEOUT_S = 600


@dataclass
class ReplayResult:
    dockerfile: Dockerfile
    root: Path
    venv: Path
    installed: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def in_root(self, path: str) -> Path:
        """An absolute path of the image, inside the laid-out root."""
        return self.root / path.lstrip("/")


def dockerignore_patterns(context: Path) -> list[str]:
    path = context / ".dockerignore"
    if not path.exists():
        return []
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line.rstrip("/") for line in lines if line and not line.startswith("#")]


def ignored(relative: str, patterns: Sequence[str]) -> bool:
    """Docker's rule, without ``!`` exceptions: a pattern matches the path or a parent of it."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            return True
    return False


def _copy(source: Path, target: Path, context: Path, patterns: Sequence[str]) -> None:
    relative = source.relative_to(context).as_posix()
    if ignored(relative, patterns):
        raise FileNotFoundError(f"COPY {relative}: excluded by .dockerignore")
    if source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        return
    for item in sorted(source.rglob("*")):
        inner = item.relative_to(context).as_posix()
        if item.is_file() and not ignored(inner, patterns):
            destination = target / item.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, destination)


def lay_out(dockerfile: Dockerfile, root: Path, context: Path = REPO_ROOT) -> None:
    """Create each WORKDIR and copy each COPY/ADD source of the final stage under ``root``."""
    patterns = dockerignore_patterns(context)
    for step in dockerfile.steps:
        if step.instruction == "WORKDIR":
            (root / step.workdir.lstrip("/")).mkdir(parents=True, exist_ok=True)
        if step.instruction not in ("COPY", "ADD"):
            continue
        words = [w for w in step.value.split() if not w.startswith("--")]
        *sources, destination = words
        if not destination.startswith("/"):
            destination = f"{step.workdir.rstrip('/')}/{destination}"
        target_dir = root / destination.lstrip("/")
        for source in sources:
            path = context / source
            if not path.exists():
                raise FileNotFoundError(
                    f"{dockerfile.path.name}:{step.line}: COPY {source}: "
                    "no such file in the build context"
                )
            into_folder = destination.endswith("/") or len(sources) > 1
            target = target_dir / path.name if path.is_file() and into_folder else target_dir
            _copy(path, target, context, patterns)


def pip_arguments(arguments: Sequence[str]) -> list[str]:
    """The install arguments, less the cache switch and unreachable package indexes."""
    kept: list[str] = []
    skip = False
    for index, word in enumerate(arguments):
        if skip:
            skip = False
            continue
        if word == "--no-cache-dir":
            continue
        following = arguments[index + 1] if index + 1 < len(arguments) else ""
        if word in ("--index-url", "-i", "--extra-index-url") and any(
            host in following for host in UNREACHABLE_INDEXES
        ):
            skip = True
            continue
        if word.startswith(("--index-url=", "--extra-index-url=")) and any(
            host in word for host in UNREACHABLE_INDEXES
        ):
            continue
        kept.append(word)
    return kept


def create_venv(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()


def replay(dockerfile_path: Path, workspace: Path, dry_run: bool) -> ReplayResult:
    """Lay out the image under ``workspace/root`` and run its pip installs in a fresh venv."""
    dockerfile = parse(dockerfile_path)
    root = workspace / "root"
    venv = workspace / "venv"
    lay_out(dockerfile, root)
    create_venv(venv)
    installed: dict[str, str] = {}
    for number, (step, arguments) in enumerate(dockerfile.pip_installs()):
        report = workspace / f"report-{number}.json"
        command = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--report",
            str(report),
        ]
        command.append("--dry-run" if dry_run else "--no-compile")
        command += [_into_root(word, root) for word in pip_arguments(arguments)]
        done = subprocess.run(
            command,
            cwd=root / step.workdir.lstrip("/"),
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_S,
            env=_pip_env(),
        )
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if "is ignored" not in line]
            raise AssertionError(
                f"{dockerfile_path.name}:{step.line}: pip install "
                f"{' '.join(arguments)} failed:\n" + "\n".join(errors[-30:])
            )
        for item in json.loads(report.read_text())["install"]:
            installed[canonical_name(item["metadata"]["name"])] = item["metadata"]["version"]
    return ReplayResult(dockerfile, root, venv, installed)


def canonical_name(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): tensorflow_cpu is tensorflow-cpu."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _into_root(word: str, root: Path) -> str:
    """An absolute path of the image (``-r /tmp/requirements.txt``) as laid out under root."""
    if word.startswith("/") and (root / word.lstrip("/")).exists():
        return str(root / word.lstrip("/"))
    return word


def _pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def image_environment(result: ReplayResult) -> dict[str, str]:
    """The image's ENV, with absolute paths that exist in the laid-out root mapped into it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    for key, value in result.dockerfile.env.items():
        parts = []
        for part in value.split(":"):
            mapped = result.in_root(part) if part.startswith("/") else None
            parts.append(str(mapped) if mapped is not None and mapped.exists() else part)
        env[key] = ":".join(parts)
    env["PATH"] = f"{result.venv / 'bin'}:{env.get('PATH', '')}"
    return env


def entrypoint_command(result: ReplayResult, *extra: str) -> list[str]:
    """ENTRYPOINT + CMD with ``python``/``python3`` as the venv's interpreter."""
    words = [*result.dockerfile.entrypoint, *result.dockerfile.cmd, *extra]
    if words and os.path.basename(words[0]).startswith("python"):
        words[0] = str(result.python)
    mapped = []
    for word in words:
        inside = result.in_root(word) if word.startswith("/opt/") else None
        mapped.append(str(inside) if inside is not None and inside.exists() else word)
    return mapped


def start_entrypoint(result: ReplayResult, *extra: str, log: Path) -> subprocess.Popen:
    workdir = result.in_root(result.dockerfile.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with log.open("w") as handle:
        return subprocess.Popen(
            entrypoint_command(result, *extra),
            cwd=workdir,
            env=image_environment(result),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
