"""The server core: ports, health, graceful stop on SIGTERM, flags and the console script."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import grpc
from grpc_health.v1 import health_pb2

from katib_nas.api import api_pb2, api_pb2_grpc
from katib_nas.darts.service import DartsServicer
from katib_nas.server import create_server
from tests.conformance import experiments as ex
from tests.processes import REPO_ROOT, start_service, subprocess_env


class SlowServicer(DartsServicer):
    """DARTS answers that take a while, to have calls in flight when the server stops."""

    def suggest(self, experiment, trials, count):
        time.sleep(1.0)
        return super().suggest(experiment, trials, count)


def test_in_flight_calls_finish_within_the_grace_period():
    server = create_server(SlowServicer(), 0, host="127.0.0.1")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    stub = api_pb2_grpc.SuggestionStub(channel)
    replies: list[api_pb2.GetSuggestionsReply] = []
    callers = [
        threading.Thread(
            target=lambda: replies.append(
                stub.GetSuggestions(ex.request(ex.katib_darts_experiment(), 1), timeout=10)
            )
        )
        for _ in range(3)
    ]
    for caller in callers:
        caller.start()
    time.sleep(0.3)
    server.stop(grace=5)
    for caller in callers:
        caller.join()
    assert len(replies) == 3
    channel.close()


def test_sigterm_stops_gracefully_and_logs(tmp_path):
    process = start_service("darts", tmp_path)
    assert process.health_status("") == health_pb2.HealthCheckResponse.SERVING
    assert process.stop(signal.SIGTERM) == 0
    log = process.log()
    assert "signal=SIGTERM" in log and "event=stopped" in log


def test_sigint_stops_too(tmp_path):
    process = start_service("darts", tmp_path)
    assert process.stop(signal.SIGINT) == 0


def test_port_from_environment(tmp_path):
    port_file = tmp_path / "port"
    with socket_port() as port:
        pass
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "katib_nas.darts",
            "--host",
            "127.0.0.1",
            "--port-file",
            str(port_file),
        ],
        env=subprocess_env(KATIB_NAS_PORT=str(port)),
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert int(port_file.read_text()) == port
    finally:
        process.terminate()
        process.wait(10)


def test_busy_port_is_a_clear_error(tmp_path):
    server = create_server(DartsServicer(), 0, host="127.0.0.1")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "katib_nas.darts",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
        ],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr


def test_help_explains_every_flag():
    for command in (
        ["-m", "katib_nas.darts", "--help"],
        ["-m", "katib_nas.cli", "serve", "darts", "--help"],
    ):
        result = subprocess.run(
            [sys.executable, *command],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=30,
            cwd=REPO_ROOT,
        )
        assert result.returncode == 0, result.stderr
        for flag in ("--port", "--port-file", "--grace", "--log-level", "6789"):
            assert flag in result.stdout


class socket_port:
    """A port that was free a moment ago."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *_: object) -> None:
        self.sock.close()


def test_port_variable_that_is_not_a_number_is_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-m", "katib_nas.darts"],
        env=subprocess_env(KATIB_NAS_PORT="abc"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "$KATIB_NAS_PORT='abc' is not a port number" in result.stderr
