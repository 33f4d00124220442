"""Every check katib-nas makes on a manifest a user applies, over every document of a YAML file.

An Experiment gets the local runner's admission checks
(:func:`katib_nas.runner.admission.check_experiment`), the shape of Katib's v1beta1 types
(:func:`~katib_nas.manifests.experiment_schema.check_shape`), the suggestion service's own
validation of its search space and settings
(:func:`~katib_nas.manifests.algorithm.check_algorithm`) and, when its trials run a katib-nas
image, the trial command (:func:`~katib_nas.manifests.trial_images.check_trial_command`).
Where two checks report the same field, the admission check's message is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from katib_nas.manifests.algorithm import check_algorithm
from katib_nas.manifests.experiment_schema import check_shape
from katib_nas.manifests.trial_images import check_trial_command
from katib_nas.runner.admission import Problem, check_experiment


def check_manifest(doc: Any) -> list[Problem]:
    """All problems of one Experiment document; [] when Katib and our images would take it."""
    admission = check_experiment(doc)
    reported = {problem.path for problem in admission}
    shape = [problem for problem in check_shape(doc) if problem.path not in reported]
    problems = admission + shape
    if not problems:
        problems = check_algorithm(doc) + check_trial_command(doc)
    return problems


def load_documents(path: str | Path) -> list[Any]:
    """The YAML documents of a file, empty ones dropped."""
    with open(path, encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def is_experiment(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == "Experiment"
