"""Every invalid-Experiment case of the admission checks, with the path and message it gives."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from katib_nas.runner.admission import Problem, check_experiment, check_runnable_locally
from tests.runner.helpers import EXAMPLES, darts_doc, enas_doc

DELETE = object()
CONTAINER = "spec.trialTemplate.trialSpec.spec.template.spec.containers.0"


def mutate(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``doc`` with the dotted ``path`` (list indices as numbers) set or deleted."""
    result = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node: Any = result
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    key: Any = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return result


def problems_of(doc: Any) -> list[str]:
    return [str(p) for p in check_experiment(doc)]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_is_valid_and_runnable(name: str) -> None:
    doc = yaml.safe_load((EXAMPLES / name).read_text())
    assert check_experiment(doc) == []
    assert check_runnable_locally(doc) == []


CASES = [
    # (description, path to change, new value, expected problem path, expected fragment)
    ("not a mapping", None, ["a list"], "(document)", "must be a mapping"),
    (
        "wrong apiVersion",
        "apiVersion",
        "kubeflow.org/v1alpha3",
        "apiVersion",
        "kubeflow.org/v1beta1",
    ),
    ("wrong kind", "kind", "Trial", "kind", "must be 'Experiment'"),
    ("no name", "metadata.name", DELETE, "metadata.name", "is required"),
    ("upper-case name", "metadata.name", "Enas_CPU", "metadata.name", "lower case"),
    ("long name", "metadata.name", "a" * 41, "metadata.name", "at most 40"),
    ("no spec", "spec", DELETE, "spec", "is required"),
    ("maxTrialCount 0", "spec.maxTrialCount", 0, "spec.maxTrialCount", "greater than 0"),
    ("parallel 0", "spec.parallelTrialCount", 0, "spec.parallelTrialCount", "greater than 0"),
    ("negative failed", "spec.maxFailedTrialCount", -1, "spec.maxFailedTrialCount", "less than 0"),
    (
        "failed > max",
        "spec.maxFailedTrialCount",
        9,
        "spec.maxFailedTrialCount",
        "less than or equal to spec.maxTrialCount (3)",
    ),
    (
        "parallel > max",
        "spec.parallelTrialCount",
        4,
        "spec.parallelTrialCount",
        "less than or equal to spec.maxTrialCount (3)",
    ),
    ("count as text", "spec.maxTrialCount", "3", "spec.maxTrialCount", "must be an integer"),
    ("count as bool", "spec.parallelTrialCount", True, "spec.parallelTrialCount", "integer"),
    ("no objective", "spec.objective", DELETE, "spec.objective", "is required"),
    (
        "objective type",
        "spec.objective.type",
        "max",
        "spec.objective.type",
        "must be 'minimize' or 'maximize', got 'max'",
    ),
    (
        "no metric",
        "spec.objective.objectiveMetricName",
        DELETE,
        "spec.objective.objectiveMetricName",
        "is required",
    ),
    (
        "metric repeated",
        "spec.objective.additionalMetricNames",
        ["Validation-Accuracy"],
        "spec.objective.additionalMetricNames[0]",
        "should not contain",
    ),
    ("goal text", "spec.objective.goal", "high", "spec.objective.goal", "must be a number"),
    (
        "strategy value",
        "spec.objective.metricStrategies",
        [{"name": "Validation-Accuracy", "value": "best"}],
        "spec.objective.metricStrategies[0].value",
        "'min', 'max' or 'latest'",
    ),
    (
        "strategy name",
        "spec.objective.metricStrategies",
        [{"value": "max"}],
        "spec.objective.metricStrategies[0].name",
        "is required",
    ),
    ("no algorithm", "spec.algorithm", DELETE, "spec.algorithm", "is required"),
    (
        "unknown algorithm",
        "spec.algorithm.algorithmName",
        "ena",
        "spec.algorithm.algorithmName",
        "did you mean 'enas'",
    ),
    (
        "hp algorithm",
        "spec.algorithm.algorithmName",
        "random",
        "spec.algorithm.algorithmName",
        "use 'enas' or 'darts'",
    ),
    (
        "setting value number",
        "spec.algorithm.algorithmSettings",
        [{"name": "controller_hidden_size", "value": 64}],
        "spec.algorithm.algorithmSettings[0].value",
        'quote it: "64"',
    ),
    (
        "setting without value",
        "spec.algorithm.algorithmSettings",
        [{"name": "controller_hidden_size"}],
        "spec.algorithm.algorithmSettings[0].value",
        "is required",
    ),
    (
        "setting twice",
        "spec.algorithm.algorithmSettings",
        [{"name": "a", "value": "1"}, {"name": "a", "value": "2"}],
        "spec.algorithm.algorithmSettings[1].name",
        "more than once",
    ),
    (
        "no search space",
        "spec.nasConfig",
        DELETE,
        "spec",
        "spec.parameters or spec.nasConfig must be specified",
    ),
    (
        "both search spaces",
        "spec.parameters",
        [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "1"}}],
        "spec",
        "only one of spec.parameters and spec.nasConfig",
    ),
    (
        "no numLayers",
        "spec.nasConfig.graphConfig.numLayers",
        DELETE,
        "spec.nasConfig.graphConfig.numLayers",
        "is required",
    ),
    (
        "numLayers 0",
        "spec.nasConfig.graphConfig.numLayers",
        0,
        "spec.nasConfig.graphConfig.numLayers",
        "at least 1",
    ),
    (
        "size as text",
        "spec.nasConfig.graphConfig.inputSizes",
        [32, "32", 3],
        "spec.nasConfig.graphConfig.inputSizes[1]",
        "must be an integer",
    ),
    (
        "no operations",
        "spec.nasConfig.operations",
        [],
        "spec.nasConfig.operations",
        "at least one operation",
    ),
    (
        "operation without type",
        "spec.nasConfig.operations.0.operationType",
        DELETE,
        "spec.nasConfig.operations[0].operationType",
        "is required",
    ),
    (
        "parameter type",
        "spec.nasConfig.operations.0.parameters.0.parameterType",
        "cat",
        "spec.nasConfig.operations[0].parameters[0].parameterType",
        "got 'cat'",
    ),
    (
        "unquoted list value",
        "spec.nasConfig.operations.0.parameters.0.feasibleSpace.list",
        [3, 5],
        "spec.nasConfig.operations[0].parameters[0].feasibleSpace.list[0]",
        "quote it",
    ),
    (
        "categorical without list",
        "spec.nasConfig.operations.0.parameters.0.feasibleSpace",
        {"min": "1", "max": "2"},
        "spec.nasConfig.operations[0].parameters[0].feasibleSpace",
        "not supported for parameterType categorical",
    ),
    (
        "int with list",
        "spec.nasConfig.operations.3.parameters.1.feasibleSpace",
        {"list": ["2"]},
        "spec.nasConfig.operations[3].parameters[1].feasibleSpace.list",
        "not supported for parameterType int",
    ),
    (
        "unquoted min",
        "spec.nasConfig.operations.3.parameters.1.feasibleSpace.min",
        2,
        "spec.nasConfig.operations[3].parameters[1].feasibleSpace.min",
        "must be a string",
    ),
    ("no trialTemplate", "spec.trialTemplate", DELETE, "spec.trialTemplate", "is required"),
    (
        "no primary container",
        "spec.trialTemplate.primaryContainerName",
        DELETE,
        "spec.trialTemplate.primaryContainerName",
        "is required",
    ),
    (
        "primary container missing",
        "spec.trialTemplate.primaryContainerName",
        "trainer",
        "spec.trialTemplate.primaryContainerName",
        "'trainer' is not a container",
    ),
    (
        "no trialParameters",
        "spec.trialTemplate.trialParameters",
        DELETE,
        "spec.trialTemplate.trialParameters",
        "is required",
    ),
    (
        "no trial source",
        "spec.trialTemplate.trialSpec",
        DELETE,
        "spec.trialTemplate",
        "trialSpec or spec.trialTemplate.configMap must be specified",
    ),
    (
        "both trial sources",
        "spec.trialTemplate.configMap",
        {"configMapName": "a", "configMapNamespace": "b", "templatePath": "c"},
        "spec.trialTemplate",
        "only one of",
    ),
    (
        "trialSpec named",
        "spec.trialTemplate.trialSpec.metadata",
        {"name": "job"},
        "spec.trialTemplate.trialSpec.metadata",
        "must be omitted",
    ),
    (
        "parameter without reference",
        "spec.trialTemplate.trialParameters.0.reference",
        DELETE,
        "spec.trialTemplate.trialParameters[0].reference",
        "is required",
    ),
    (
        "parameter name with brace",
        "spec.trialTemplate.trialParameters.0.name",
        "a{b}",
        "spec.trialTemplate.trialParameters[0].name",
        "must not contain",
    ),
    (
        "parameter not used",
        "spec.trialTemplate.trialParameters.0.name",
        "unused",
        "spec.trialTemplate.trialParameters[0].name",
        "${trialParameters.unused} is not used",
    ),
    (
        "placeholder not declared",
        f"{CONTAINER}.command.7",
        '--nn_config="${trialParameters.neuralNetworkConfg}"',
        "spec.trialTemplate.trialSpec",
        "did you mean 'neuralNetworkConfig'",
    ),
    (
        "wrong reference",
        "spec.trialTemplate.trialParameters.0.reference",
        "architectur",
        "spec.trialTemplate.trialParameters[0].reference",
        "'architectur' is not an assignment of algorithm enas, which returns architecture, "
        "nn_config (did you mean 'architecture'?)",
    ),
    (
        "same reference twice",
        "spec.trialTemplate.trialParameters.1.reference",
        "architecture",
        "spec.trialTemplate.trialParameters[1].reference",
        "more than once",
    ),
    (
        "bad metadata reference",
        "spec.trialTemplate.trialParameters.0.reference",
        "${trialSpec.Uid}",
        "spec.trialTemplate.trialParameters[0].reference",
        "not a trial metadata reference",
    ),
    (
        "command word not text",
        f"{CONTAINER}.command.4",
        1,
        f"{CONTAINER.replace('.0', '[0]')}.command[4]",
        "must be a string",
    ),
    (
        "collector kind",
        "spec.metricsCollectorSpec",
        {"collector": {"kind": "Stdout"}},
        "spec.metricsCollectorSpec.collector.kind",
        "did you mean 'StdOut'",
    ),
    (
        "file collector without path",
        "spec.metricsCollectorSpec",
        {"collector": {"kind": "File"}},
        "spec.metricsCollectorSpec.source.fileSystemPath",
        "absolute path of kind File",
    ),
    (
        "filter does not compile",
        "spec.metricsCollectorSpec",
        {"source": {"filter": {"metricsFormat": ["([\\w-]+=(.*"]}}},
        "spec.metricsCollectorSpec.source.filter.metricsFormat[0]",
        "not a valid regular expression",
    ),
    (
        "filter with one group",
        "spec.metricsCollectorSpec",
        {"source": {"filter": {"metricsFormat": ["accuracy=(.*)"]}}},
        "spec.metricsCollectorSpec.source.filter.metricsFormat[0]",
        "needs two groups",
    ),
    ("resume policy", "spec.resumePolicy", "Always", "spec.resumePolicy", "got 'Always'"),
]


