"""``katib-nas``: one command for the services and the local runner.

``katib-nas serve darts|enas [flags]`` is ``python -m katib_nas.darts|enas [flags]``;
``katib-nas run EXPERIMENT.yaml [flags]`` runs a Katib NAS Experiment on this machine.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SERVICES = ("darts", "enas")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="katib-nas",
        description="Katib-compatible ENAS and DARTS suggestion services and a local runner.",
        epilog="Run 'katib-nas serve darts --help' or 'katib-nas run --help' for each "
        "sub-command's flags.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve a suggestion service over gRPC")
    serve.add_argument("algorithm", choices=SERVICES)
    commands.add_parser("run", help="run a Katib NAS Experiment YAML locally", add_help=False)

    if args[:1] == ["run"]:
        from katib_nas.runner.cli import main as run_main

        return run_main(args[1:])
    known = parser.parse_args(args[:2] if args[:1] == ["serve"] else args)
    module = importlib.import_module(f"katib_nas.{known.algorithm}.__main__")
    return int(module.main(args[2:]))


if __name__ == "__main__":
    sys.exit(main())
