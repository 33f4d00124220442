"""The command line every suggestion service shares: parse flags, build the servicer, serve."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from katib_nas.logs import configure_logging
from katib_nas.server import DEFAULT_GRACE_SECONDS, DEFAULT_PORT, create_server, serve
from katib_nas.servicer import SuggestionServicer

log = logging.getLogger(__name__)

PORT_ENV = "KATIB_NAS_PORT"


def build_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    from_env = os.environ.get(PORT_ENV, str(DEFAULT_PORT))
    try:
        default_port = int(from_env)
    except ValueError:
        parser.error(f"${PORT_ENV}={from_env!r} is not a port number")
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        help=f"TCP port to listen on, on all interfaces; 0 picks a free one (default: "
        f"${PORT_ENV} or {DEFAULT_PORT}, the port Katib's controller dials)",
    )
    parser.add_argument(
        "--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)"
    )
    parser.add_argument(
        "--port-file",
        type=Path,
        help="write the port actually bound to this file once listening (useful with --port 0)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE_SECONDS,
        help="seconds in-flight calls may take to finish after SIGTERM (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("KATIB_NAS_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging level; logs go to stderr (default: INFO)",
    )
    return parser


def run_service(
    args: argparse.Namespace, make_servicer: Callable[[argparse.Namespace], SuggestionServicer]
) -> int:
    """Serve the servicer ``make_servicer(args)`` until SIGTERM or SIGINT."""
    configure_logging(args.log_level)
    servicer = make_servicer(args)
    try:
        server = create_server(servicer, args.port, host=args.host)
    except OSError as error:
        log.error("event=failed reason=%r", str(error))
        print(f"error: {error}", file=sys.stderr)
        return 2

    def write_port_file() -> None:
        if args.port_file:
            temporary = args.port_file.with_name(args.port_file.name + ".tmp")
            temporary.write_text(f"{server.port}\n")
            os.replace(temporary, args.port_file)

    log.info("service=%s port=%d event=starting", servicer.algorithm_name, server.port)
    serve(server, args.grace, on_started=write_port_file)
    return 0


def main_for(
    prog: str,
    description: str,
    make_servicer: Callable[[argparse.Namespace], SuggestionServicer],
    argv: Sequence[str] | None = None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    parser = build_parser(prog, description)
    if add_arguments:
        add_arguments(parser)
    return run_service(parser.parse_args(argv), make_servicer)
