"""A Dockerfile read into what the build checks need: base, steps in order, pip installs.

``ARG`` defaults are substituted into ``FROM`` (``ARG PYTHON_IMAGE=...`` then
``FROM ${PYTHON_IMAGE}``), as ``docker build`` does without ``--build-arg``.

Parsing (continuation lines, JSON and shell forms) is done by ``dockerfile-parse``; this module
only groups the instructions. ``RUN`` steps are split at ``&&`` and ``;`` into commands, and the
``pip install`` commands among them (``pip``, ``pip3``, ``python -m pip``) are kept with their
arguments, so they can be replayed in a virtual environment.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from dockerfile_parse import DockerfileParser

ARG_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
PIP = re.compile(r"^(pip3?(\.\d+)?|python3?(\.\d+)?\s+-m\s+pip)\s+install\s")


@dataclass(frozen=True)
class Step:
    """One instruction: its keyword, its value as written, and the WORKDIR it runs in."""

    instruction: str
    value: str
    workdir: str
    line: int


@dataclass
class Dockerfile:
    path: Path
    steps: list[Step] = field(default_factory=list)

    def values(self, instruction: str) -> list[str]:
        return [s.value for s in self.steps if s.instruction == instruction]

    @property
    def bases(self) -> list[str]:
        """The image of every FROM (one per stage), without ``AS name``."""
        return [value.split()[0] for value in self.values("FROM")]

    @property
    def workdir(self) -> str:
        return self.steps[-1].workdir if self.steps else "/"

    @property
    def env(self) -> dict[str, str]:
        """ENV of the final stage, ``KEY=value`` and legacy ``KEY value`` forms."""
        result: dict[str, str] = {}
        for value in self.values("ENV"):
            words = shlex.split(value)
            if words and "=" not in words[0]:
                result[words[0]] = " ".join(words[1:])
                continue
            for word in words:
                key, _, item = word.partition("=")
                result[key] = item
        return result

    @property
    def user(self) -> str | None:
        users = self.values("USER")
        return users[-1].strip() if users else None

    @property
    def exposed(self) -> list[str]:
        return [port for value in self.values("EXPOSE") for port in value.split()]

    @property
    def entrypoint(self) -> list[str]:
        return _exec_form(self.values("ENTRYPOINT"))

    @property
    def cmd(self) -> list[str]:
        return _exec_form(self.values("CMD"))

    def run_commands(self) -> list[tuple[Step, str]]:
        """Each command of each RUN step, split at ``&&`` and ``;``."""
        commands = []
        for step in self.steps:
            if step.instruction == "RUN":
                for part in re.split(r"&&|;", step.value):
                    if part.strip():
                        commands.append((step, " ".join(part.split())))
        return commands

    def pip_installs(self) -> list[tuple[Step, list[str]]]:
        """``(step, arguments after 'install')`` of every pip install command."""
        found = []
        for step, command in self.run_commands():
            match = PIP.match(command + " ")
            if match:
                found.append((step, shlex.split(command[match.end() :])))
        return found


def _exec_form(values: list[str]) -> list[str]:
    if not values:
        return []
    value = values[-1].strip()
    try:
        words = json.loads(value)
    except json.JSONDecodeError:
        return ["/bin/sh", "-c", value]
    return [str(word) for word in words]


def parse(path: Path) -> Dockerfile:
    with path.open("rb") as handle:
        parser = DockerfileParser(fileobj=handle)
        structure = parser.structure
    dockerfile = Dockerfile(path)
    workdir = "/"
    arguments: dict[str, str] = {}
    for item in structure:
        instruction = item["instruction"].upper()
        value = item["value"]
        if instruction == "ARG":
            name, _, default = value.partition("=")
            arguments[name.strip()] = default.strip().strip('"')
        if instruction == "FROM":
            value = ARG_REFERENCE.sub(lambda m: arguments.get(m.group(1), m.group(0)), value)
            workdir = "/"
        elif instruction == "WORKDIR":
            workdir = value if value.startswith("/") else f"{workdir.rstrip('/')}/{value}"
        dockerfile.steps.append(Step(instruction, value, workdir, item["startline"] + 1))
    return dockerfile
