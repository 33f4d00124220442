"""The thin adapter between Katib's Suggestion RPCs and an algorithm core.

A subclass implements :meth:`SuggestionServicer.validate` and :meth:`SuggestionServicer.suggest`
on plain data (``katib_nas.wire``). This base converts the messages, serialises calls for the
same experiment, answers ``INVALID_ARGUMENT`` for :class:`~katib_nas.errors.InvalidArgument`,
and logs one line per call: experiment, method, request size, result and milliseconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from katib_nas import wire
from katib_nas.api import api_pb2, api_pb2_grpc
from katib_nas.errors import InvalidArgument

log = logging.getLogger(__name__)

# Katib asks for at most parallelTrialCount suggestions at once. A larger number is a client
# error, and answering it could exhaust memory or build a reply larger than the 4 MiB that gRPC
# clients (Katib's controller among them) accept by default.
MAX_SUGGESTIONS_PER_CALL = 1000
MAX_REPLY_BYTES = 4 * 1024 * 1024


class SuggestionServicer(api_pb2_grpc.SuggestionServicer):
    """Base of the ENAS and DARTS servicers."""

    algorithm_name = ""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def validate(self, experiment: wire.Experiment) -> None:
        """Raise InvalidArgument when the Experiment cannot be served."""
        raise NotImplementedError

    def suggest(
        self, experiment: wire.Experiment, trials: list[wire.TrialRecord], count: int
    ) -> list[wire.Assignments]:
        """Exactly ``count`` suggestions, each a list of (assignment name, value)."""
        raise NotImplementedError

    @contextmanager
    def experiment_lock(self, name: str) -> Iterator[None]:
        """Calls for one experiment run one at a time; different experiments run in parallel."""
        with self._locks_guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            yield

    def ValidateAlgorithmSettings(
        self, request: api_pb2.ValidateAlgorithmSettingsRequest, context: grpc.ServicerContext
    ) -> api_pb2.ValidateAlgorithmSettingsReply:
        def call() -> api_pb2.ValidateAlgorithmSettingsReply:
            self.validate(wire.experiment_from_proto(request.experiment))
            return api_pb2.ValidateAlgorithmSettingsReply()

        return self._handle("ValidateAlgorithmSettings", request, context, call)

    def GetSuggestions(
        self, request: api_pb2.GetSuggestionsRequest, context: grpc.ServicerContext
    ) -> api_pb2.GetSuggestionsReply:
        def call() -> api_pb2.GetSuggestionsReply:
            count = request.current_request_number
            if not 0 <= count <= MAX_SUGGESTIONS_PER_CALL:
                raise InvalidArgument(
                    f"current_request_number must be in [0, {MAX_SUGGESTIONS_PER_CALL}], "
                    f"got {count}"
                )
            experiment = wire.experiment_from_proto(request.experiment)
            trials = wire.trials_from_proto(request.trials)
            with self.experiment_lock(experiment.name):
                self.validate(experiment)
                suggestions = self.suggest(experiment, trials, count)
            if len(suggestions) != count:
                raise RuntimeError(f"{len(suggestions)} suggestions made for {count} requested")
            reply = wire.reply_from_assignments(suggestions)
            if reply.ByteSize() > MAX_REPLY_BYTES:
                raise InvalidArgument(
                    f"{count} suggestions make a reply of {reply.ByteSize()} bytes, more than "
                    f"the {MAX_REPLY_BYTES} a gRPC client accepts by default; ask for fewer"
                )
            return reply

        return self._handle("GetSuggestions", request, context, call)

    def _handle(
        self,
        method: str,
        request: Any,
        context: grpc.ServicerContext,
        call: Callable[[], Any],
    ) -> Any:
        started = time.perf_counter()
        experiment = request.experiment.name
        size = request.ByteSize()
        try:
            reply = call()
        except InvalidArgument as error:
            self._log(method, experiment, size, "INVALID_ARGUMENT", started, str(error))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except Exception as error:
            log.exception("experiment=%s method=%s result=INTERNAL", experiment, method)
            context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")
        self._log(method, experiment, size, "OK", started)
        return reply

    def _log(
        self, method: str, experiment: str, size: int, result: str, started: float, why: str = ""
    ) -> None:
        ms = (time.perf_counter() - started) * 1000
        extra = f" reason={why!r}" if why else ""
        log.info(
            "experiment=%s method=%s algorithm=%s request_bytes=%d result=%s ms=%.1f%s",
            experiment or '""',
            method,
            self.algorithm_name,
            size,
            result,
            ms,
            extra,
        )
