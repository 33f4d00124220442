"""Conformance over the gRPC wire, run against every suggestion service of this project.

Each service runs as a real process on a loopback port and is driven with requests shaped as
Katib's controller shapes them (contract 9). Bad input must come back as INVALID_ARGUMENT with a
message naming what is wrong and where (contract 2.3 and the DECISIONS table).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2

from katib_nas.api import api_pb2
from tests.conformance import experiments as ex
from tests.conformance.services import SERVICES, ServiceUnderTest
from tests.processes import ServiceProcess, start_service

SUCCEEDED = ex.CONDITIONS.SUCCEEDED


@pytest.fixture(scope="module", params=sorted(SERVICES))
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServiceUnderTest, ServiceProcess]]:
    under_test = SERVICES[request.param]
    workdir = tmp_path_factory.mktemp(under_test.algorithm)
    extra = [arg.format(workdir=workdir) for arg in under_test.extra_args]
    process = start_service(under_test.algorithm, workdir, *extra)
    yield under_test, process
    assert process.stop() == 0, process.log()


def abort_of(call: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    return call.code(), call.details()


def validate(process: ServiceProcess, experiment: api_pb2.Experiment) -> None:
    request = api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment)
    process.stub.ValidateAlgorithmSettings(request, timeout=60)


def invalid(process: ServiceProcess, experiment: api_pb2.Experiment) -> str:
    """The details of the INVALID_ARGUMENT both RPCs must answer for ``experiment``."""
    with pytest.raises(grpc.RpcError) as raised:
        validate(process, experiment)
    code, details = abort_of(raised.value)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, details
    with pytest.raises(grpc.RpcError) as raised_again:
        process.stub.GetSuggestions(ex.request(experiment, 1), timeout=60)
    assert raised_again.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return details


@pytest.mark.parametrize("name", ["", "manager.v1beta1.Suggestion", "api.v1.beta1.Suggestion"])
def test_health_is_serving(service, name):
    _, process = service
    assert process.health_status(name) == health_pb2.HealthCheckResponse.SERVING


def test_valid_experiment_validates(service):
    under_test, process = service
    validate(process, under_test.valid_experiment())


@pytest.mark.parametrize("count", [0, 1, 3])
def test_exact_number_of_suggestions_with_assignment_names_in_order(service, count):
    under_test, process = service
    reply = process.stub.GetSuggestions(
        ex.request(under_test.valid_experiment(), count), timeout=60
    )
    assert len(reply.parameter_assignments) == count
    for entry in reply.parameter_assignments:
        assert tuple(a.name for a in entry.assignments) == under_test.assignment_names
        assert all(a.value for a in entry.assignments)
        assert entry.trial_name == "" and not entry.labels
    assert not reply.HasField("algorithm") and not reply.early_stopping_rules


def test_full_history_of_every_state_and_settings_overlay(service):
    """Later calls carry every earlier trial, in every state, as Katib's controller sends them."""
    under_test, process = service
    experiment = under_test.valid_experiment()
    # The controller overlays status settings by name onto the Experiment's (contract 9.2).
    experiment.spec.algorithm.algorithm_settings.add(
        name=under_test.valid_setting[0], value=under_test.valid_setting[1]
    )
    history: list[api_pb2.Trial] = []
    states = [None, *ex.CONDITIONS.values()]
    for call in range(4):
        reply = process.stub.GetSuggestions(ex.request(experiment, 2, history), timeout=60)
        assert len(reply.parameter_assignments) == 2
        for index, entry in enumerate(reply.parameter_assignments):
            condition = states[(2 * call + index) % len(states)]
            assignments = [(a.name, a.value) for a in entry.assignments]
            metrics = [("Validation-Accuracy", "0.5")] if condition == SUCCEEDED else []
            history.append(ex.trial(f"trial-{call}-{index}", condition, assignments, metrics))


def test_eight_callers_at_once(service):
    under_test, process = service

    def call(caller: int) -> int:
        experiment = under_test.valid_experiment()
        experiment.name = f"concurrent-{caller % 3}"
        total = 0
        for _ in range(3):
            reply = process.stub.GetSuggestions(ex.request(experiment, 2), timeout=60)
            total += len(reply.parameter_assignments)
        return total

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(call, range(8))) == [6] * 8


def test_one_log_line_per_call(service):
    under_test, process = service
    experiment = under_test.valid_experiment()
    experiment.name = "logged-experiment"
    process.stub.GetSuggestions(ex.request(experiment, 1), timeout=60)
    lines = [line for line in process.log().splitlines() if "experiment=logged-experiment" in line]
    assert len(lines) == 1
    for field in ("method=GetSuggestions", "request_bytes=", "result=OK", "ms="):
        assert field in lines[0]


