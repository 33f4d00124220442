"""``python -m katib_nas.enas [--port N] [--state-dir DIR]``: the ENAS suggestion service."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from katib_nas.entrypoint import main_for
from katib_nas.servicer import SuggestionServicer

DESCRIPTION = (
    "Katib ENAS suggestion service: an LSTM controller (TensorFlow) that suggests "
    "architectures and learns from the trials' results by REINFORCE, keeping its state per "
    "experiment in a directory so that a restarted service continues where it stopped."
)

# Keras imports these when they are installed, to offer adapters this service never uses.
# The service image does not install them; keeping them out of a development environment too
# makes the service's memory here what it is in the container (about 90 MiB less).
UNUSED_OPTIONAL_MODULES = ("pandas", "sklearn", "matplotlib", "scipy", "IPython", "PIL", "jax")


def keep_unused_modules_out() -> None:
    """Block the optional modules above; switch off oneDNN's rewrites for TensorFlow.

    The controller's matrices are tiny (64 units): oneDNN's kernels make its calls slower
    (measured 68 -> 55 ms median per call) and cost memory, so they are off unless the
    environment asks for them.
    """
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    for name in UNUSED_OPTIONAL_MODULES:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="directory for the per-experiment controller state (default: /opt/katib/data "
        "when it exists and is writable, where Katib mounts the suggestion volume under "
        "ResumePolicy FromVolume; else ./katib-nas-state)",
    )
    parser.add_argument(
        "--evict-after",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="drop an experiment from memory after this many idle seconds; its state stays on "
        "disk (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed for new experiments' controllers (default: fresh entropy); a restored "
        "experiment continues with its stored random state",
    )


def make_servicer(args: argparse.Namespace) -> SuggestionServicer:
    keep_unused_modules_out()
    from katib_nas.enas.service import EnasServicer
    from katib_nas.enas.state import default_state_dir

    state_dir = args.state_dir or default_state_dir()
    logging.getLogger(__name__).info("service=enas state_dir=%s", state_dir)
    return EnasServicer(state_dir, idle_seconds=args.evict_after, seed=args.seed)


def main(argv: Sequence[str] | None = None) -> int:
    return main_for("python -m katib_nas.enas", DESCRIPTION, make_servicer, argv, add_arguments)


if __name__ == "__main__":
    sys.exit(main())
