"""Property-based fuzzing of every suggestion service over the gRPC wire.

One long-lived service process per algorithm answers every generated request: valid and broken
experiments, settings, trial histories and request numbers, and raw bytes that are not a valid
message at all. Every answer must be OK or INVALID_ARGUMENT with a message, an OK reply must be
well-formed, ValidateAlgorithmSettings and GetSuggestions must agree on what is valid, and the
service must still be alive and SERVING after each example. The examples are derandomized: the
same ones run on every machine. ``benchmarks/fuzz_long.py`` runs the same properties longer
with fresh random seeds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.hardening import properties
from tests.hardening.profiles import FuzzProfile, profiles, start_args
from tests.processes import ServiceProcess, start_service

PROFILES = profiles()
# At least 2,000 examples over all services and properties, split evenly.
TOTAL_EXAMPLES = 2000
SHARES = {"validate": 0.35, "suggest": 0.40, "bytes": 0.25}


def examples(kind: str) -> int:
    return math.ceil(TOTAL_EXAMPLES * SHARES[kind] / len(PROFILES))


def fuzz_settings(kind: str) -> settings:
    return settings(
        max_examples=examples(kind),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module", params=sorted(PROFILES))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FuzzProfile, ServiceProcess]]:
    profile = PROFILES[request.param]
    workdir = tmp_path_factory.mktemp(f"fuzz-{profile.algorithm}")
    process = start_service(profile.algorithm, workdir, *start_args(profile, workdir))
    yield profile, process
    assert process.process.poll() is None, process.log()
    assert process.health_status("") == health_pb2.HealthCheckResponse.SERVING
    assert process.stop() == 0, process.log()


@fuzz_settings("validate")
@given(data=st.data())
def test_validate_answers_ok_or_invalid_argument(served, data):
    profile, process = served
    experiment = data.draw(profile.experiments(), label="experiment")
    event(properties.validate_property(process, experiment))


@fuzz_settings("suggest")
@given(data=st.data())
def test_get_suggestions_answers_ok_or_invalid_argument(served, data):
    profile, process = served
    request = data.draw(profile.requests(), label="request")
    event(properties.suggest_property(profile, process, request))


@fuzz_settings("bytes")
@given(data=st.data())
def test_undecodable_bytes_are_invalid_argument(served, data):
    profile, process = served
    method = data.draw(st.sampled_from(properties.METHODS), label="method")
    payload = data.draw(properties.corrupted_requests(profile.algorithm, method), label="payload")
    event(properties.bytes_property(process, method, payload))


def test_an_undecodable_request_names_the_message(served):
    _, process = served
    raw = process.channel.unary_unary("/api.v1.beta1.Suggestion/GetSuggestions")
    with pytest.raises(grpc.RpcError) as raised:
        raw(b"\xff\xff\xff", timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "GetSuggestionsRequest" in raised.value.details()