def test_empty_request_is_invalid(service):
    _, process = service
    with pytest.raises(grpc.RpcError) as raised:
        process.stub.ValidateAlgorithmSettings(
            api_pb2.ValidateAlgorithmSettingsRequest(), timeout=60
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_negative_request_number_is_invalid(service):
    under_test, process = service
    with pytest.raises(grpc.RpcError) as raised:
        process.stub.GetSuggestions(ex.request(under_test.valid_experiment(), -1), timeout=60)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# Each case: a bad operation put first in the valid experiment, and words the error must hold.
P = ex.parameter
BAD_OPERATIONS = {
    "missing operation type": (
        ex.operation("", P("filter_size", "categorical", ["3"])),
        ["operation 0", "operationType"],
    ),
    "parameter without name": (
        ex.operation("convolution", P("", "categorical", ["3"])),
        ["operation 0", "convolution", "name"],
    ),
    "parameter without type": (
        ex.operation("convolution", P("filter_size", "unknown", ["3"])),
        ["filter_size", "parameterType"],
    ),
    "categorical without list": (
        ex.operation("convolution", P("filter_size", "categorical")),
        ["filter_size", "list"],
    ),
    "discrete without list": (
        ex.operation("convolution", P("filter_size", "discrete")),
        ["filter_size", "list"],
    ),
    "int without min and max": (
        ex.operation("convolution", P("stride", "int", step="1")),
        ["stride", "min", "max"],
    ),
    "int min greater than max": (
        ex.operation("convolution", P("stride", "int", min="3", max="2", step="1")),
        ["convolution", "stride", "min", "greater than max"],
    ),
    "double min greater than max": (
        ex.operation("convolution", P("rate", "double", min="3.0", max="1.0", step="0.1")),
        ["rate", "greater than max"],
    ),
    "int without step": (
        ex.operation("convolution", P("stride", "int", min="1", max="2")),
        ["stride", "step"],
    ),
    "int step zero": (
        ex.operation("convolution", P("stride", "int", min="1", max="2", step="0")),
        ["stride", "step", "> 0"],
    ),
    "int negative step": (
        ex.operation("convolution", P("stride", "int", min="1", max="2", step="-1")),
        ["stride", "step", "> 0"],
    ),
    "double without step": (
        ex.operation("convolution", P("rate", "double", min="0", max="1")),
        ["rate", "step"],
    ),
    "int min not a number": (
        ex.operation("convolution", P("stride", "int", min="one", max="2", step="1")),
        ["stride", "min", "'one'", "not a valid int"],
    ),
    "double max not a number": (
        ex.operation("convolution", P("rate", "double", min="0", max="x", step="0.1")),
        ["rate", "max", "not a valid float"],
    ),
    "discrete value not a number": (
        ex.operation("convolution", P("size", "discrete", ["3", "five"])),
        ["size", "'five'"],
    ),
}
for char in ["'", '"', "\\", "$", "`", "\n"]:
    BAD_OPERATIONS[f"value with {char!r}"] = (
        ex.operation("convolution", P("filter_size", "categorical", ["3", f"5{char}"])),
        ["operation 0", "filter_size", "templating"],
    )
BAD_OPERATIONS["operation type with '$'"] = (
    ex.operation("conv$x", P("filter_size", "categorical", ["3"])),
    ["operationType", "'$'"],
)


@pytest.mark.parametrize("case", sorted(BAD_OPERATIONS))
def test_bad_operation_is_invalid_argument_naming_it(service, case):
    under_test, process = service
    bad_operation, words = BAD_OPERATIONS[case]
    experiment = under_test.valid_experiment()
    operations = experiment.spec.nas_config.operations.operation
    kept = list(operations)
    del operations[:]
    operations.extend([bad_operation, *kept])
    details = invalid(process, experiment)
    for word in words:
        assert word in details, details


def test_operation_without_parameters_is_accepted(service):
    """Katib rejects these, which breaks its own darts-gpu example (DECISIONS)."""
    under_test, process = service
    experiment = under_test.valid_experiment()
    operation = ex.operation(under_test.parameterless_operation)
    experiment.spec.nas_config.operations.operation.append(operation)
    validate(process, experiment)
    reply = process.stub.GetSuggestions(ex.request(experiment, 1), timeout=60)
    assert len(reply.parameter_assignments) == 1


def test_no_operations_is_invalid(service):
    under_test, process = service
    experiment = under_test.valid_experiment()
    del experiment.spec.nas_config.operations.operation[:]
    assert "operations" in invalid(process, experiment)


def test_zero_layers_is_invalid(service):
    under_test, process = service
    experiment = under_test.valid_experiment()
    experiment.spec.nas_config.graph_config.num_layers = 0
    assert "numLayers" in invalid(process, experiment)


def test_unknown_setting_names_the_closest_valid_one(service):
    under_test, process = service
    name = under_test.valid_setting[0]
    typo = name[:-1]
    details = invalid(process, _with_setting(under_test, typo, under_test.valid_setting[1]))
    assert f'"{typo}"' in details and f'"{name}"' in details


def _with_setting(under_test: ServiceUnderTest, name: str, value: str) -> api_pb2.Experiment:
    experiment = under_test.valid_experiment()
    experiment.spec.algorithm.algorithm_settings.add(name=name, value=value)
    return experiment


def test_setting_out_of_range_names_setting_value_and_range(service):
    under_test, process = service
    name, value = under_test.out_of_range_setting
    details = invalid(process, _with_setting(under_test, name, value))
    assert name in details and repr(value) in details and "must be" in details


def test_setting_that_does_not_parse(service):
    under_test, process = service
    name = under_test.valid_setting[0]
    details = invalid(process, _with_setting(under_test, name, "lots"))
    assert name in details and "'lots'" in details


@pytest.mark.parametrize("value", ["nan", "NaN"])
def test_nan_setting_is_rejected(service, value):
    under_test, process = service
    name = under_test.valid_setting[0]
    assert name in invalid(process, _with_setting(under_test, name, value))
