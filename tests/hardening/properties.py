"""The fuzzing properties, one function per kind of request, shared by the tests and
``benchmarks/fuzz_long.py``.

Each function sends one generated request to a running service, asserts what must hold
(:mod:`tests.hardening.oracle`) and that the service is still alive and SERVING, and returns a
short label of the outcome for statistics.
"""

from __future__ import annotations

from functools import cache

from grpc_health.v1 import health_pb2
from hypothesis import strategies as st

from katib_nas.api import api_pb2
from katib_nas.servicer import MAX_SUGGESTIONS_PER_CALL
from tests.hardening import oracle
from tests.hardening import strategies as hs
from tests.hardening.profiles import FuzzProfile, profiles
from tests.processes import ServiceProcess

METHODS = ("GetSuggestions", "ValidateAlgorithmSettings")


def still_serving(process: ServiceProcess) -> None:
    assert process.process.poll() is None, f"service died:\n{process.log()[-4000:]}"
    assert process.health_status("") == health_pb2.HealthCheckResponse.SERVING


def validate_property(process: ServiceProcess, experiment: api_pb2.Experiment) -> str:
    """ValidateAlgorithmSettings answers OK or INVALID_ARGUMENT with a message."""
    request = api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment)

    outcome = oracle.call(process.stub.ValidateAlgorithmSettings, request)

    oracle.check_status(outcome, "ValidateAlgorithmSettings")
    still_serving(process)
    return f"ValidateAlgorithmSettings {outcome.code.name}"


def suggest_property(
    profile: FuzzProfile, process: ServiceProcess, request: api_pb2.GetSuggestionsRequest
) -> str:
    """GetSuggestions answers OK (with a well-formed reply) or INVALID_ARGUMENT, and agrees
    with ValidateAlgorithmSettings on the experiment whatever the trial history holds."""
    count = request.current_request_number
    validation = api_pb2.ValidateAlgorithmSettingsRequest(experiment=request.experiment)

    validated = oracle.call(process.stub.ValidateAlgorithmSettings, validation)
    outcome = oracle.call(process.stub.GetSuggestions, request)

    oracle.check_status(validated, "ValidateAlgorithmSettings")
    oracle.check_status(outcome, "GetSuggestions")
    if count < 0 or count > MAX_SUGGESTIONS_PER_CALL:
        assert not outcome.ok, f"current_request_number={count} accepted"
    else:
        assert outcome.ok == validated.ok, (validated, outcome)
    if outcome.ok:
        entries = oracle.check_reply_shape(outcome.reply, count, profile.assignment_names)
        for entry in entries:
            profile.check_entry(request.experiment, entry)
    still_serving(process)
    return f"GetSuggestions {outcome.code.name}"


@cache
def corrupted_requests(algorithm: str, method: str) -> st.SearchStrategy[bytes]:
    """Serialised requests of ``method`` for the service, corrupted (or pure noise)."""
    profile = profiles()[algorithm]
    if method == "GetSuggestions":
        return hs.corrupted_bytes(profile.requests())
    validation = profile.experiments().map(
        lambda e: api_pb2.ValidateAlgorithmSettingsRequest(experiment=e)
    )
    return hs.corrupted_bytes(validation)


def bytes_property(process: ServiceProcess, method: str, payload: bytes) -> str:
    """Raw bytes, parseable or not, are answered OK or INVALID_ARGUMENT."""
    raw = process.channel.unary_unary(f"/api.v1.beta1.Suggestion/{method}")

    outcome = oracle.call(raw, payload)

    oracle.check_status(outcome, f"{method} with {len(payload)} raw bytes")
    still_serving(process)
    return f"raw {method} {outcome.code.name}"
