"""Hypothesis strategies for Katib Suggestion requests, well-formed and broken.

Requests are built the way a client can build them, not only the way Katib's controller does:
a valid experiment of the service under test with zero or more random mutations applied, or an
experiment drawn from scratch; settings of every name and type with in-range, boundary and
nonsense values; trial histories in every condition (and undeclared ones) with missing,
repeated, ``unavailable``, ``nan``, huge and non-numeric metrics; assignments the service never
produced. The strategies know nothing of the services beyond what a
:class:`~tests.hardening.profiles.FuzzProfile` tells them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from hypothesis import strategies as st

from katib_nas.api import api_pb2
from katib_nas.settings import Setting
from tests.conformance import experiments as ex

Draw = Callable[[st.SearchStrategy], object]
INT32 = st.integers(-(2**31), 2**31 - 1)

# Texts that number parsers, enum lookups and the trial templating trip over.
AWKWARD_TEXTS: tuple[str, ...] = (
    "",
    " ",
    "0",
    "-0",
    "1",
    "-1",
    "3",
    " 3 ",
    "+3",
    "1_0",
    "0x10",
    "1.5",
    ".5",
    "5.",
    "1e3",
    "1e-3",
    "1e308",
    "1e309",
    "-1e309",
    "inf",
    "-inf",
    "Infinity",
    "nan",
    "NaN",
    "None",
    "none",
    "null",
    "true",
    "false",
    "unavailable",
    "2147483648",
    "9" * 30,
    "9" * 400,
    "9" * 5000,
    "\uff13",
    "\u0663",
    "3\t",
    "3\n",
    "\x00",
    "3'",
    '3"',
    "3\\",
    "$3",
    "`3`",
    "\u00e9",
    "[1, 2]",
    "{'a': 1}",
)
TEXT = st.text(max_size=12)
AWKWARD = st.sampled_from(AWKWARD_TEXTS)
NUMBER_TEXT = st.one_of(
    AWKWARD,
    st.integers(-(10**6), 10**6).map(str),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-10.0, 10.0).map(lambda x: f"{x:.3g}"),
    TEXT,
)
ENUM_VALUE = st.one_of(st.integers(0, 8), st.sampled_from([-1, 99, 2**31 - 1]))

OPERATION_TYPES = (
    "convolution",
    "separable_convolution",
    "depthwise_convolution",
    "dilated_convolution",
    "avg_pooling",
    "max_pooling",
    "reduction",
    "skip_connection",
    "none",
)
PARAMETER_NAMES = ("filter_size", "num_filter", "stride", "pool_size", "reduction_type", "rate")
METRIC_NAMES = ("Validation-Accuracy", "Training-Accuracy", "Best-Genotype", "loss")
TRIAL_NAMES = tuple(f"trial-{i}" for i in range(6))
EXPERIMENT_NAMES = ("fuzz-a", "fuzz-b", "fuzz-c", "")


@cache
def near_miss(name: str) -> st.SearchStrategy[str]:
    """Typos of a real name: a letter dropped, case changed, padding, a suffix."""
    variants = [
        name[:-1],
        name.upper(),
        f" {name}",
        f"{name} ",
        f"{name}s",
        name.replace("_", "-"),
    ]
    return st.sampled_from(variants)


@cache
@st.composite
def setting_value(draw: Draw, setting: Setting) -> str:
    """A value for ``setting``: in range, on or just past a bound, or nonsense."""
    choices: list[st.SearchStrategy[str]] = [NUMBER_TEXT]
    if setting.kind is bool:
        choices.append(st.sampled_from(["true", "false", "True", "0", "1", "yes", "maybe"]))
    else:
        low = -1000 if setting.low is None else setting.low
        high = low + 1000 if setting.high is None else setting.high
        if setting.kind is int:
            choices.append(st.integers(int(low) - 2, int(high) + 2).map(str))
        else:
            choices.append(st.floats(low - 1, high + 1).map(repr))
            choices.append(st.sampled_from([repr(low), repr(high)]))
    if setting.none_allowed:
        choices.append(st.just("None"))
    return draw(st.one_of(choices))


@cache
@st.composite
def setting_pairs(draw: Draw, table: Sequence[Setting]) -> list[tuple[str, str]]:
    """Algorithm settings: real names with any value, near-miss names, arbitrary names."""
    pairs = []
    for _ in range(draw(st.integers(0, 4))):
        setting = draw(st.sampled_from(table))
        name = draw(st.one_of(st.just(setting.name), near_miss(setting.name), TEXT))
        pairs.append((name, draw(setting_value(setting))))
    return pairs


@cache
@st.composite
def parameters(draw: Draw) -> api_pb2.ParameterSpec:
    """An operation parameter of any type with any feasible space."""
    message = api_pb2.ParameterSpec(
        name=draw(st.one_of(st.sampled_from(PARAMETER_NAMES), TEXT)),
        parameter_type=draw(ENUM_VALUE),
    )
    space = message.feasible_space
    space.list.extend(draw(st.lists(NUMBER_TEXT, max_size=5)))
    space.min = draw(NUMBER_TEXT)
    space.max = draw(NUMBER_TEXT)
    space.step = draw(NUMBER_TEXT)
    space.distribution = draw(ENUM_VALUE)
    return message


@cache
@st.composite
def operations(draw: Draw) -> api_pb2.Operation:
    op_type = draw(st.one_of(st.sampled_from(OPERATION_TYPES), TEXT))
    return ex.operation(op_type, *draw(st.lists(parameters(), max_size=3)))


@cache
@st.composite
def random_experiments(draw: Draw, table: Sequence[Setting]) -> api_pb2.Experiment:
    """An experiment drawn from scratch: every field anything the wire can carry."""
    message = ex.experiment(
        draw(st.one_of(st.sampled_from(EXPERIMENT_NAMES), TEXT)),
        draw(st.one_of(st.sampled_from(["enas", "darts"]), TEXT)),
        draw(st.lists(operations(), max_size=4)),
        num_layers=draw(st.one_of(st.integers(-2, 12), INT32)),
        input_sizes=draw(st.lists(st.one_of(st.integers(-2, 64), INT32), max_size=4)),
        output_sizes=draw(st.lists(st.one_of(st.integers(-2, 64), INT32), max_size=2)),
        settings=draw(setting_pairs(table)),
        objective=draw(st.one_of(st.sampled_from(METRIC_NAMES), TEXT)),
        objective_type=draw(ENUM_VALUE),
        parallel=draw(INT32),
        max_trials=draw(INT32),
    )
    if draw(st.booleans()):
        message.ClearField("spec")
    return message


def _mutate_graph(draw: Draw, message: api_pb2.Experiment) -> None:
    graph = message.spec.nas_config.graph_config
    which = draw(st.sampled_from(["num_layers", "input_sizes", "output_sizes", "clear"]))
    if which == "num_layers":
        graph.num_layers = draw(st.one_of(st.integers(-3, 40), INT32))
    elif which == "clear":
        message.spec.nas_config.ClearField("graph_config")
    else:
        sizes = getattr(graph, which)
        del sizes[:]
        sizes.extend(draw(st.lists(st.one_of(st.integers(-2, 64), INT32), max_size=4)))


def _mutate_operations(draw: Draw, message: api_pb2.Experiment) -> None:
    ops = message.spec.nas_config.operations.operation
    which = draw(st.sampled_from(["append", "clear", "duplicate", "edit"]))
    if which == "append" or not ops:
        ops.append(draw(operations()))
    elif which == "clear":
        del ops[:]
    elif which == "duplicate":
        ops.append(ops[draw(st.integers(0, len(ops) - 1))])
    else:
        op = ops[draw(st.integers(0, len(ops) - 1))]
        params = op.parameter_specs.parameters
        if not params or draw(st.booleans()):
            op.operation_type = draw(st.one_of(st.sampled_from(OPERATION_TYPES), TEXT))
            return
        param = params[draw(st.integers(0, len(params) - 1))]
        field = draw(st.sampled_from(["type", "name", "min", "max", "step", "list", "clear"]))
        space = param.feasible_space
        if field == "type":
            param.parameter_type = draw(ENUM_VALUE)
        elif field == "name":
            param.name = draw(st.one_of(st.sampled_from(PARAMETER_NAMES), TEXT))
        elif field == "list":
            space.list.append(draw(NUMBER_TEXT))
        elif field == "clear":
            del params[:]
        else:
            setattr(space, field, draw(NUMBER_TEXT))


def _mutate_spec(draw: Draw, message: api_pb2.Experiment, table: Sequence[Setting]) -> None:
    spec = message.spec
    which = draw(st.sampled_from(["setting", "objective", "name", "algorithm", "counts"]))
    if which == "setting":
        spec.algorithm.algorithm_settings.extend(
            api_pb2.AlgorithmSetting(name=n, value=v) for n, v in draw(setting_pairs(table))
        )
    elif which == "objective":
        spec.objective.type = draw(ENUM_VALUE)
        spec.objective.objective_metric_name = draw(st.one_of(st.sampled_from(METRIC_NAMES), TEXT))
    elif which == "name":
        message.name = draw(st.one_of(st.sampled_from(EXPERIMENT_NAMES), TEXT))
    elif which == "algorithm":
        spec.algorithm.algorithm_name = draw(TEXT)
    else:
        spec.parallel_trial_count = draw(INT32)
        spec.max_trial_count = draw(INT32)


@cache
@st.composite
def mutated_experiments(
    draw: Draw,
    valid: st.SearchStrategy[api_pb2.Experiment],
    table: Sequence[Setting],
    max_mutations: int = 2,
) -> api_pb2.Experiment:
    """A valid experiment of the service, then up to ``max_mutations`` random edits."""
    message = draw(valid)
    for _ in range(draw(st.integers(0, max_mutations))):
        mutate = draw(st.sampled_from(["graph", "operations", "spec"]))
        if mutate == "graph":
            _mutate_graph(draw, message)
        elif mutate == "operations":
            _mutate_operations(draw, message)
        else:
            _mutate_spec(draw, message, table)
    return message


def experiments(
    valid: st.SearchStrategy[api_pb2.Experiment], table: Sequence[Setting]
) -> st.SearchStrategy[api_pb2.Experiment]:
    """Mostly near-valid experiments (so the OK path is exercised), some entirely random."""
    return st.one_of(
        mutated_experiments(valid, table),
        mutated_experiments(valid, table),
        random_experiments(table),
    )


METRIC_VALUES = st.one_of(
    st.floats(0, 1).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["unavailable", "", "nan", "-nan", "inf", "-inf", "1e999", "0.5 ", "1,5"]),
    st.sampled_from(["Genotype(normal=[[('skip_connection', 0)]], normal_concat=range(2, 6))"]),
    NUMBER_TEXT,
)


@cache
@st.composite
def trials(
    draw: Draw,
    assignments: st.SearchStrategy[list[tuple[str, str]]],
    objective_names: Sequence[str] = METRIC_NAMES,
) -> api_pb2.Trial:
    """A trial in any condition (or none, or an undeclared one) with any observation."""
    condition = draw(st.one_of(st.none(), ENUM_VALUE))
    objective = draw(st.one_of(st.sampled_from(objective_names), TEXT))
    metrics = draw(
        st.lists(
            st.tuples(st.one_of(st.sampled_from(objective_names), TEXT), METRIC_VALUES),
            max_size=4,
        )
    )
    message = ex.trial(
        draw(st.one_of(st.sampled_from(TRIAL_NAMES), TEXT)),
        condition,
        draw(assignments),
        metrics,
        objective=objective,
    )
    if draw(st.integers(0, 9)) == 0:
        message.ClearField("status")
    return message


@cache
@st.composite
def suggestion_requests(
    draw: Draw,
    experiment: st.SearchStrategy[api_pb2.Experiment],
    assignments: Callable[[api_pb2.Experiment], st.SearchStrategy[list[tuple[str, str]]]],
) -> api_pb2.GetSuggestionsRequest:
    """A GetSuggestions request: an experiment, a history of trials, any request numbers.

    ``assignments(experiment)`` draws a trial's parameter assignments; it sees the experiment
    so that it can draw well-shaped values the service never produced as well as nonsense.
    """
    message = draw(experiment)
    objective = message.spec.objective.objective_metric_name
    history = draw(st.lists(trials(assignments(message), (objective, *METRIC_NAMES)), max_size=6))
    count = draw(
        st.one_of(st.integers(0, 4), st.integers(-3, 30), st.sampled_from([1000, 1001, 2**31 - 1]))
    )
    total = draw(st.one_of(st.just(min(len(history) + count, 2**31 - 1)), INT32))
    return ex.request(message, count, history, total=total)


@cache
def free_assignments(names: Sequence[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Assignments with the service's names (or others), in any order, with any values."""
    pair = st.tuples(st.one_of(st.sampled_from(names), TEXT), st.one_of(NUMBER_TEXT, TEXT))
    return st.lists(pair, max_size=len(names) + 1)


@cache
@st.composite
def corrupted_bytes(draw: Draw, message: st.SearchStrategy) -> bytes:
    """A serialised message with bytes overwritten, cut short or appended, or pure noise."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=200))
    data = bytearray(draw(message).SerializeToString())
    for _ in range(draw(st.integers(1, 4))):
        if data and draw(st.booleans()):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        elif draw(st.booleans()):
            del data[draw(st.integers(0, len(data))) :]
        else:
            data.extend(draw(st.binary(min_size=1, max_size=8)))
    return bytes(data)
