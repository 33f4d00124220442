"""The gRPC server shared by the suggestion services: build it, then serve until a signal.

The server answers Katib's Suggestion API and the standard gRPC health service. Health reports
SERVING for ``manager.v1beta1.Suggestion`` (the name Kubernetes' gRPC probe asks Katib's
suggestion pods for), ``api.v1.beta1.Suggestion`` (the real service name) and ``""`` (the
whole server). SIGTERM or SIGINT turns health to NOT_SERVING, refuses new calls and lets
in-flight ones finish within a grace period.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from katib_nas.api import api_pb2_grpc

log = logging.getLogger(__name__)

DEFAULT_PORT = 6789
DEFAULT_GRACE_SECONDS = 30.0
HEALTH_SERVICE_NAMES = ("", "manager.v1beta1.Suggestion", "api.v1.beta1.Suggestion")


class SuggestionServer:
    """A started-or-not gRPC server with its health servicer and the port it is bound to."""

    def __init__(self, server: grpc.Server, health_servicer: health.HealthServicer, port: int):
        self.server = server
        self.health = health_servicer
        self.port = port

    def start(self) -> None:
        self.server.start()
        for name in HEALTH_SERVICE_NAMES:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """Stop taking calls and wait up to ``grace`` seconds for in-flight ones."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()


def create_server(
    servicer: api_pb2_grpc.SuggestionServicer,
    port: int = DEFAULT_PORT,
    *,
    host: str = "0.0.0.0",
    max_workers: int = 10,
) -> SuggestionServer:
    """A server for ``servicer`` bound to ``host:port`` (port 0 picks a free one)."""
    # Without SO_REUSEPORT a second service on the same port fails instead of sharing it.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers), options=[("grpc.so_reuseport", 0)]
    )
    api_pb2_grpc.add_SuggestionServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}: the address is in use or not allowed")
    return SuggestionServer(server, health_servicer, bound)


def serve(
    server: SuggestionServer,
    grace: float = DEFAULT_GRACE_SECONDS,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Start ``server`` and block until SIGTERM or SIGINT, then stop it gracefully."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal=%s action=stopping grace_s=%s", signal.Signals(signum).name, grace)
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        log.info("event=listening port=%d", server.port)
        if on_started:
            on_started()
        stopping.wait()
        server.stop(grace)
        log.info("event=stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
