"""Regression tests for the defects the wire fuzzer found in the shared service code.

Each test is the smallest request that, before its fix, made a service answer something other
than OK or INVALID_ARGUMENT (or hang), sent to a real DARTS service process; the limits the fixes
introduced are checked at their edges on the search-space checks directly.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from katib_nas.api import api_pb2
from katib_nas.errors import InvalidArgument
from katib_nas.search_space import (
    DOUBLE,
    INT,
    MAX_NUM_LAYERS,
    MAX_VALUES_PER_PARAMETER,
    OperationSpec,
    ParameterSpec,
    feasible_values,
    validate_operations,
    validate_parameter,
)
from katib_nas.servicer import MAX_SUGGESTIONS_PER_CALL
from tests.conformance import experiments as ex
from tests.processes import ServiceProcess, start_service


@pytest.fixture(scope="module")
def darts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    process = start_service("darts", tmp_path_factory.mktemp("darts-regressions"))
    yield process
    assert process.stop() == 0, process.log()


def rejected(darts: ServiceProcess, request: api_pb2.GetSuggestionsRequest) -> str:
    """Details of the INVALID_ARGUMENT answer (a hang fails with DEADLINE_EXCEEDED)."""
    with pytest.raises(grpc.RpcError) as raised:
        darts.stub.GetSuggestions(request, timeout=20)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    return raised.value.details()


def test_huge_request_number_is_refused_not_built(darts):
    """2**31-1 suggestions used to exhaust memory and time out (or overflow the 4 MiB reply)."""
    request = ex.request(ex.katib_darts_experiment(), 2**31 - 1)
    details = rejected(darts, request)
    assert "current_request_number" in details and str(MAX_SUGGESTIONS_PER_CALL) in details


def test_the_largest_allowed_request_number_fits_in_a_reply(darts):
    request = ex.request(ex.katib_darts_experiment(), MAX_SUGGESTIONS_PER_CALL)
    reply = darts.stub.GetSuggestions(request, timeout=30)
    assert len(reply.parameter_assignments) == MAX_SUGGESTIONS_PER_CALL


@pytest.mark.parametrize(
    ("method", "payload", "message"),
    [
        ("GetSuggestions", b"\xff\xff\xff", "api.v1.beta1.GetSuggestionsRequest"),
        # An experiment whose name is not valid UTF-8.
        ("ValidateAlgorithmSettings", b"\x0a\x03\x0a\x01\xff", "ValidateAlgorithmSettingsRequest"),
    ],
)
def test_undecodable_request_is_invalid_argument(darts, method, payload, message):
    """grpcio answers INTERNAL when a request does not deserialise; Katib reads that as valid."""
    raw = darts.channel.unary_unary(f"/api.v1.beta1.Suggestion/{method}")
    with pytest.raises(grpc.RpcError) as raised:
        raw(payload, timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in raised.value.details()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("\uff13", "printable ASCII"),  # a full-width 3: int() accepts it, JSON escapes it
        ("3\t", "printable ASCII"),  # the tab reached the trial as a JSON escape
        ("9" * 400, "out of range"),  # math.isfinite() raised OverflowError: INTERNAL
    ],
)
def test_setting_values_that_parse_but_break_the_trial_or_the_range_check(darts, value, words):
    experiment = ex.katib_darts_experiment(settings=[("num_epochs", value)])
    request = ex.request(experiment, 1)
    if words is None:
        reply = darts.stub.GetSuggestions(request, timeout=10)
        assert len(reply.parameter_assignments) == 1
    else:
        details = rejected(darts, request)
        assert "num_epochs" in details and words in details


P = ex.parameter
HUGE_SPACES = {
    # list(range(...)) of 10**8 ints: gigabytes of memory, then DEADLINE_EXCEEDED.
    "int range": P("filter_size", "int", min="0", max="100000000", step="1"),
    # (max - min) / step is inf: math.floor raised OverflowError.
    "double range": P("filter_size", "double", min="-1e308", max="1e308", step="1e-300"),
    # float(int("9" * 400)) raised OverflowError.
    "huge int bound": P("filter_size", "int", min="1", max="9" * 400, step="1"),
}


@pytest.mark.parametrize("case", sorted(HUGE_SPACES))
def test_huge_feasible_space_is_refused_quickly(darts, case):
    experiment = ex.experiment("huge", "darts", [ex.operation("convolution", HUGE_SPACES[case])])
    details = rejected(darts, ex.request(experiment, 1))
    assert "filter_size" in details


def test_the_largest_allowed_spaces_pass_and_one_more_value_does_not():
    top = MAX_VALUES_PER_PARAMETER
    largest_int = ParameterSpec("x", INT, min="1", max=str(top), step="1")
    largest_double = ParameterSpec("x", DOUBLE, min="0", max=str((top - 1) / 10), step="0.1")
    for parameter in (largest_int, largest_double):
        validate_parameter("operation 0", parameter)
        assert len(feasible_values(parameter)) == top
    with pytest.raises(InvalidArgument, match="more than the"):
        validate_parameter("operation 0", ParameterSpec("x", INT, min="0", max=str(top), step="1"))


def test_too_many_layers_is_refused(darts):
    """ENAS sampled a (count, L, L) array: numLayers 10**6 asked for terabytes (INTERNAL)."""
    experiment = ex.katib_darts_experiment()
    experiment.spec.nas_config.graph_config.num_layers = MAX_NUM_LAYERS + 1
    assert "numLayers" in rejected(darts, ex.request(experiment, 1))
    experiment.spec.nas_config.graph_config.num_layers = MAX_NUM_LAYERS
    assert (
        len(darts.stub.GetSuggestions(ex.request(experiment, 1), timeout=10).parameter_assignments)
        == 1
    )


def test_too_many_combinations_of_parameter_values_is_refused():
    """ENAS enumerated the Cartesian product: three parameters of 1,000 values each hung it."""
    wide = ParameterSpec("x", INT, min="1", max="1000", step="1")
    operation = OperationSpec("convolution", (wide, wide, wide))
    with pytest.raises(InvalidArgument, match=r"operation 0 .* 1e\+09 ways"):
        validate_operations((operation,))
    small = OperationSpec(
        "convolution", (wide, ParameterSpec("y", INT, min="1", max="10", step="1"))
    )
    validate_operations((small,))
    with pytest.raises(InvalidArgument, match="operation 1"):
        validate_operations((small, OperationSpec("pooling", (wide,))))


@pytest.mark.parametrize("char", ["\x80", "\x9f", "\u2028", "\xa0"])
def test_non_printable_characters_in_names_are_refused(darts, char):
    """A C1 control character in an operation type reached ENAS's nn_config as a JSON escape."""
    experiment = ex.katib_darts_experiment()
    experiment.spec.nas_config.operations.operation[0].operation_type = f"conv{char}"
    assert "operationType" in rejected(darts, ex.request(experiment, 1))
