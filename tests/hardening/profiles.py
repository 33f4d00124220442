"""Per-service knowledge the fuzzer needs: valid experiments, settings, trial values, replies.

A profile exists for every suggestion service of this checkout (``katib_nas/<algorithm>/`` with
a ``__main__``); each says how to start the service, how to draw an experiment it must accept,
what its trials' assignments look like, and what a correct reply holds.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from katib_nas.api import api_pb2
from katib_nas.darts.primitives import KERNEL_SIZES, SKIP_CONNECTION, SUPPORTED_PRIMITIVES
from katib_nas.darts.settings import DARTS_SETTINGS
from katib_nas.settings import Setting
from tests.conformance import experiments as ex
from tests.hardening import strategies as hs
from tests.processes import REPO_ROOT

Draw = hs.Draw


@dataclass(frozen=True, repr=False)
class FuzzProfile:
    algorithm: str
    settings: tuple[Setting, ...]
    assignment_names: tuple[str, ...]
    valid_experiments: st.SearchStrategy[api_pb2.Experiment]
    trial_assignments: Callable[[api_pb2.Experiment], st.SearchStrategy[list[tuple[str, str]]]]
    check_entry: Callable[[api_pb2.Experiment, dict[str, str]], None]
    # Flags after `--port 0 --host 127.0.0.1 --port-file F`; "{workdir}" is replaced.
    extra_args: tuple[str, ...] = ()
    # Settings drawn in a narrower valid range so that valid calls stay fast.
    fast_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"FuzzProfile({self.algorithm})"

    def experiments(self) -> st.SearchStrategy[api_pb2.Experiment]:
        return _cached(("experiments", self.algorithm), self._experiments)

    def requests(self) -> st.SearchStrategy[api_pb2.GetSuggestionsRequest]:
        return _cached(("requests", self.algorithm), self._requests)

    def _experiments(self) -> st.SearchStrategy[api_pb2.Experiment]:
        return hs.experiments(self.valid_experiments, self.settings)

    def _requests(self) -> st.SearchStrategy[api_pb2.GetSuggestionsRequest]:
        return hs.suggestion_requests(self.experiments(), self.trial_assignments)


_STRATEGIES: dict[tuple[str, str], st.SearchStrategy] = {}


def _cached(key: tuple[str, str], build: Callable[[], st.SearchStrategy]) -> st.SearchStrategy:
    """One strategy object per profile and kind, so hypothesis prepares it once."""
    if key not in _STRATEGIES:
        _STRATEGIES[key] = build()
    return _STRATEGIES[key]


def decode_quoted_json(value: str) -> Any:
    """Katib's trial decoding of a quote-swapped JSON value."""
    return json.loads(value.replace("'", '"'))


@cache
@st.composite
def valid_setting_pairs(
    draw: Draw, table: Sequence[Setting], fast: tuple[tuple[str, tuple[float, float]], ...]
) -> list[tuple[str, str]]:
    """Distinct settings of the table, each with a value inside its range (or ``fast``'s)."""
    narrower = dict(fast)
    chosen = draw(st.lists(st.sampled_from(table), unique_by=lambda s: s.name, max_size=4))
    pairs = []
    for setting in chosen:
        if setting.none_allowed and draw(st.integers(0, 4)) == 0:
            pairs.append((setting.name, "None"))
            continue
        if setting.kind is bool:
            pairs.append((setting.name, draw(st.sampled_from(["true", "false"]))))
            continue
        low, high = narrower.get(setting.name, (setting.low, setting.high))
        low = 0 if low is None else low
        high = low + 100 if high is None else high
        if setting.kind is int:
            value: float = draw(st.integers(int(low) + int(setting.low_open), int(high)))
        else:
            value = draw(
                st.floats(
                    low,
                    high,
                    exclude_min=setting.low_open or low == 0,
                    exclude_max=setting.high_open,
                )
            )
        pairs.append((setting.name, repr(value) if setting.kind is float else str(value)))
    return pairs


# DARTS ------------------------------------------------------------------------------------


@cache
@st.composite
def darts_operation(draw: Draw, op_type: str) -> api_pb2.Operation:
    if op_type == SKIP_CONNECTION:
        return ex.operation(op_type)
    sizes = draw(st.lists(st.sampled_from(KERNEL_SIZES[op_type]), min_size=1, unique=True))
    kind = draw(st.sampled_from(["categorical", "discrete", "int"]))
    if kind == "int":
        low, high = min(sizes), max(sizes)
        step = str(max(high - low, 1))
        first = ex.parameter("filter_size", "int", min=str(low), max=str(high), step=step)
    else:
        first = ex.parameter("filter_size", kind, [str(s) for s in sizes])
    others = draw(st.lists(hs.parameters(), max_size=1))
    if others and others[0].parameter_type == api_pb2.UNKNOWN_TYPE:
        others = []
    return ex.operation(op_type, first, *[p for p in others if _is_valid_extra(p)])


