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
from functools import cache

import grpc
import pytest
from grpc_health.v1 import health_pb2
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from katib_nas.api import api_pb2
from katib_nas.servicer import MAX_SUGGESTIONS_PER_CALL
from tests.hardening import oracle
from tests.hardening import strategies as hs
from tests.hardening.profiles import FuzzProfile, profiles, start_args
from tests.processes import ServiceProcess, start_service

PROFILES = profiles()
# At least 2,000 examples over all services and properties, split evenly.
TOTAL_EXAMPLES = 2100
SHARES = {"validate": 0.35, "suggest": 0.45, "bytes": 0.20}


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


def still_serving(process: ServiceProcess) -> None:
    assert process.process.poll() is None, f"service died:\n{process.log()[-4000:]}"
    assert process.health_status("") == health_pb2.HealthCheckResponse.SERVING


@fuzz_settings("validate")
@given(data=st.data())
def test_validate_answers_ok_or_invalid_argument(served, data):
    profile, process = served
    experiment = data.draw(profile.experiments(), label="experiment")
    request = api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment)

    outcome = oracle.call(process.stub.ValidateAlgorithmSettings, request)

    oracle.check_status(outcome, "ValidateAlgorithmSettings")
    event(f"ValidateAlgorithmSettings {outcome.code.name}")
    still_serving(process)


@fuzz_settings("suggest")
@given(data=st.data())
def test_get_suggestions_answers_ok_or_invalid_argument(served, data):
    profile, process = served
    request = data.draw(profile.requests(), label="request")
    count = request.current_request_number
    validation = api_pb2.ValidateAlgorithmSettingsRequest(experiment=request.experiment)

    validated = oracle.call(process.stub.ValidateAlgorithmSettings, validation)
    outcome = oracle.call(process.stub.GetSuggestions, request)

    oracle.check_status(validated, "ValidateAlgorithmSettings")
    oracle.check_status(outcome, "GetSuggestions")
    event(f"GetSuggestions {outcome.code.name}")
    if count < 0 or count > MAX_SUGGESTIONS_PER_CALL:
        assert not outcome.ok, f"current_request_number={count} accepted"
    else:
        # The trial history never makes a valid experiment invalid, nor the reverse.
        assert outcome.ok == validated.ok, (validated, outcome)
    if outcome.ok:
        entries = oracle.check_reply_shape(outcome.reply, count, profile.assignment_names)
        for entry in entries:
            profile.check_entry(request.experiment, entry)
    still_serving(process)


METHODS = {
    "ValidateAlgorithmSettings": api_pb2.ValidateAlgorithmSettingsRequest,
    "GetSuggestions": api_pb2.GetSuggestionsRequest,
}


@cache
def corrupted_requests(algorithm: str, method: str) -> st.SearchStrategy[bytes]:
    profile = PROFILES[algorithm]
    if method == "GetSuggestions":
        return hs.corrupted_bytes(profile.requests())
    validation = profile.experiments().map(
        lambda e: api_pb2.ValidateAlgorithmSettingsRequest(experiment=e)
    )
    return hs.corrupted_bytes(validation)


@fuzz_settings("bytes")
@given(data=st.data())
def test_undecodable_bytes_are_invalid_argument(served, data):
    profile, process = served
    method = data.draw(st.sampled_from(sorted(METHODS)), label="method")
    payload = data.draw(corrupted_requests(profile.algorithm, method), label="payload")
    raw = process.channel.unary_unary(f"/api.v1.beta1.Suggestion/{method}")

    outcome = oracle.call(raw, payload)

    oracle.check_status(outcome, f"{method} with {len(payload)} raw bytes")
    event(f"raw {method} {outcome.code.name}")
    still_serving(process)


def test_an_undecodable_request_names_the_message(served):
    _, process = served
    raw = process.channel.unary_unary("/api.v1.beta1.Suggestion/GetSuggestions")
    with pytest.raises(grpc.RpcError) as raised:
        raw(b"\xff\xff\xff", timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "GetSuggestionsRequest" in raised.value.details()
