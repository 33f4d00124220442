"""ENAS-only conformance over the wire: Katib's ENAS requests, formats, learning and restarts.

One ENAS service process serves most tests of this module; the restart test starts its own.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator

import grpc
import pytest

from katib_nas.api import api_pb2
from tests.conformance import experiments as ex
from tests.processes import ServiceProcess, start_service

SUCCEEDED = ex.CONDITIONS.SUCCEEDED
METRIC = "Validation-Accuracy"
SEED = ("--seed", "11")

# Katib's ENAS unit-test operations expand to these ids (contract 2.1 and 6).
KATIB_TEST_EMBEDDING = {
    0: ("convolution", {"filter_size": "5", "num_filter": "128", "stride": "1"}),
    1: ("convolution", {"filter_size": "5", "num_filter": "128", "stride": "2"}),
    2: ("reduction", {"reduction_type": "max_pooling", "pool_size": 2}),
    3: ("reduction", {"reduction_type": "max_pooling", "pool_size": 3}),
}


@pytest.fixture(scope="module")
def enas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    workdir = tmp_path_factory.mktemp("enas-wire")
    process = start_service("enas", workdir, "--state-dir", str(workdir / "state"), *SEED)
    yield process
    assert process.stop() == 0, process.log()


def suggest(process, experiment, count, trials=()):
    reply = process.stub.GetSuggestions(ex.request(experiment, count, trials), timeout=60)
    assert len(reply.parameter_assignments) == count
    return [
        [(a.name, a.value) for a in entry.assignments] for entry in reply.parameter_assignments
    ]


def evaluated(suggestions, prefix, values, condition=SUCCEEDED, metric=METRIC):
    return [
        ex.trial(f"{prefix}-{i}", condition, s, [(metric, v)] if v is not None else [], metric)
        for i, (s, v) in enumerate(zip(suggestions, values, strict=True))
    ]


def log_lines(process, *words):
    return [line for line in process.log().splitlines() if all(w in line for w in words)]


def named(experiment: api_pb2.Experiment, name: str) -> api_pb2.Experiment:
    experiment.name = name
    return experiment


def test_katib_enas_unit_test_request(enas):
    """Contract 6: two SUCCEEDED trials, two suggestions; here the trials are learned from."""
    experiment = named(ex.katib_enas_experiment(), "katib-unit-test")
    arcs = ["[[3], [0, 1], [0, 0, 1], [2, 1, 0, 0]]", "[[1], [0, 1], [2, 1, 1], [2, 1, 1, 0]]"]
    trials = [
        ex.trial(
            name,
            SUCCEEDED,
            [("architecture", arc), ("nn_config", "{'num_layers': 4}")],
            [(METRIC, value)],
        )
        for name, arc, value in zip(
            ["first-trial", "second-trial"], arcs, ["0.88", "0.84"], strict=True
        )
    ]
    suggestions = suggest(enas, experiment, 2, trials)
    for entry in suggestions:
        assert [name for name, _ in entry] == ["architecture", "nn_config"]
    [line] = log_lines(enas, "controller learned", "experiment=katib-unit-test")
    assert "trials=2" in line and "mean_reward=0.8600" in line


def test_reply_formats_are_katibs(enas):
    experiment = named(ex.katib_enas_experiment(), "formats")
    for entry in suggest(enas, experiment, 5):
        (_, architecture), (_, nn_config) = entry
        rows = json.loads(architecture)
        assert architecture == json.dumps(rows)
        assert [len(row) for row in rows] == [1, 2, 3, 4]
        assert all(0 <= row[0] < 4 and set(row[1:]) <= {0, 1} for row in rows)
        embedding = {}
        for op in (row[0] for row in rows):
            op_type, params = KATIB_TEST_EMBEDDING[op]
            embedding.setdefault(
                str(op), {"opt_id": op, "opt_type": op_type, "opt_params": params}
            )
        expected = {
            "num_layers": 4,
            "input_sizes": [32, 32, 8],
            "output_sizes": [10],
            "embedding": embedding,
        }
        assert nn_config == json.dumps(expected).replace('"', "'")


def test_minimize_negates_the_objective(enas):
    experiment = named(ex.katib_enas_experiment(), "minimize")
    experiment.spec.objective.type = api_pb2.MINIMIZE
    experiment.spec.objective.objective_metric_name = "loss"
    first = suggest(enas, experiment, 2)
    suggest(enas, experiment, 2, evaluated(first, "m", ["1.5", "2.5"], metric="loss"))
    [line] = log_lines(enas, "controller learned", "experiment=minimize")
    assert "mean_reward=-2.0000" in line


def test_one_layer_learns_with_finite_losses(enas):
    experiment = named(ex.katib_enas_experiment(), "one-layer")
    experiment.spec.nas_config.graph_config.num_layers = 1
    first = suggest(enas, experiment, 3)
    assert all(re.fullmatch(r"\[\[[0-3]\]\]", entry[0][1]) for entry in first)
    suggest(enas, experiment, 3, evaluated(first, "one", ["0.5", "0.6", "0.7"]))
    [line] = log_lines(enas, "controller learned", "experiment=one-layer")
    loss = float(re.search(r"loss=(\S+)", line).group(1))
    assert loss == loss and abs(loss) != float("inf")


def test_no_succeeded_trial_on_later_calls_is_not_an_error(enas):
    experiment = named(ex.katib_enas_experiment(), "no-successes")
    history = []
    for call, condition in enumerate([ex.CONDITIONS.RUNNING, ex.CONDITIONS.FAILED, None]):
        history += evaluated(
            suggest(enas, experiment, 2, history), f"n{call}", [None, None], condition=condition
        )
    assert len(suggest(enas, experiment, 2, history)) == 2


SKIPPED = {
    "no-metric": (None, None),
    "empty": ("", None),
    "unavailable": ("unavailable", None),
    "nan": ("nan", None),
    "inf": ("inf", None),
    "minus-inf": ("-inf", None),
    "huge": ("1e300", None),
    "bad-arc": ("0.7", "[[1], [0, 1]]"),
    "op-out-of-range": ("0.7", "[[9], [0, 1], [0, 0, 1], [2, 1, 0, 0]]"),
    "no-arc": ("0.7", ""),
    "nested-too-deeply": ("0.7", "[" * 50_000 + "]" * 50_000),
}


def skipped_trial(name: str, value: str | None, arc: str | None, base) -> api_pb2.Trial:
    architecture, nn_config = base
    if arc is not None:
        architecture = ("architecture", arc)
    assignments = [architecture, nn_config] if architecture[1] else [nn_config]
    return ex.trial(name, SUCCEEDED, assignments, [] if value is None else [(METRIC, value)])


def test_unusable_succeeded_trials_are_skipped_with_one_log_line_each(enas):
    experiment = named(ex.katib_enas_experiment(), "skipping")
    base = suggest(enas, experiment, 1)[0]
    trials = [skipped_trial(name, value, arc, base) for name, (value, arc) in SKIPPED.items()]
    good = ex.trial("good", SUCCEEDED, base, [(METRIC, "0.6")])
    for _ in range(2):  # the second call must not log the same trials again
        suggest(enas, experiment, 1, [*trials, good])
    for name in SKIPPED:
        assert len(log_lines(enas, "trial skipped", "experiment=skipping", f"trial={name} ")) == 1
    [line] = log_lines(enas, "controller learned", "experiment=skipping")
    assert "trials=1 " in line


# Contract 2.2: every setting's invalid values; "None" only where Katib allows it.
BAD_SETTINGS = [
    ("controller_hidden_size", "0"),
    ("controller_hidden_size", "1.5"),
    ("controller_hidden_size", "None"),
    ("controller_temperature", "0"),
    ("controller_temperature", "-1"),
    ("controller_tanh_const", "0"),
    ("controller_entropy_weight", "0"),
    ("controller_baseline_decay", "0"),
    ("controller_baseline_decay", "1.01"),
    ("controller_baseline_decay", "None"),
    ("controller_learning_rate", "0"),
    ("controller_learning_rate", "1.5"),
    ("controller_skip_target", "0"),
    ("controller_skip_target", "1.1"),
    # 1.0 validated, then every GetSuggestions died on log(1 - target) with INTERNAL.
    ("controller_skip_target", "1.0"),
    ("controller_skip_weight", "0"),
    ("controller_train_steps", "0"),
    ("controller_train_steps", "None"),
    ("controller_log_every_steps", "0"),
    ("controller_log_every_steps", "x"),
]


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_invalid_settings_are_invalid_argument_naming_them(enas, name, value):
    experiment = ex.katib_enas_experiment([(name, value)])
    with pytest.raises(grpc.RpcError) as raised:
        enas.stub.ValidateAlgorithmSettings(
            api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment), timeout=60
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert name in raised.value.details() and repr(value) in raised.value.details()


@pytest.mark.parametrize(
    "name",
    [
        "controller_temperature",
        "controller_tanh_const",
        "controller_entropy_weight",
        "controller_skip_weight",
    ],
)
def test_none_is_accepted_where_katib_accepts_it(enas, name):
    experiment = named(ex.katib_enas_experiment([(name, "None")]), f"none-{name}")
    enas.stub.ValidateAlgorithmSettings(
        api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment), timeout=60
    )
    first = suggest(enas, experiment, 2)
    suggest(enas, experiment, 2, evaluated(first, "x", ["0.1", "0.9"]))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda g: g.ClearField("input_sizes"), ["inputSizes"]),
        (lambda g: g.ClearField("output_sizes"), ["outputSizes"]),
        (lambda g: setattr(g, "num_layers", 0), ["numLayers"]),
        (lambda g: setattr(g, "num_layers", -2), ["numLayers", "-2"]),
        (lambda g: g.input_sizes.__setitem__(0, -32), ["inputSizes", "-32"]),
        (lambda g: setattr(g, "num_layers", 20_000), ["numLayers must be <= 100", "20000"]),
    ],
    ids=[
        "no-input-sizes",
        "no-output-sizes",
        "zero-layers",
        "negative-layers",
        "negative-size",
        "too-many-layers",
    ],
)
def test_invalid_graphs_are_invalid_argument(enas, change, words):
    experiment = ex.katib_enas_experiment()
    change(experiment.spec.nas_config.graph_config)
    for call in (
        lambda: enas.stub.ValidateAlgorithmSettings(
            api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment), timeout=60
        ),
        lambda: enas.stub.GetSuggestions(ex.request(experiment, 1), timeout=60),
    ):
        with pytest.raises(grpc.RpcError) as raised:
            call()
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert all(word in raised.value.details() for word in words), raised.value.details()


def test_changed_search_space_starts_afresh_with_a_warning(enas):
    experiment = named(ex.katib_enas_experiment(), "changing")
    first = suggest(enas, experiment, 2)
    suggest(enas, experiment, 2, evaluated(first, "c", ["0.5", "0.6"]))
    experiment.spec.nas_config.graph_config.num_layers = 2
    for entry in suggest(enas, experiment, 2):
        assert len(json.loads(entry[0][1])) == 2
    [warning] = log_lines(enas, "starting afresh", "experiment=changing")
    assert "num_layers 4 -> 2" in warning


def test_restart_after_sigkill_continues_with_the_same_controller(enas, tmp_path):
    """A service killed with SIGKILL and restarted on its state directory answers exactly as a
    service that was never interrupted (the module's service, same seed): same weights, same
    random state, no trial learned twice.
    """
    reference = enas

    def start(workdir: str, state: str) -> ServiceProcess:
        (tmp_path / workdir).mkdir()
        return start_service(
            "enas", tmp_path / workdir, "--state-dir", str(tmp_path / state), *SEED
        )

    victim = start("a", "state")
    experiment = named(ex.katib_enas_experiment(), "restarted")
    history: list[api_pb2.Trial] = []
    try:
        for call in range(3):
            ours = suggest(victim, experiment, 3, history)
            assert ours == suggest(reference, experiment, 3, history)
            history += evaluated(ours, f"r{call}", [f"0.{call}{i}" for i in range(3)])

        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(30)
        victim.channel.close()
        restarted = start("b", "state")
        try:
            for call in range(3, 5):
                ours = suggest(restarted, experiment, 3, history)
                assert ours == suggest(reference, experiment, 3, history)
                history += evaluated(ours, f"r{call}", [f"0.{call}{i}" for i in range(3)])
            [restored] = log_lines(restarted, "experiment restored", "experiment=restarted")
            assert "learned=6" in restored
            learned = log_lines(restarted, "controller learned", "experiment=restarted")
            assert [re.search(r" trials=(\d+)", line).group(1) for line in learned] == ["3", "3"]
        finally:
            assert restarted.stop() == 0, restarted.log()
    finally:
        victim.stop()


def test_a_reply_too_large_for_a_grpc_client_is_invalid_argument(enas):
    experiment = named(ex.katib_enas_experiment(), "too-large-reply")
    experiment.spec.nas_config.graph_config.num_layers = 100  # ~15 KB per architecture
    with pytest.raises(grpc.RpcError) as raised:
        enas.stub.GetSuggestions(ex.request(experiment, 400), timeout=60)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "400 suggestions make a reply of" in raised.value.details()
    assert len(suggest(enas, experiment, 2)) == 2
