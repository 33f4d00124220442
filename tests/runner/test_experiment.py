"""Loading an Experiment file, Katib's defaults, and ConvertExperiment's wire form."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from katib_nas.api import api_pb2
from katib_nas.runner.experiment import (
    ExperimentError,
    experiment_from_dict,
    load_experiment,
    to_api,
)
from tests.runner.helpers import EXAMPLES, darts_doc, enas_doc


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    return path


def test_enas_example_converts_as_katib_does() -> None:
    experiment = load_experiment(EXAMPLES / "enas-cpu.yaml")
    message = to_api(experiment)

    assert message.name == "enas-cpu"
    spec = message.spec
    assert spec.algorithm.algorithm_name == "enas"
    assert list(spec.algorithm.algorithm_settings) == []
    assert spec.objective.type == api_pb2.MAXIMIZE
    assert spec.objective.goal == pytest.approx(0.99)
    assert spec.objective.objective_metric_name == "Validation-Accuracy"
    assert spec.HasField("parameter_specs") and not spec.parameter_specs.parameters
    assert (spec.parallel_trial_count, spec.max_trial_count) == (2, 3)
    graph = spec.nas_config.graph_config
    assert (graph.num_layers, list(graph.input_sizes), list(graph.output_sizes)) == (
        1,
        [32, 32, 3],
        [10],
    )
    operations = spec.nas_config.operations.operation
    assert [op.operation_type for op in operations] == [
        "convolution",
        "separable_convolution",
        "depthwise_convolution",
        "reduction",
    ]
    pool_size = operations[3].parameter_specs.parameters[1]
    assert pool_size.name == "pool_size"
    assert pool_size.parameter_type == api_pb2.INT
    assert (pool_size.feasible_space.min, pool_size.feasible_space.max) == ("2", "3")
    assert pool_size.feasible_space.step == "1"
    filters = operations[0].parameter_specs.parameters[0]
    assert filters.parameter_type == api_pb2.CATEGORICAL
    assert list(filters.feasible_space.list) == ["3", "5", "7"]
    assert filters.feasible_space.distribution == api_pb2.DISTRIBUTION_UNSPECIFIED


def test_darts_settings_order_and_parameterless_operation() -> None:
    experiment = load_experiment(EXAMPLES / "darts-gpu.yaml")
    message = to_api(experiment)
    assert [(s.name, s.value) for s in message.spec.algorithm.algorithm_settings] == [
        ("num_epochs", "3")
    ]
    skip = message.spec.nas_config.operations.operation[-1]
    assert skip.operation_type == "skip_connection"
    assert skip.HasField("parameter_specs") and not skip.parameter_specs.parameters
    assert message.spec.objective.goal == 0.0  # no goal: left at its default, as Katib sends


def test_katib_defaults_are_applied(tmp_path: Path) -> None:
    doc = enas_doc()
    del doc["spec"]["parallelTrialCount"]
    doc["spec"]["maxTrialCount"] = 5
    doc["spec"]["objective"]["additionalMetricNames"] = ["Validation-Loss", "Training-Loss"]
    doc["spec"]["objective"]["metricStrategies"] = [{"name": "Training-Loss", "value": "latest"}]
    experiment = load_experiment(write(tmp_path, yaml.safe_dump(doc)))
    assert experiment.parallel_trial_count == 3
    assert experiment.objective.metric_strategies == {
        "Training-Loss": "latest",
        "Validation-Accuracy": "max",
        "Validation-Loss": "max",  # additional metrics take the objective's default, as in Katib
    }
    assert experiment.collector_kind == "StdOut"
    assert experiment.metrics_formats == ()

    doc["spec"]["objective"]["type"] = "minimize"
    experiment = load_experiment(write(tmp_path, yaml.safe_dump(doc)))
    assert experiment.objective.metric_strategies["Validation-Accuracy"] == "min"


def test_counts_can_be_overridden_on_the_wire() -> None:
    experiment = load_experiment(EXAMPLES / "darts-cpu.yaml")
    message = to_api(experiment, parallel_trial_count=4, max_trial_count=9)
    assert (message.spec.parallel_trial_count, message.spec.max_trial_count) == (4, 9)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "apiVersion: kubeflow.org/v1beta1\nkind: [Experiment\n")
    with pytest.raises(ExperimentError) as error:
        load_experiment(path)
    assert "is not valid YAML" in str(error.value)
    assert "line 3" in str(error.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="cannot be read"):
        load_experiment(tmp_path / "nope.yaml")


def test_multi_document_file_takes_its_one_experiment(tmp_path: Path) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    path = write(tmp_path, yaml.safe_dump_all([config_map, darts_doc()]))
    assert load_experiment(path).name == "darts-cpu"
    path = write(tmp_path, yaml.safe_dump_all([darts_doc(), enas_doc()]))
    with pytest.raises(ExperimentError, match="holds 2 Experiments"):
        load_experiment(path)


def test_every_problem_is_listed_with_its_path(tmp_path: Path) -> None:
    doc = enas_doc()
    doc["spec"]["objective"]["type"] = "maximise"
    doc["spec"]["algorithm"]["algorithmName"] = "dart"
    with pytest.raises(ExperimentError) as error:
        load_experiment(write(tmp_path, yaml.safe_dump(doc)))
    text = str(error.value)
    assert "spec.objective.type: must be 'minimize' or 'maximize', got 'maximise'" in text
    assert "spec.algorithm.algorithmName: 'dart' is not provided by katib-nas" in text
    assert len(error.value.problems) >= 2


def test_fingerprint_ignores_counts_only() -> None:
    first = load_experiment(EXAMPLES / "enas-cpu.yaml")
    doc = enas_doc()
    doc["spec"]["maxTrialCount"] = 30
    doc["spec"]["parallelTrialCount"] = 1
    assert experiment_from_dict(doc).fingerprint() == first.fingerprint()
    doc["spec"]["nasConfig"]["graphConfig"]["numLayers"] = 2
    assert experiment_from_dict(doc).fingerprint() != first.fingerprint()
