"""The Dockerfiles of katib-nas, what each must install, and how each entrypoint is checked."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.k8s.image_build import REPO_ROOT, ReplayResult, start_entrypoint

HEALTH_SERVICE = "manager.v1beta1.Suggestion"


@dataclass(frozen=True)
class Image:
    dockerfile: str
    kind: str  # "service" or "trial"
    requires: tuple[str, ...]  # distributions the entrypoint imports
    gpu: bool = False

    @property
    def path(self) -> Path:
        return REPO_ROOT / self.dockerfile


SERVICE_PACKAGES = ("katib-nas", "grpcio", "grpcio-health-checking", "protobuf")
IMAGES = (
    Image("Dockerfile.darts", "service", SERVICE_PACKAGES),
    Image("Dockerfile.enas", "service", (*SERVICE_PACKAGES, "tensorflow-cpu")),
    Image("trial_images/enas/Dockerfile.cpu", "trial", ("tensorflow-cpu", "numpy")),
    Image("trial_images/enas/Dockerfile.gpu", "trial", ("tensorflow", "numpy"), gpu=True),
    Image("trial_images/darts/Dockerfile.cpu", "trial", ("torch", "numpy")),
    Image("trial_images/darts/Dockerfile.gpu", "trial", ("torch", "numpy"), gpu=True),
)


def check_service(result: ReplayResult, workspace: Path, timeout: float = 90) -> str:
    """Start the service entrypoint on a free port; return its health status name."""
    port_file = workspace / "port"
    log = workspace / "entrypoint.log"
    state = workspace / "state"
    state.mkdir(exist_ok=True)
    extra = ["--port", "0", "--host", "127.0.0.1", "--port-file", str(port_file)]
    if "katib_nas.enas" in result.dockerfile.entrypoint:
        extra += ["--state-dir", str(state)]
    process = start_entrypoint(result, *extra, log=log)
    try:
        deadline = time.monotonic() + timeout
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the entrypoint did not start:\n{log.read_text()}")
            time.sleep(0.1)
        with grpc.insecure_channel(f"127.0.0.1:{port_file.read_text().strip()}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(health_pb2.HealthCheckRequest(service=HEALTH_SERVICE), timeout=30)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check_trial_help(result: ReplayResult, workspace: Path, timeout: float = 120) -> str:
    """Run the trial entrypoint with ``--help``; return what it printed (raises on failure)."""
    log = workspace / "help.log"
    process = start_entrypoint(result, "--help", log=log)
    try:
        status = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    text = log.read_text()
    if status != 0 or "usage:" not in text:
        raise AssertionError(f"--help exited {status}:\n{text}")
    return text
