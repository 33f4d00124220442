"""The trial images katib-nas publishes, and whether an Experiment's trial command fits its image.

Katib runs the primary container's ``command`` and ``args`` joined by spaces under ``sh -c``
(contract 9.3), after replacing every ``${trialParameters.X}`` with the assignment it references.
:func:`check_trial_command` does the same with values shaped like the ones the algorithm sends
(JSON with spaces, ``'`` for ``"``), splits the line as ``sh`` would, and hands the arguments to
the trial's own argument parser (``build_parser()`` of ``katib_nas.trials.<trial>.cli``), so a
flag the trial does not know, a placeholder left unquoted so its value falls apart at the spaces,
or a script the image does not contain is reported before the Experiment reaches a cluster.

Images of other publishers are not checked: their entrypoints are unknown here.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import katib_nas
from katib_nas import swapped_json
from katib_nas.runner.field_checks import Problem
from katib_nas.runner.template_checks import PLACEHOLDER, primary_container

REGISTRY = "ghcr.io/katib-nas"
IMAGE_TAG = f"v{katib_nas.__version__}"

PYTHON = re.compile(r"^python(3(\.\d+)?)?$")
# Interpreter flags that take no value and may stand before the script or -m.
PYTHON_FLAGS = {"-u", "-B", "-O", "-OO", "-E", "-I", "-s", "-S", "-q"}


@dataclass(frozen=True)
class TrialImage:
    """One published trial image: what it trains and how its program is started."""

    repository: str
    algorithm: str
    device: str
    dockerfile: str
    workdir: str
    script: str
    module: str

    @property
    def reference(self) -> str:
        return f"{self.repository}:{IMAGE_TAG}"

    @property
    def entrypoint(self) -> tuple[str, ...]:
        return ("python3", "-u", self.script)


def _images() -> dict[str, TrialImage]:
    table = {}
    for algorithm, script, module in (
        ("enas", "RunTrial.py", "katib_nas.trials.enas_cnn"),
        ("darts", "run_trial.py", "katib_nas.trials.darts_cnn"),
    ):
        for device in ("cpu", "gpu"):
            repository = f"{REGISTRY}/{algorithm}-trial-{device}"
            table[repository] = TrialImage(
                repository=repository,
                algorithm=algorithm,
                device=device,
                dockerfile=f"trial_images/{algorithm}/Dockerfile.{device}",
                workdir="/opt/katib-nas",
                script=script,
                module=module,
            )
    return table


TRIAL_IMAGES: dict[str, TrialImage] = _images()

SUGGESTION_IMAGES: dict[str, str] = {
    algorithm: f"{REGISTRY}/suggestion-{algorithm}:{IMAGE_TAG}" for algorithm in ("enas", "darts")
}

CONTAINERS_PATH = "spec.trialTemplate.trialSpec.spec.template.spec.containers"


def split_image(image: str) -> tuple[str, str]:
    """``(repository, tag)``; the tag is ``""`` when absent, ``@sha256:...`` for a digest."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        return repository, "@" + digest
    head, _, last = image.rpartition("/")
    if ":" in last:
        name, tag = last.split(":", 1)
        return (f"{head}/{name}" if head else name), tag
    return image, ""


def check_trial_command(doc: Any) -> list[Problem]:
    """Problems of the primary container when it runs one of katib-nas's trial images."""
    found = primary_container(doc)
    if found is None:
        return []
    index, container = found
    path = f"{CONTAINERS_PATH}[{index}]"
    image = container.get("image")
    if not isinstance(image, str):
        return []
    repository, tag = split_image(image)
    if repository not in TRIAL_IMAGES:
        if repository.startswith(REGISTRY + "/"):
            known = ", ".join(i.reference for i in TRIAL_IMAGES.values())
            return [
                Problem(
                    f"{path}.image", f"{image!r} is not a katib-nas trial image; they are {known}"
                )
            ]
        return []

    trial = TRIAL_IMAGES[repository]
    problems = []
    if tag != IMAGE_TAG:
        problems.append(
            Problem(
                f"{path}.image",
                f"{image!r}: katib-nas publishes {trial.reference}, not tag {tag or '(none)'!r}",
            )
        )
    algorithm = _algorithm(doc)
    if algorithm is not None and algorithm != trial.algorithm:
        problems.append(
            Problem(
                f"{path}.image",
                f"{image!r} trains {trial.algorithm} "
                f"suggestions, but spec.algorithm.algorithmName is "
                f"{algorithm!r}; use {REGISTRY}/{algorithm}-trial-"
                f"{trial.device}:{IMAGE_TAG}",
            )
        )
        return problems

    command = container.get("command") or []
    args = container.get("args") or []
    if not all(isinstance(word, str) for word in [*command, *args]):
        return problems
    words = list(command) if command else list(trial.entrypoint)
    words += list(args)
    problem = _check_argv(trial, words, sample_values(doc, trial.algorithm))
    if problem is not None:
        problems.append(Problem(f"{path}.command" if command else f"{path}.args", problem))
    return problems


