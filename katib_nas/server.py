"""The gRPC server shared by the suggestion services: build it, then serve until a signal.

The server answers Katib's Suggestion API and the standard gRPC health service. Health reports
SERVING for ``manager.v1beta1.Suggestion`` (the name Kubernetes' gRPC probe asks Katib's
suggestion pods for), ``api.v1.beta1.Suggestion`` (the real service name) and ``""`` (the
whole server). SIGTERM or SIGINT turns health to NOT_SERVING, refuses new calls and lets
in-flight ones finish within a grace period.

Request bytes that do not parse as the method's request message (truncated, corrupted, invalid
UTF-8 in a string) are answered INVALID_ARGUMENT naming the message type, rather than the
INTERNAL that grpcio answers when a request cannot be deserialised.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from katib_nas.api import api_pb2, api_pb2_grpc

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
    server.add_generic_rpc_handlers((_suggestion_handlers(servicer),))
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


@dataclass(frozen=True)
class _Undecodable:
    """Request bytes that are not a valid ``message_type``, and the parser's reason."""

    message_type: str
    reason: str


def _lenient_parser(message_class: Any) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return message_class.FromString(data)
        except DecodeError as error:
            return _Undecodable(message_class.DESCRIPTOR.full_name, str(error))

    return parse


def _refusing_undecodable(method: str, behaviour: Callable[[Any, Any], Any]) -> Callable:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, _Undecodable):
            log.warning(
                "method=%s result=INVALID_ARGUMENT reason=%r", method, "undecodable request"
            )
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the request is not a valid {request.message_type}: {request.reason}",
            )
        return behaviour(request, context)

    return handle


def _suggestion_handlers(servicer: api_pb2_grpc.SuggestionServicer) -> grpc.GenericRpcHandler:
    """Katib's Suggestion service, with requests parsed by :func:`_lenient_parser`."""
    methods = {
        "GetSuggestions": (
            servicer.GetSuggestions,
            api_pb2.GetSuggestionsRequest,
            api_pb2.GetSuggestionsReply,
        ),
        "ValidateAlgorithmSettings": (
            servicer.ValidateAlgorithmSettings,
            api_pb2.ValidateAlgorithmSettingsRequest,
            api_pb2.ValidateAlgorithmSettingsReply,
        ),
    }
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            _refusing_undecodable(name, behaviour),
            request_deserializer=_lenient_parser(request_class),
            response_serializer=reply_class.SerializeToString,
        )
        for name, (behaviour, request_class, reply_class) in methods.items()
    }
    service = api_pb2.DESCRIPTOR.services_by_name["Suggestion"].full_name
    return grpc.method_handlers_generic_handler(service, handlers)
