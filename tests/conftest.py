"""Shared fixtures: the repository root and real suggestion-service processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.processes import ServiceProcess, start_service


@pytest.fixture
def service_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Start ``python -m katib_nas.<algorithm>`` processes; all are stopped at the end."""
    started: list[ServiceProcess] = []

    def start(algorithm: str, *extra: str) -> ServiceProcess:
        process = start_service(algorithm, tmp_path_factory.mktemp(algorithm), *extra)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
