"""The committed stubs match the proto, and the proto matches Katib's wire numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from katib_nas.api import api_pb2
from tests.processes import REPO_ROOT

GENERATED = ("api_pb2.py", "api_pb2.pyi", "api_pb2_grpc.py")


def test_committed_stubs_are_what_make_proto_generates(tmp_path: Path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-Iproto",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            "proto/katib_nas/api/api.proto",
        ],
        cwd=REPO_ROOT,
        check=True,
    )
    for name in GENERATED:
        fresh = (tmp_path / "katib_nas" / "api" / name).read_text()
        committed = (REPO_ROOT / "katib_nas" / "api" / name).read_text()
        assert fresh == committed, f"katib_nas/api/{name} is stale: run 'make proto'"


# (message, field, number) for every field of contract section 1.2, gaps included.
FIELDS = """
Experiment name 1, spec 2
ExperimentSpec parameter_specs 1, objective 2, algorithm 3, early_stopping 4,
 parallel_trial_count 5, max_trial_count 6, nas_config 7
ExperimentSpec.ParameterSpecs parameters 1
ParameterSpec name 1, parameter_type 2, feasible_space 3
FeasibleSpace max 1, min 2, list 3, step 4, distribution 5
ObjectiveSpec type 1, goal 2, objective_metric_name 3, additional_metric_names 4
AlgorithmSpec algorithm_name 1, algorithm_settings 2
AlgorithmSetting name 1, value 2
EarlyStoppingSpec algorithm_name 1, algorithm_settings 2
EarlyStoppingSetting name 1, value 2
NasConfig graph_config 1, operations 2
NasConfig.Operations operation 1
GraphConfig num_layers 1, input_sizes 2, output_sizes 3
Operation operation_type 1, parameter_specs 2
Operation.ParameterSpecs parameters 1
Trial name 1, spec 2, status 3
TrialSpec objective 2, parameter_assignments 3, labels 4
TrialSpec.ParameterAssignments assignments 1
ParameterAssignment name 1, value 2
TrialStatus start_time 1, completion_time 2, condition 3, observation 4
Observation metrics 1
Metric name 1, value 2
GetSuggestionsRequest experiment 1, trials 2, current_request_number 4, total_request_number 5
GetSuggestionsReply parameter_assignments 1, algorithm 2, early_stopping_rules 3
GetSuggestionsReply.ParameterAssignments assignments 1, trial_name 2, labels 3
ValidateAlgorithmSettingsRequest experiment 1
ValidateAlgorithmSettingsReply
EarlyStoppingRule name 1, value 2, comparison 3, start_step 4
"""


def parse_fields() -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    message = ""
    for line in FIELDS.strip().splitlines():
        if not line.startswith(" "):
            message, _, line = line.partition(" ")
            table[message] = {}
        for item in filter(None, (part.strip() for part in line.split(","))):
            name, number = item.split()
            table[message][name] = int(number)
    return table


@pytest.mark.parametrize(("message", "fields"), sorted(parse_fields().items()))
def test_field_numbers_match_katib(message, fields):
    descriptor = api_pb2.DESCRIPTOR.message_types_by_name[message.split(".")[0]]
    for nested in message.split(".")[1:]:
        descriptor = descriptor.nested_types_by_name[nested]
    assert {f.name: f.number for f in descriptor.fields} == fields


def test_package_service_and_enums():
    assert api_pb2.DESCRIPTOR.package == "api.v1.beta1"
    service = api_pb2.DESCRIPTOR.services_by_name["Suggestion"]
    assert service.full_name == "api.v1.beta1.Suggestion"
    assert [m.name for m in service.methods] == ["GetSuggestions", "ValidateAlgorithmSettings"]
    assert dict(api_pb2.ParameterType.items()) == {
        "UNKNOWN_TYPE": 0,
        "DOUBLE": 1,
        "INT": 2,
        "DISCRETE": 3,
        "CATEGORICAL": 4,
    }
    assert dict(api_pb2.ObjectiveType.items()) == {"UNKNOWN": 0, "MINIMIZE": 1, "MAXIMIZE": 2}
    assert dict(api_pb2.Distribution.items()) == {
        "DISTRIBUTION_UNSPECIFIED": 0,
        "UNIFORM": 1,
        "LOG_UNIFORM": 2,
        "NORMAL": 3,
        "LOG_NORMAL": 4,
    }
    assert dict(api_pb2.ComparisonType.items()) == {
        "UNKNOWN_COMPARISON": 0,
        "EQUAL": 1,
        "LESS": 2,
        "GREATER": 3,
    }
    assert dict(api_pb2.TrialStatus.TrialConditionType.items()) == {
        "CREATED": 0,
        "RUNNING": 1,
        "SUCCEEDED": 2,
        "KILLED": 3,
        "FAILED": 4,
        "METRICSUNAVAILABLE": 5,
        "EARLYSTOPPED": 6,
        "UNKNOWN": 7,
    }
