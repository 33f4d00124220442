"""The image rules katib-nas holds its Dockerfiles to, beyond what hadolint checks.

Each rule takes a parsed :class:`~tests.k8s.dockerfiles.Dockerfile` and returns the ways it is
broken (``[]`` when it holds):

* pinned base: every ``FROM`` names a full version (``3.11.14-slim-bookworm``) or a digest,
  never ``latest`` or a moving ``3.11-slim``;
* pinned packages: every ``pip install`` requirement is ``name==version`` (or the project itself,
  whose own dependencies are pinned in pyproject.toml), and ``--no-cache-dir`` keeps pip's cache
  out of the layer (or ``ENV PIP_NO_CACHE_DIR=1``);
* non-root: the last ``USER`` is a numeric UID other than 0 (Kubernetes' ``runAsNonRoot`` can
  only verify a number);
* OpenShift: the working directory (and, for a service, the state directory) belongs to group 0
  with group write permission (``chgrp -R 0`` and ``chmod -R g+rwX``), since OpenShift runs the
  container as an arbitrary UID in group 0;
* suggestion services: ``EXPOSE 6789`` and the state directory ``/opt/katib/data`` (where Katib
  mounts the suggestion volume) created in the image;
* an exec-form ``ENTRYPOINT``, so signals reach Python and the service can stop gracefully.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from tests.k8s.dockerfiles import Dockerfile

CACHE_OFF = ("1", "true", "yes", "off")
SUGGESTION_PORT = "6789"
STATE_DIR = "/opt/katib/data"
PINNED_TAG = re.compile(r"\d+\.\d+\.\d+")
PINNED_REQUIREMENT = re.compile(r"^[A-Za-z0-9_.\-]+(\[[A-Za-z0-9_,.\-]+\])?==[A-Za-z0-9_.+!\-]+$")
LOCAL_PROJECT = re.compile(r"^\.(\[[A-Za-z0-9_,\-]+\])?$")
PIP_OPTIONS_WITH_VALUE = {
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
}


def is_service(dockerfile: Dockerfile) -> bool:
    words = " ".join(dockerfile.entrypoint).split()
    return any(word in ("katib_nas.enas", "katib_nas.darts") for word in words)


def pinned_base(dockerfile: Dockerfile) -> list[str]:
    problems = []
    for image in dockerfile.bases:
        name, _, tag = image.rpartition(":") if "@" not in image else (image, "", "@")
        if "@sha256:" in image:
            continue
        if not name or tag == "latest" or not PINNED_TAG.search(tag):
            problems.append(
                f"FROM {image}: pin a full version (e.g. python:3.11.14-slim-bookworm) or a digest"
            )
    return problems


def pinned_packages(dockerfile: Dockerfile) -> list[str]:
    problems = []
    for step, arguments in dockerfile.pip_installs():
        where = f"line {step.line}: pip install {' '.join(arguments)}"
        cache_off = dockerfile.env.get("PIP_NO_CACHE_DIR", "").lower() in CACHE_OFF
        if "--no-cache-dir" not in arguments and not cache_off:
            problems.append(f"{where}: add --no-cache-dir (keeps pip's cache out of the layer)")
        skip = False
        for word in arguments:
            if skip:
                skip = False
                continue
            if word in PIP_OPTIONS_WITH_VALUE:
                skip = True
                continue
            if word.startswith("-"):
                continue
            if not (PINNED_REQUIREMENT.match(word) or LOCAL_PROJECT.match(word)):
                problems.append(f"{where}: {word!r} is not pinned as name==version")
    return problems


def non_root_user(dockerfile: Dockerfile) -> list[str]:
    user = dockerfile.user
    if user is None:
        return ["no USER: the container would run as root"]
    uid = user.split(":")[0]
    if not uid.isdigit():
        return [f"USER {user}: use a numeric UID so runAsNonRoot can verify it"]
    if int(uid) == 0:
        return [f"USER {user}: runs as root"]
    return []


def _group_writable_dirs(dockerfile: Dockerfile) -> tuple[set[str], set[str]]:
    """Directories given to group 0 (``chgrp -R 0``) and made group-writable (``g+rwX``)."""
    owned: set[str] = set()
    writable: set[str] = set()
    for _, command in dockerfile.run_commands():
        words = shlex.split(command)
        if words[:3] == ["chgrp", "-R", "0"]:
            owned.update(w.rstrip("/") for w in words[3:])
        if (
            words[:2] == ["chmod", "-R"]
            and len(words) > 2
            and re.fullmatch(r"g\+rw[xX]|g=u", words[2])
        ):
            writable.update(w.rstrip("/") for w in words[3:])
    return owned, writable


def _covered(path: str, folders: set[str]) -> bool:
    return any(path == f or path.startswith(f + "/") for f in folders)


def openshift_group(dockerfile: Dockerfile) -> list[str]:
    owned, writable = _group_writable_dirs(dockerfile)
    wanted = [dockerfile.workdir] + ([STATE_DIR] if is_service(dockerfile) else [])
    return [
        f"{path}: give it to group 0 with group write (chgrp -R 0 {path} && "
        f"chmod -R g+rwX {path}) so OpenShift's arbitrary UIDs can write"
        for path in wanted
        if not (_covered(path, owned) and _covered(path, writable))
    ]


def service_port_and_state(dockerfile: Dockerfile) -> list[str]:
    if not is_service(dockerfile):
        return []
    problems = []
    if SUGGESTION_PORT not in [p.split("/")[0] for p in dockerfile.exposed]:
        problems.append(f"a suggestion service must EXPOSE {SUGGESTION_PORT}")
    made = any(
        command.startswith("mkdir") and STATE_DIR in command.split()
        for _, command in dockerfile.run_commands()
    )
    if not made:
        problems.append(f"create the state directory {STATE_DIR} (mkdir -p {STATE_DIR})")
    return problems


def exec_entrypoint(dockerfile: Dockerfile) -> list[str]:
    entrypoint = dockerfile.entrypoint
    if not entrypoint:
        return ["no ENTRYPOINT"]
    if entrypoint[:2] == ["/bin/sh", "-c"]:
        return ["ENTRYPOINT in shell form: use the JSON form so SIGTERM reaches Python"]
    return []


RULES: dict[str, Callable[[Dockerfile], list[str]]] = {
    "pinned base image": pinned_base,
    "pinned packages": pinned_packages,
    "non-root numeric USER": non_root_user,
    "OpenShift group permissions": openshift_group,
    "suggestion port and state directory": service_port_and_state,
    "exec-form ENTRYPOINT": exec_entrypoint,
}


def violations(dockerfile: Dockerfile) -> list[str]:
    return [f"{name}: {problem}" for name, rule in RULES.items() for problem in rule(dockerfile)]
