"""The algorithm's suggestion service, started on a free loopback port and called as Katib does.

:class:`SuggestionService` either starts ``python -m katib_nas.<algorithm> --port 0 --port-file F``
(plus ``--state-dir D`` for ENAS, so its controller continues from the work directory after a
restart) or connects to ``--suggestion-address``. It waits until the gRPC health service reports
``SERVING`` for ``manager.v1beta1.Suggestion`` (Katib's readiness probe), then:

* :meth:`validate` calls ``ValidateAlgorithmSettings`` once. As in Katib's Suggestion controller,
  ``INVALID_ARGUMENT`` and ``UNKNOWN`` reject the Experiment, ``UNAVAILABLE`` is retried, and
  any other answer counts as valid.
* :meth:`get_suggestions` calls ``GetSuggestions`` with Katib's 60 s deadline and checks that
  the reply holds exactly the number of assignments asked for. When a call fails because the
  service started here has died, it is started again (as Kubernetes restarts a crashed
  suggestion pod; ENAS continues from its state directory) and the call is repeated, up to
  ``MAX_RESTARTS`` times in a row.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from katib_nas.api import api_pb2, api_pb2_grpc
from katib_nas.runner.trials import guarded, trial_environment_base

log = logging.getLogger(__name__)

HEALTH_SERVICE = "manager.v1beta1.Suggestion"
RPC_TIMEOUT = 60.0
START_TIMEOUT = 120.0  # a service started here: Python, gRPC and (ENAS) TensorFlow imports
CONNECT_TIMEOUT = 10.0  # a service given by address is expected to be up already
VALIDATE_RETRIES = 10
MAX_RESTARTS = 3  # consecutive restarts of a dead service before giving up


class SuggestionError(RuntimeError):
    """The suggestion service could not be started or reached, or answered with an error."""


class SettingsRejected(SuggestionError):
    """ValidateAlgorithmSettings rejected the Experiment (INVALID_ARGUMENT or UNKNOWN)."""


class SuggestionService:
    """A connection to a suggestion service, started here or already running elsewhere."""

    def __init__(
        self,
        algorithm: str,
        workdir: Path,
        address: str | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.algorithm = algorithm
        self.workdir = workdir
        self.address = address
        self.state_dir = state_dir
        self.log_path = workdir / "suggestion.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self._stub: api_pb2_grpc.SuggestionStub | None = None
        self.restarts = 0

    def __enter__(self) -> SuggestionService:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the service (unless an address was given) and wait until it is SERVING."""
        timeout = START_TIMEOUT if self.address is None else CONNECT_TIMEOUT
        deadline = time.monotonic() + timeout
        if self.address is None:
            self.address = f"127.0.0.1:{self._spawn(deadline)}"
        self.channel = grpc.insecure_channel(self.address)
        self._stub = api_pb2_grpc.SuggestionStub(self.channel)
        self._wait_serving(deadline)
        log.info("algorithm=%s address=%s serving", self.algorithm, self.address)

    def _spawn(self, deadline: float) -> int:
        extra: list[str] = []
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            extra = ["--state-dir", str(self.state_dir)]
        self.process, port = start_service_process(
            self.algorithm,
            self.workdir,
            extra,
            log_path=self.log_path,
            env=trial_environment_base(),
            deadline=deadline,
        )
        return port

    def _wait_serving(self, deadline: float) -> None:
        assert self.channel is not None
        health = health_pb2_grpc.HealthStub(self.channel)
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SuggestionError(
                    f"the {self.algorithm} suggestion service exited with code "
                    f"{self.process.returncode}; log:\n{self.log_tail()}"
                )
            try:
                reply = health.Check(
                    health_pb2.HealthCheckRequest(service=HEALTH_SERVICE), timeout=2.0
                )
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            except grpc.RpcError as exc:
                last = f"{exc.code().name}: {exc.details()}"
            time.sleep(0.2)
        raise SuggestionError(
            f"the suggestion service at {self.address} is not SERVING {HEALTH_SERVICE} ({last})"
        )

    @property
    def stub(self) -> api_pb2_grpc.SuggestionStub:
        if self._stub is None:
            raise SuggestionError("the suggestion service is not started")
        return self._stub

    def validate(self, experiment: api_pb2.Experiment) -> None:
        """ValidateAlgorithmSettings, with the outcomes Katib's Suggestion controller gives."""
        request = api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment)
        for attempt in range(1, VALIDATE_RETRIES + 1):
            try:
                self.stub.ValidateAlgorithmSettings(request, timeout=RPC_TIMEOUT)
                return
            except grpc.RpcError as exc:
                code = exc.code()
                if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNKNOWN):
                    raise SettingsRejected(
                        f"ValidateAlgorithmSettings Error: {exc.details()}"
                    ) from exc
                if code is grpc.StatusCode.UNAVAILABLE and attempt < VALIDATE_RETRIES:
                    log.warning("validate attempt=%d code=UNAVAILABLE retrying", attempt)
                    time.sleep(min(3.0, 0.5 * attempt))
                    continue
                if code is grpc.StatusCode.UNAVAILABLE:
                    raise SuggestionError(
                        f"suggestion service unavailable: {exc.details()}"
                    ) from exc
                log.warning(
                    "validate code=%s details=%r treated as valid, as Katib does",
                    code.name,
                    exc.details(),
                )
                return

    def get_suggestions(
        self, request: api_pb2.GetSuggestionsRequest, retries: int = 3
    ) -> api_pb2.GetSuggestionsReply:
        """GetSuggestions; a dead service is restarted, UNAVAILABLE is retried, other errors
        raise SuggestionError."""
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self.stub.GetSuggestions(request, timeout=RPC_TIMEOUT)
                self.restarts = 0
                break
            except grpc.RpcError as exc:
                if self._restart_if_dead():
                    attempt = 0
                    continue
                if exc.code() is grpc.StatusCode.UNAVAILABLE and attempt < retries:
                    log.warning("get_suggestions attempt=%d code=UNAVAILABLE retrying", attempt)
                    time.sleep(1.0 * attempt)
                    continue
                raise SuggestionError(
                    f"GetSuggestions failed with {exc.code().name}: "
                    f"{exc.details()}\n{self.log_tail()}"
                ) from exc
        wanted = request.current_request_number
        if len(reply.parameter_assignments) != wanted:
            raise SuggestionError(
                f"The response contains unexpected trials: asked for {wanted}, "
                f"got {len(reply.parameter_assignments)}"
            )
        return reply

    def _restart_if_dead(self) -> bool:
        """Start the service again if this runner started it and it has exited."""
        if self.process is None or self.process.poll() is None or self.restarts >= MAX_RESTARTS:
            return False
        self.restarts += 1
        log.warning(
            "algorithm=%s pid=%d exit_code=%s the suggestion service died; restarting it "
            "(restart %d of at most %d in a row)",
            self.algorithm,
            self.process.pid,
            self.process.returncode,
            self.restarts,
            MAX_RESTARTS,
        )
        if self.channel is not None:
            self.channel.close()
        self.process, self.address = None, None
        self.start()
        return True

    def log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log_path, lines)

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def start_service_process(
    algorithm: str,
    workdir: Path,
    extra_args: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str],
    deadline: float,
    guard: bool = True,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python -m katib_nas.<algorithm>`` on a free loopback port; its process and port.

    The service runs in ``workdir``, in a session of its own, with stdout and stderr appended to
    ``log_path``; with ``guard`` it dies with this process (:func:`guarded`). The port is the one
    the service writes to ``workdir/suggestion.port`` once it listens. Raises SuggestionError,
    with the end of the log, when the service exits first or has not written it by ``deadline``
    (the service is then killed).
    """
    port_file = workdir / "suggestion.port"
    port_file.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        f"katib_nas.{algorithm}",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        *extra_args,
    ]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            guarded(argv) if guard else argv,
            cwd=workdir,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    log.info("algorithm=%s pid=%d starting argv=%s", algorithm, process.pid, " ".join(argv))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SuggestionError(
                f"the {algorithm} suggestion service exited with code "
                f"{process.returncode} before listening; its log "
                f"({log_path}) ends with:\n{log_tail(log_path)}"
            )
        port = _read_port(port_file)
        if port is not None:
            return process, port
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise SuggestionError(
        f"the {algorithm} suggestion service did not write its port "
        f"to {port_file} in time; log:\n{log_tail(log_path)}"
    )


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, or ``(no log)`` when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _read_port(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    text = text.rpartition(":")[2]
    return int(text) if text.isdigit() and int(text) > 0 else None