def _algorithm(doc: Mapping[str, Any]) -> str | None:
    algorithm = (doc.get("spec") or {}).get("algorithm") or {}
    name = algorithm.get("algorithmName") if isinstance(algorithm, Mapping) else None
    return name if isinstance(name, str) else None


def sample_values(doc: Mapping[str, Any], algorithm: str) -> dict[str, str]:
    """trialParameter name -> a value shaped like the one the algorithm would assign to it."""
    spec = doc.get("spec") or {}
    nas = spec.get("nasConfig") or {}
    graph = nas.get("graphConfig") or {}
    declared = graph.get("numLayers")
    layers = declared if isinstance(declared, int) else 1
    operations = [op for op in nas.get("operations") or [] if isinstance(op, Mapping)]
    assignments = (
        _enas_values(layers, graph, operations)
        if algorithm == "enas"
        else _darts_values(layers, spec, operations)
    )
    values = {}
    template = spec.get("trialTemplate") or {}
    for parameter in template.get("trialParameters") or []:
        if isinstance(parameter, Mapping) and isinstance(parameter.get("name"), str):
            reference = str(parameter.get("reference", ""))
            values[parameter["name"]] = assignments.get(reference, "trial-name-1a2b3c4d")
    return values


def _enas_values(
    layers: int, graph: Mapping[str, Any], operations: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Row l is ``[op_id, skip_0 .. skip_{l-1}]``; nn_config names the ops used (contract 2.7)."""
    architecture = [[0] + [1] * layer for layer in range(max(layers, 1))]
    first = operations[0] if operations else {}
    params = {}
    for parameter in first.get("parameters") or []:
        space = parameter.get("feasibleSpace") or {}
        choices = space.get("list") or [space.get("min", "")]
        params[str(parameter.get("name"))] = str(choices[0])
    nn_config = {
        "num_layers": layers,
        "input_sizes": list(graph.get("inputSizes") or []),
        "output_sizes": list(graph.get("outputSizes") or []),
        "embedding": {
            "0": {"opt_id": 0, "opt_type": str(first.get("operationType")), "opt_params": params}
        },
    }
    return {"architecture": json.dumps(architecture), "nn_config": swapped_json.dumps(nn_config)}


def _darts_values(
    layers: int, spec: Mapping[str, Any], operations: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Settings object, primitive list and layer count, in the service's forms (contract 3.3)."""
    algorithm = spec.get("algorithm") or {}
    settings = {
        str(item.get("name")): item.get("value")
        for item in algorithm.get("algorithmSettings") or []
        if isinstance(item, Mapping)
    }
    settings.setdefault("num_epochs", 50)
    settings.setdefault("w_lr", 0.025)
    primitives = [f"{op.get('operationType')}_3x3" for op in operations] or ["skip_connection"]
    return {
        "algorithm-settings": swapped_json.dumps(settings),
        "search-space": swapped_json.dumps(primitives),
        "num-layers": str(layers),
    }


def _check_argv(trial: TrialImage, words: Sequence[str], values: Mapping[str, str]) -> str | None:
    """Why the image would not run ``words`` after substitution, or None when it would."""
    line = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), " ".join(words))
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        return f"sh cannot split the command {line!r}: {exc}"
    if not argv or not PYTHON.match(posixpath.basename(argv[0])):
        return (
            f"the image runs Python: the command must start with python3 (got "
            f"{argv[0] if argv else 'nothing'!r}), e.g. {' '.join(trial.entrypoint)} ..."
        )
    position = 1
    while position < len(argv) and argv[position] in PYTHON_FLAGS:
        position += 1
    if position >= len(argv):
        return "the command names no program after python"
    program = argv[position]
    if program == "-m":
        module = argv[position + 1] if position + 1 < len(argv) else ""
        if module != trial.module:
            return f"-m {module!r} is not in {trial.reference}; it runs -m {trial.module}"
        rest = argv[position + 2 :]
    else:
        script = posixpath.normpath(posixpath.join(trial.workdir, program))
        expected = posixpath.join(trial.workdir, trial.script)
        if script != expected:
            return (
                f"{program!r} is not in {trial.reference}; its program is {trial.script} "
                f"in {trial.workdir} (or -m {trial.module})"
            )
        rest = argv[position + 1 :]
    return _parse_error(trial, rest)


def _parse_error(trial: TrialImage, argv: Sequence[str]) -> str | None:
    """The trial parser's own complaint about ``argv``, or None when it accepts them."""
    parser = importlib.import_module(f"{trial.module}.cli").build_parser()
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured), contextlib.redirect_stdout(captured):
            parser.parse_args(list(argv))
    except SystemExit as exit_:
        if exit_.code in (0, None):
            return None
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {exit_.code}"
        return f"the trial rejects its arguments after substitution: {reason}"
    return None