def _is_valid_extra(parameter: api_pb2.ParameterSpec) -> bool:
    """Extra DARTS parameters are ignored but still validated: keep only a plain valid one."""
    return (
        parameter.parameter_type == api_pb2.CATEGORICAL
        and all(v.isalnum() and v.isascii() for v in parameter.feasible_space.list)
        and bool(parameter.feasible_space.list)
        and parameter.name.isidentifier()
    )


@cache
@st.composite
def darts_experiments(draw: Draw) -> api_pb2.Experiment:
    op_types = draw(
        st.lists(st.sampled_from([*KERNEL_SIZES, SKIP_CONNECTION]), min_size=1, unique=True)
    )
    return ex.experiment(
        draw(st.sampled_from(hs.EXPERIMENT_NAMES)),
        "darts",
        [draw(darts_operation(t)) for t in op_types],
        num_layers=draw(st.integers(1, 20)),
        settings=draw(valid_setting_pairs(DARTS_SETTINGS, ())),
        objective="Best-Genotype",
    )


def darts_trial_assignments(
    experiment: api_pb2.Experiment,
) -> st.SearchStrategy[list[tuple[str, str]]]:
    return hs.free_assignments(("algorithm-settings", "search-space", "num-layers"))


def check_darts_entry(experiment: api_pb2.Experiment, entry: dict[str, str]) -> None:
    settings = decode_quoted_json(entry["algorithm-settings"])
    assert set(settings) >= {s.name for s in DARTS_SETTINGS}, settings
    space = decode_quoted_json(entry["search-space"])
    assert space and all(p in SUPPORTED_PRIMITIVES for p in space), space
    assert len(set(space)) == len(space), space
    assert entry["num-layers"] == str(experiment.spec.nas_config.graph_config.num_layers)


DARTS = FuzzProfile(
    algorithm="darts",
    settings=DARTS_SETTINGS,
    assignment_names=("algorithm-settings", "search-space", "num-layers"),
    valid_experiments=darts_experiments(),
    trial_assignments=darts_trial_assignments,
    check_entry=check_darts_entry,
)

# ENAS -------------------------------------------------------------------------------------

ENAS_VALUE = st.text(alphabet="abcdefghij0123456789_", min_size=1, max_size=6)


@cache
@st.composite
def enas_parameter(draw: Draw, name: str) -> api_pb2.ParameterSpec:
    kind = draw(st.sampled_from(["categorical", "int", "double", "discrete"]))
    if kind == "categorical":
        return ex.parameter(name, kind, draw(st.lists(ENAS_VALUE, min_size=1, max_size=3)))
    if kind == "discrete":
        numbers = draw(st.lists(st.integers(-5, 64), min_size=1, max_size=3))
        return ex.parameter(name, kind, [str(n) for n in numbers])
    low = draw(st.integers(-4, 16))
    if kind == "int":
        step = draw(st.integers(1, 4))
        high = low + step * draw(st.integers(0, 2))
        return ex.parameter(name, kind, min=str(low), max=str(high), step=str(step))
    step_f = draw(st.sampled_from([0.1, 0.25, 0.5, 1.0]))
    high_f = low + step_f * draw(st.integers(0, 3))
    return ex.parameter(name, kind, min=str(low), max=repr(high_f), step=repr(step_f))


@cache
@st.composite
def enas_operation(draw: Draw) -> api_pb2.Operation:
    names = draw(st.lists(st.sampled_from(hs.PARAMETER_NAMES), max_size=3, unique=True))
    op_type = draw(st.sampled_from(hs.OPERATION_TYPES))
    return ex.operation(op_type, *[draw(enas_parameter(n)) for n in names])


ENAS_FAST = {"controller_train_steps": (1, 3), "controller_hidden_size": (1, 32)}


@cache
@st.composite
def enas_experiments(draw: Draw) -> api_pb2.Experiment:
    """Mostly one of a few fixed experiments, whose controllers stay built between examples
    (building one costs about half a second); sometimes a new random one."""
    if draw(st.integers(0, 4)):
        index = draw(st.integers(0, len(FIXED_ENAS_EXPERIMENTS) - 1))
        message = api_pb2.Experiment()
        message.CopyFrom(FIXED_ENAS_EXPERIMENTS[index])
        return message
    return draw(random_enas_experiments())


def _fixed_enas_experiment(name: str, num_layers: int, *operations: api_pb2.Operation) -> Any:
    settings = [("controller_train_steps", "1"), ("controller_hidden_size", "8")]
    return ex.experiment(
        f"fixed-{name}", "enas", operations, num_layers=num_layers, settings=settings
    )


