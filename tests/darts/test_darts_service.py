"""The DARTS suggestion service: Katib's own unit-test expectations and formats, over the wire."""

from __future__ import annotations

import json

import grpc
import pytest

from katib_nas.darts.primitives import SUPPORTED_PRIMITIVES
from tests.conformance import experiments as ex

P = ex.parameter


@pytest.fixture(scope="module")
def darts(tmp_path_factory):
    from tests.processes import start_service

    process = start_service("darts", tmp_path_factory.mktemp("darts"))
    yield process
    assert process.stop() == 0


def decode(value: str):
    return json.loads(value.replace("'", '"'))


def suggest(darts, experiment, count=1):
    reply = darts.stub.GetSuggestions(ex.request(experiment, count), timeout=30)
    return [{a.name: a.value for a in e.assignments} for e in reply.parameter_assignments]


def test_katib_unit_test_expectations(darts):
    (entry,) = suggest(darts, ex.katib_darts_experiment())
    assert decode(entry["algorithm-settings"])["num_epochs"] == "10"
    assert int(entry["num-layers"]) == 3
    assert decode(entry["search-space"]) == [
        "separable_convolution_3x3",
        "separable_convolution_5x5",
    ]


def test_exact_katib_formats(darts):
    experiment = ex.katib_darts_experiment(settings=[("num_epochs", "3")])
    (entry,) = suggest(darts, experiment)
    assert entry["algorithm-settings"] == (
        "{'num_epochs': '3', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, "
        "'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, "
        "'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, "
        "'init_channels': 16, 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3, "
        "'second_order': true}"
    )
    assert entry["search-space"] == "['separable_convolution_3x3', 'separable_convolution_5x5']"
    assert entry["num-layers"] == "3"


def test_batch_size_none_is_null(darts):
    (entry,) = suggest(darts, ex.katib_darts_experiment(settings=[("batch_size", "None")]))
    assert decode(entry["algorithm-settings"])["batch_size"] is None


def test_katib_darts_gpu_example_validates_and_names_primitives_in_order(darts):
    """Katib's own darts-gpu example fails Katib's validation (skip_connection has no
    parameters); it must pass here."""
    experiment = ex.experiment(
        "darts-gpu",
        "darts",
        [
            ex.operation("separable_convolution", P("filter_size", "categorical", ["3"])),
            ex.operation("dilated_convolution", P("filter_size", "categorical", ["3", "5"])),
            ex.operation("avg_pooling", P("filter_size", "categorical", ["3"])),
            ex.operation("max_pooling", P("filter_size", "categorical", ["3"])),
            ex.operation("skip_connection"),
        ],
        settings=[("num_epochs", "3")],
    )
    (entry,) = suggest(darts, experiment)
    assert decode(entry["search-space"]) == [
        "separable_convolution_3x3",
        "dilated_convolution_3x3",
        "dilated_convolution_5x5",
        "avg_pooling_3x3",
        "max_pooling_3x3",
        "skip_connection",
    ]


def test_int_kernel_sizes_expand(darts):
    experiment = ex.experiment(
        "int-sizes",
        "darts",
        [ex.operation("max_pooling", P("filter_size", "int", min="3", max="5", step="2"))],
    )
    (entry,) = suggest(darts, experiment)
    assert decode(entry["search-space"]) == ["max_pooling_3x3", "max_pooling_5x5"]


def test_every_later_call_gives_the_same_reply(darts):
    """Katib's service fails every call after the first (UnboundLocalError)."""
    experiment = ex.katib_darts_experiment()
    first = suggest(darts, experiment, 2)
    assert first[0] == first[1]
    for count in (1, 3, 1):
        assert suggest(darts, experiment, count) == [first[0]] * count
    other = ex.katib_darts_experiment(settings=[("num_epochs", "7")])
    other.name = "another-experiment"
    assert decode(suggest(darts, other)[0]["algorithm-settings"])["num_epochs"] == "7"
    assert suggest(darts, experiment) == [first[0]]


@pytest.mark.parametrize(
    ("operation", "words"),
    [
        (
            ex.operation("convolution", P("filter_size", "categorical", ["9"])),
            ["convolution_9x9", "not supported", "supported primitives", "max_pooling_3x3"],
        ),
        (
            ex.operation("avg_pooling", P("filter_size", "double", min="3", max="5", step="1")),
            ["filter_size", "whole numbers"],
        ),
        (
            ex.operation("max_pooling", P("filter_size", "categorical", ["3", "3"])),
            ["max_pooling_3x3", "twice"],
        ),
        (ex.operation("max_pooling"), ["max_pooling", "kernel-size parameter"]),
    ],
)
def test_primitives_the_trial_cannot_build_are_rejected(darts, operation, words):
    experiment = ex.katib_darts_experiment()
    experiment.spec.nas_config.operations.operation.append(operation)
    with pytest.raises(grpc.RpcError) as raised:
        suggest(darts, experiment)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for word in words:
        assert word in raised.value.details()


def test_every_supported_primitive_validates(darts):
    operations = {}
    for name in SUPPORTED_PRIMITIVES:
        op_type, _, size = name.rpartition("_")
        if name == "skip_connection":
            operations[name] = []
        else:
            operations.setdefault(op_type, []).append(size.partition("x")[0])
    experiment = ex.experiment(
        "all-primitives",
        "darts",
        [
            ex.operation(t, *([P("filter_size", "categorical", v)] if v else []))
            for t, v in operations.items()
        ],
    )
    (entry,) = suggest(darts, experiment)
    assert sorted(decode(entry["search-space"])) == sorted(SUPPORTED_PRIMITIVES)