@pytest.mark.parametrize(
    ("path", "value", "where", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_invalid_experiment_is_reported_at_its_path(
    path: str | None, value: Any, where: str, fragment: str
) -> None:
    doc = value if path is None else mutate(enas_doc(), path, value)
    problems = check_experiment(doc)
    matching = [p for p in problems if p.path == where]
    assert matching, f"no problem at {where}; got {[str(p) for p in problems]}"
    assert any(fragment in p.message for p in matching), [str(p) for p in matching]


def test_missing_assignment_reference_names_what_the_algorithm_returns() -> None:
    doc = enas_doc()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].pop(1)
    command = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"]
    command.pop()  # the --nn_config flag that used the removed parameter
    assert problems_of(doc) == [
        "spec.trialTemplate.trialParameters: no trial parameter references 'nn_config'; "
        "algorithm enas returns architecture, nn_config and Katib cannot create a trial unless "
        "every one of them is referenced"
    ]


def test_darts_references_and_metadata_references() -> None:
    doc = darts_doc()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "trialName", "reference": "${trialSpec.Name}"})
    command = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"]
    command.append("--output-dir=out/${trialParameters.trialName}")
    assert problems_of(doc) == []

    template["trialParameters"][2]["reference"] = "architecture"
    assert problems_of(doc) == [
        "spec.trialTemplate.trialParameters[2].reference: 'architecture' is not an assignment "
        "of algorithm darts, which returns algorithm-settings, search-space, num-layers",
        "spec.trialTemplate.trialParameters: no trial parameter references 'num-layers'; "
        "algorithm darts returns algorithm-settings, search-space, num-layers and Katib cannot "
        "create a trial unless every one of them is referenced",
    ]