P = ex.parameter
FIXED_ENAS_EXPERIMENTS = (
    ex.katib_enas_experiment([("controller_train_steps", "1"), ("controller_hidden_size", "8")]),
    _fixed_enas_experiment(
        "double-discrete",
        3,
        ex.operation("convolution", P("rate", "double", min="0.1", max="0.3", step="0.1")),
        ex.operation("pooling", P("size", "discrete", ["2", "3.5"])),
        ex.operation("identity"),
    ),
    _fixed_enas_experiment(
        "one-layer", 1, ex.operation("skip", P("k", "int", min="1", max="3", step="2"))
    ),
)


@cache
@st.composite
def random_enas_experiments(draw: Draw) -> api_pb2.Experiment:
    table = _enas_settings()
    return ex.experiment(
        draw(st.sampled_from(hs.EXPERIMENT_NAMES)),
        "enas",
        draw(st.lists(enas_operation(), min_size=1, max_size=3)),
        num_layers=draw(st.integers(1, 8)),
        input_sizes=draw(st.lists(st.integers(1, 64), min_size=1, max_size=3)),
        output_sizes=draw(st.lists(st.integers(1, 20), min_size=1, max_size=2)),
        settings=draw(valid_setting_pairs(table, tuple(ENAS_FAST.items()))),
        objective_type=draw(st.sampled_from([api_pb2.MAXIMIZE, api_pb2.MINIMIZE])),
    )


@cache
@st.composite
def enas_architecture(draw: Draw, num_layers: int) -> str:
    """Well-shaped rows with op ids and skip bits the service may never have produced."""
    layers = num_layers if draw(st.integers(0, 3)) else draw(st.integers(0, 10))
    rows = []
    for layer in range(layers):
        width = layer if draw(st.integers(0, 5)) else draw(st.integers(0, 4))
        row = [draw(st.integers(-2, 40))]
        row += draw(st.lists(st.integers(-1, 2), min_size=width, max_size=width))
        rows.append(row)
    return json.dumps(rows)


def enas_trial_assignments(
    experiment: api_pb2.Experiment,
) -> st.SearchStrategy[list[tuple[str, str]]]:
    return _enas_assignments(max(0, min(experiment.spec.nas_config.graph_config.num_layers, 12)))


@cache
def _enas_assignments(layers: int) -> st.SearchStrategy[list[tuple[str, str]]]:
    arc = st.one_of(enas_architecture(layers), hs.NUMBER_TEXT, hs.TEXT)
    nn_config = st.one_of(
        hs.TEXT,
        st.just("{'num_layers': 1, 'input_sizes': [1], 'output_sizes': [1], 'embedding': {}}"),
    )
    shaped = st.tuples(st.just("architecture"), arc).flatmap(
        lambda a: st.tuples(st.just(a), st.tuples(st.just("nn_config"), nn_config))
    )
    return st.one_of(shaped.map(list), hs.free_assignments(("architecture", "nn_config")))


def check_enas_entry(experiment: api_pb2.Experiment, entry: dict[str, str]) -> None:
    graph = experiment.spec.nas_config.graph_config
    rows = json.loads(entry["architecture"])
    assert len(rows) == graph.num_layers, rows
    for layer, row in enumerate(rows):
        assert len(row) == layer + 1 and all(isinstance(x, int) for x in row), rows
        assert row[0] >= 0 and all(bit in (0, 1) for bit in row[1:]), rows
    config = decode_quoted_json(entry["nn_config"])
    assert list(config) == ["num_layers", "input_sizes", "output_sizes", "embedding"], config
    assert config["num_layers"] == graph.num_layers
    assert config["input_sizes"] == list(graph.input_sizes)
    assert config["output_sizes"] == list(graph.output_sizes)
    used = list(dict.fromkeys(str(row[0]) for row in rows))
    assert list(config["embedding"]) == used, (used, config["embedding"])
    for op_id, op in config["embedding"].items():
        assert op["opt_id"] == int(op_id) and isinstance(op["opt_params"], dict), op


def _enas_settings() -> tuple[Setting, ...]:
    return tuple(importlib.import_module("katib_nas.enas.settings").SETTINGS)


def _has_service(algorithm: str) -> bool:
    return (REPO_ROOT / "katib_nas" / algorithm / "__main__.py").exists()


@cache
def profiles() -> dict[str, FuzzProfile]:
    """The profiles of the services this checkout has."""
    found = {"darts": DARTS}
    if _has_service("enas"):
        found["enas"] = FuzzProfile(
            algorithm="enas",
            settings=_enas_settings(),
            assignment_names=("architecture", "nn_config"),
            valid_experiments=enas_experiments(),
            trial_assignments=enas_trial_assignments,
            check_entry=check_enas_entry,
            extra_args=("--state-dir", "{workdir}/state", "--seed", "0"),
            fast_ranges=ENAS_FAST,
        )
    return found


def start_args(profile: FuzzProfile, workdir: Path) -> list[str]:
    return [arg.format(workdir=workdir) for arg in profile.extra_args]
