"""A small load run: 32 concurrent clients over 4 experiments, every call answered correctly.

The full run with latency and memory figures is ``benchmarks/load.py``; this one only checks
that concurrency costs no errors, no wrong reply sizes and no lost trials.
"""

from __future__ import annotations

import pytest

from katib_nas.api import api_pb2
from tests.conformance import experiments as ex
from tests.hardening.load import run_load
from tests.hardening.profiles import profiles, start_args
from tests.processes import start_service

CALLS = {"darts": 256, "enas": 32}


def experiment_for(algorithm: str, name: str) -> api_pb2.Experiment:
    if algorithm == "darts":
        experiment = ex.katib_darts_experiment()
    else:
        fast = [("controller_train_steps", "1"), ("controller_hidden_size", "16")]
        experiment = ex.katib_enas_experiment(fast)
    experiment.name = name
    return experiment


@pytest.mark.parametrize("algorithm", sorted(profiles()))
def test_32_clients_over_4_experiments(algorithm, tmp_path):
    profile = profiles()[algorithm]
    service = start_service(algorithm, tmp_path, *start_args(profile, tmp_path))
    try:
        result = run_load(
            service.address,
            service.process.pid,
            lambda name: experiment_for(algorithm, name),
            clients=32,
            experiments=4,
            calls=CALLS.get(algorithm, 64),
        )
    finally:
        code = service.stop()
    assert result.errors == []
    assert result.calls == CALLS.get(algorithm, 64)
    assert code == 0, service.log()
