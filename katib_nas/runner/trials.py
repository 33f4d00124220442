"""Trials as local processes: the trial template's command, substituted and run without a shell.

Katib builds a trial by replacing every ``${trialParameters.NAME}`` in the trial template with the
value of the assignment the parameter references (or with trial metadata for references such as
``${trialSpec.Name}``). Its metrics collector then runs the primary container's command and
arguments, joined by spaces, under ``sh -c``; the shell splits the words and removes the double
quotes Katib's examples put around values such as ``--nn_config="{'num_layers': 1, ...}"``.

Here the same joined string is split with :func:`shlex.split` (the shell's quoting rules, without
expansions or operators) into an argument list that is run directly. The container image is not
run, so the command runs in this Python environment: ``python``/``python3`` becomes
:data:`sys.executable`, and Katib's example trial scripts map to this package's trials
(``RunTrial.py`` -> ``-m katib_nas.trials.enas_cnn``, ``run_trial.py`` ->
``-m katib_nas.trials.darts_cnn``). A relative script path is resolved against the Experiment
file's directory when the script is there. Each trial runs in its own directory with stdout and
stderr written to one log, as Katib's collector sees them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import katib_nas
from katib_nas.runner.experiment import Experiment
from katib_nas.runner.template_checks import PLACEHOLDER

log = logging.getLogger(__name__)

META_REFERENCE = re.compile(r"^\$\{trialSpec\.([A-Za-z]+)(?:\[([^\]]+)\])?\}$")
PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")

# Katib's example trial scripts -> the module of this package that takes the same flags.
KATIB_TRIAL_SCRIPTS = {
    "RunTrial.py": "katib_nas.trials.enas_cnn",
    "run_trial.py": "katib_nas.trials.darts_cnn",
}
PACKAGE_ROOT = Path(katib_nas.__file__).resolve().parent.parent


class TrialCommandError(ValueError):
    """The trial template cannot be turned into a command for this trial."""


def parameter_values(
    experiment: Experiment, trial_name: str, assignments: Mapping[str, str]
) -> dict[str, str]:
    """trialParameter name -> its value for this trial (an assignment or trial metadata)."""
    metadata = experiment.trial_spec.get("metadata") or {}
    values = {}
    for parameter in experiment.trial_parameters:
        meta = META_REFERENCE.match(parameter.reference)
        if meta is None:
            if parameter.reference not in assignments:
                raise TrialCommandError(
                    f"trial parameter {parameter.name!r} references {parameter.reference!r}, "
                    f"which the suggestion did not assign (got {', '.join(assignments)})"
                )
            values[parameter.name] = assignments[parameter.reference]
            continue
        key, item = meta.group(1), meta.group(2)
        if key == "Name":
            values[parameter.name] = trial_name
        elif key == "Namespace":
            values[parameter.name] = experiment.namespace
        elif key == "Kind":
            values[parameter.name] = str(experiment.trial_spec.get("kind", ""))
        elif key == "APIVersion":
            values[parameter.name] = str(experiment.trial_spec.get("apiVersion", ""))
        elif key in ("Labels", "Annotations") and item is not None:
            table = metadata.get(key.lower()) or {}
            values[parameter.name] = str(table.get(item, ""))
        else:
            raise TrialCommandError(f"unknown trial metadata reference {parameter.reference!r}")
    return values


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every ``${trialParameters.NAME}`` replaced by its value, verbatim."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TrialCommandError(f"${{trialParameters.{name}}} has no value")
        return values[name]

    return PLACEHOLDER.sub(replace, text)


def primary_container(experiment: Experiment) -> dict[str, Any]:
    containers = experiment.trial_spec["spec"]["template"]["spec"]["containers"]
    for container in containers:
        if container.get("name") == experiment.primary_container_name:
            return dict(container)
    raise TrialCommandError(f"no container named {experiment.primary_container_name!r}")


def shell_words(words: Sequence[str]) -> list[str]:
    """The argument list ``sh -c "<words joined by spaces>"`` would run (quotes removed)."""
    joined = " ".join(words)
    try:
        return shlex.split(joined, posix=True)
    except ValueError as exc:
        raise TrialCommandError(
            f"the trial command {joined!r} cannot be split as sh would: {exc}"
        ) from exc


def localise(argv: Sequence[str], source_dir: Path) -> list[str]:
    """Map the container command to this machine: this Python, this package's trials."""
    words = list(argv)
    if not words or not PYTHON.match(os.path.basename(words[0])):
        return words
    words[0] = sys.executable
    index = 1
    while index < len(words) and words[index].startswith("-") and words[index] not in ("-m", "-c"):
        index += 1
    if index >= len(words) or words[index] in ("-m", "-c"):
        return words
    script = words[index]
    module = KATIB_TRIAL_SCRIPTS.get(os.path.basename(script))
    if module is not None:
        return [*words[:index], "-m", module, *words[index + 1 :]]
    candidate = source_dir / script
    if not os.path.isabs(script) and candidate.is_file():
        words[index] = str(candidate)
    return words


def build_command(
    experiment: Experiment, trial_name: str, assignments: Mapping[str, str]
) -> list[str]:
    """The argument list of one trial: substituted, split as sh would, mapped to this machine."""
    container = primary_container(experiment)
    values = parameter_values(experiment, trial_name, assignments)
    words = [substitute(str(w), values) for w in (container.get("command") or [])]
    words += [substitute(str(w), values) for w in (container.get("args") or [])]
    argv = shell_words(words)
    if not argv:
        raise TrialCommandError("the primary container's command is empty")
    return localise(argv, experiment.source_dir)


def trial_environment_base() -> dict[str, str]:
    """This process's environment with this package importable and Python unbuffered."""
    env = dict(os.environ)
    paths = [str(PACKAGE_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def trial_environment(experiment: Experiment) -> dict[str, str]:
    """The base environment plus the primary container's ``env`` values."""
    env = trial_environment_base()
    for item in primary_container(experiment).get("env") or []:
        if isinstance(item, Mapping) and "value" in item:
            env[str(item["name"])] = str(item["value"])
        elif isinstance(item, Mapping):
            log.warning("env=%s source=valueFrom ignored locally", item.get("name"))
    return env


def guarded(argv: Sequence[str]) -> list[str]:
    """``argv`` run through the orphan guard: it dies with this process, even on SIGKILL."""
    if not sys.platform.startswith("linux"):
        return list(argv)
    return [sys.executable, "-m", "katib_nas.runner.orphan_guard", str(os.getpid()), "--", *argv]


@dataclass
class TrialProcess:
    """A running trial: its process (its own process group) and its open log."""

    name: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]
    started: float = field(default_factory=time.monotonic)

    def running_for(self) -> float:
        """Seconds since the trial started."""
        return time.monotonic() - self.started

    @classmethod
    def start(
        cls, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log_path: Path
    ) -> TrialProcess:
        cwd.mkdir(parents=True, exist_ok=True)
        log_file = open(log_path, "wb")  # noqa: SIM115 - closed in finish()
        try:
            process = subprocess.Popen(
                guarded(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError:
            log_file.close()
            raise
        log.info("trial=%s pid=%d started argv=%s", name, process.pid, shlex.join(argv))
        return cls(name, process, log_file)

    def poll(self) -> int | None:
        code = self.process.poll()
        if code is not None:
            self.log_file.close()
        return code

    def stop(self, grace: float = 10.0) -> int:
        """SIGTERM to the trial's process group, SIGKILL after ``grace`` seconds."""
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.process.poll() is None:
            self._signal(signal.SIGKILL)
        code = self.process.wait()
        self.log_file.close()
        return code

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)
