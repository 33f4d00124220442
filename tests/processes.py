"""Start a suggestion service as a real subprocess on a free loopback port and talk to it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from katib_nas.api import api_pb2_grpc
from katib_nas.runner.suggestion_client import start_service_process

REPO_ROOT = Path(__file__).resolve().parents[1]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python that imports this checkout's katib_nas."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


class ServiceProcess:
    """A running service: its process, address, stub, and the log it writes to stderr."""

    def __init__(self, process: subprocess.Popen, port: int, log_path: Path):
        self.process = process
        self.port = port
        self.log_path = log_path
        self.address = f"127.0.0.1:{port}"
        self.channel = grpc.insecure_channel(self.address)
        self.stub = api_pb2_grpc.SuggestionStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def health_status(self, service: str) -> int:
        request = health_pb2.HealthCheckRequest(service=service)
        return self.health.Check(request, timeout=5).status

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        self.channel.close()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_service(
    algorithm: str, workdir: Path, *extra: str, timeout: float = 60
) -> ServiceProcess:
    """``python -m katib_nas.<algorithm>`` started as the runner starts it, connected once ready.

    Its log is ``workdir/service.log``; it is not tied to this process by the orphan guard (the
    tests stop every service they start).
    """
    log_path = workdir / "service.log"
    process, port = start_service_process(
        algorithm,
        workdir,
        extra,
        log_path=log_path,
        env=subprocess_env(),
        deadline=time.monotonic() + timeout,
        guard=False,
    )
    service = ServiceProcess(process, port, log_path)
    try:
        grpc.channel_ready_future(service.channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        service.stop(signal.SIGKILL)
        raise RuntimeError(f"{algorithm} service never became ready:\n{service.log()}") from None
    return service
