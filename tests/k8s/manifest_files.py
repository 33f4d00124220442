"""The YAML files a user applies: everything under ``examples/`` and ``deploy/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from katib_nas.manifests.check import is_experiment, load_documents

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_DIRS = ("examples", "deploy")


def manifest_files() -> list[Path]:
    files: list[Path] = []
    for folder in MANIFEST_DIRS:
        files += sorted((REPO_ROOT / folder).rglob("*.yaml"))
        files += sorted((REPO_ROOT / folder).rglob("*.yml"))
    return files


def experiments() -> list[tuple[str, Any]]:
    """``(file:index, document)`` for every Experiment in those files."""
    found = []
    for path in manifest_files():
        for index, doc in enumerate(load_documents(path)):
            if is_experiment(doc):
                found.append((f"{path.relative_to(REPO_ROOT)}:{index}", doc))
    return found


def primary_container(doc: Any) -> dict[str, Any]:
    template = doc["spec"]["trialTemplate"]
    containers = template["trialSpec"]["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == template["primaryContainerName"])
