"""Experiments in memory and on disk: restore, no double learning, mismatch, eviction, threads."""

from __future__ import annotations

import concurrent.futures
import logging

import numpy as np
import pytest

from katib_nas.enas.encoding import format_architecture
from katib_nas.enas.history import Objective
from katib_nas.enas.registry import ExperimentRegistry
from katib_nas.enas.settings import parse_enas_settings
from katib_nas.enas.state import StateStore
from katib_nas.wire import TrialRecord
from tests.enas.spaces import space

METRIC = "Validation-Accuracy"
OBJECTIVE = Objective(METRIC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def registry(tmp_path, clock=None, idle=600.0) -> ExperimentRegistry:
    return ExperimentRegistry(StateStore(tmp_path), idle, clock or Clock(), seed=0)


def evaluate(arcs, start: int) -> list[TrialRecord]:
    return [
        TrialRecord(
            f"t{start + i}",
            "succeeded",
            {"architecture": format_architecture(a)},
            {METRIC: str(0.1 * (i % 7))},
            METRIC,
        )
        for i, a in enumerate(arcs)
    ]


def call(reg, trials, count=3, s=None, settings=None):
    with reg.use("exp", s or space(), settings or parse_enas_settings([]), OBJECTIVE) as live:
        return live, live.suggest(trials, count)


def test_no_succeeded_trial_still_gives_suggestions(tmp_path):
    reg = registry(tmp_path)
    history = [TrialRecord("r", "running", {}, {}, METRIC)]
    for _ in range(2):
        live, result = call(reg, history)
        assert len(result.architectures) == 3 and result.learned == 0
    assert live.calls == 2


def test_a_new_process_continues_from_the_stored_state_and_learns_no_trial_twice(tmp_path):
    first = registry(tmp_path)
    _, r1 = call(first, [])
    history = evaluate(r1.architectures, 0)
    live, r2 = call(first, history)
    assert r2.learned == 3
    history += evaluate(r2.architectures, 3)

    second = registry(tmp_path)  # as after a restart: nothing in memory, same directory
    restored, r3 = call(second, history)
    assert r3.learned == 3  # only t3..t5; t0..t2 were learned before the "restart"
    assert restored.learned == [f"t{i}" for i in range(6)]

    # Continuing in the first registry gives exactly what the restored one gave.
    _, r3_again = call(first, history)
    assert r3_again.architectures == r3.architectures
    for a, b in zip(live.controller.get_weights(), restored.controller.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_search_space_change_archives_the_old_state_and_starts_afresh(tmp_path, caplog):
    reg = registry(tmp_path)
    _, r1 = call(reg, [])
    call(reg, evaluate(r1.architectures, 0))
    with caplog.at_level(logging.WARNING, logger="katib_nas.enas.registry"):
        live, result = call(reg, evaluate(r1.architectures, 0), s=space(num_layers=4))
    assert live.learned == [] and live.calls == 1
    assert result.learned == 0  # the old 3-layer architectures do not parse in 4 layers
    assert all(len(a.ops) == 4 for a in result.architectures)
    [warning] = [r.getMessage() for r in caplog.records if r.name.endswith("registry")]
    assert "experiment=exp" in warning and "num_layers 3 -> 4" in warning
    assert len(list(tmp_path.glob("*.replaced-*.npz"))) == 1


def test_settings_change_found_on_disk_after_a_restart(tmp_path, caplog):
    call(registry(tmp_path), [])
    changed = parse_enas_settings([("controller_hidden_size", "32")])
    with caplog.at_level(logging.WARNING, logger="katib_nas.enas.registry"):
        live, _ = call(registry(tmp_path), [], settings=changed)
    assert live.calls == 1
    assert any("controller_hidden_size 64 -> 32" in r.getMessage() for r in caplog.records)


def test_idle_experiments_leave_memory_and_come_back_from_disk(tmp_path):
    clock = Clock()
    reg = registry(tmp_path, clock, idle=60)
    live, _ = call(reg, [])
    weights = live.controller.get_weights()
    clock.now = 30
    assert reg.evict_idle() == [] and len(reg) == 1
    clock.now = 100
    assert reg.evict_idle() == ["exp"] and len(reg) == 0
    back, _ = call(reg, [])
    assert back is not live and back.calls == 2
    for a, b in zip(weights, back.controller.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_calls_from_many_threads(tmp_path):
    reg = registry(tmp_path)

    def work(i: int) -> int:
        name = f"exp-{i % 2}"
        with reg.use(name, space(), parse_enas_settings([]), OBJECTIVE) as live:
            return len(live.suggest([], 2).architectures)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        assert list(pool.map(work, range(12))) == [2] * 12
    for name in ("exp-0", "exp-1"):
        assert StateStore(tmp_path).load(name).calls == 6


@pytest.mark.parametrize("count", [0, 1])
def test_exact_counts(tmp_path, count):
    _, result = call(registry(tmp_path), [], count=count)
    assert len(result.architectures) == count


def test_a_state_directory_that_cannot_be_written_is_logged_and_suggestions_continue(
    tmp_path, caplog
):
    state_dir = tmp_path / "state"
    reg = registry(state_dir)
    state_dir.rmdir()
    state_dir.write_text("a file where the state directory should be")
    with caplog.at_level(logging.ERROR, logger="katib_nas.enas.experiment"):
        _, result = call(reg, [])
        _, again = call(reg, evaluate(result.architectures, 0))
    assert len(again.architectures) == 3 and again.learned == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all(
        "state not saved" in e and "state/enas-exp.npz" in e for e in errors
    )