def test_hyper_parameter_experiment_needs_nas_config() -> None:
    doc = mutate(enas_doc(), "spec.nasConfig", DELETE)
    doc["spec"]["parameters"] = [
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "1"}}
    ]
    assert "spec.nasConfig: is required by algorithm 'enas'" in problems_of(doc)[0]


def test_every_problem_is_reported_at_once() -> None:
    doc = mutate(enas_doc(), "spec.objective.type", "up")
    doc = mutate(doc, "spec.maxTrialCount", -1)
    doc = mutate(doc, "spec.algorithm.algorithmName", "bayesianoptimization")
    paths = {p.path for p in check_experiment(doc)}
    assert {"spec.objective.type", "spec.maxTrialCount", "spec.algorithm.algorithmName"} <= paths


def test_problem_reads_as_path_and_message() -> None:
    assert str(Problem("spec.maxTrialCount", "must be greater than 0")) == (
        "spec.maxTrialCount: must be greater than 0"
    )


LOCAL_CASES = [
    (
        "configMap",
        "spec.trialTemplate.trialSpec",
        DELETE,
        "spec.trialTemplate.configMap",
        "cannot read ConfigMaps",
    ),
    (
        "TFJob",
        "spec.trialTemplate.trialSpec.kind",
        "TFJob",
        "spec.trialTemplate.trialSpec",
        "runs batch/v1 Jobs",
    ),
    (
        "File collector",
        "spec.metricsCollectorSpec",
        {
            "collector": {"kind": "File"},
            "source": {"fileSystemPath": {"path": "/var/log/m.log", "kind": "File"}},
        },
        "spec.metricsCollectorSpec.collector.kind",
        "stdout only",
    ),
    (
        "no command",
        f"{CONTAINER}.command",
        DELETE,
        "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].command",
        "entrypoint is unknown",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "where", "fragment"),
    [case[1:] for case in LOCAL_CASES],
    ids=[case[0] for case in LOCAL_CASES],
)
def test_what_the_local_runner_cannot_run(
    path: str, value: Any, where: str, fragment: str
) -> None:
    doc = mutate(enas_doc(), path, value)
    if path == "spec.trialTemplate.trialSpec":
        doc["spec"]["trialTemplate"]["configMap"] = {
            "configMapName": "t",
            "configMapNamespace": "kubeflow",
            "templatePath": "job.yaml",
        }
    if where.endswith("command"):
        container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
        container["containers"][0]["args"] = enas_doc()["spec"]["trialTemplate"]["trialSpec"][
            "spec"
        ]["template"]["spec"]["containers"][0]["command"]
    if value == "TFJob":
        doc["spec"]["trialTemplate"]["successCondition"] = "status.x"
        doc["spec"]["trialTemplate"]["failureCondition"] = "status.y"
    assert check_experiment(doc) == []
    problems = check_runnable_locally(doc)
    assert any(p.path == where and fragment in p.message for p in problems), problems
