"""Which trials are learned from: SUCCEEDED, new, finite objective, valid architecture."""

from __future__ import annotations

import logging

import pytest

from katib_nas.enas.history import Objective, new_evaluations, reward_of
from katib_nas.wire import TrialRecord
from tests.enas.spaces import space

ARC = "[[2], [1, 1], [2, 1, 1]]"
METRIC = "Validation-Accuracy"


def trial(name, condition="succeeded", value="0.8", arc=ARC, metric=METRIC, own_metric=METRIC):
    metrics = {} if value is None else {metric: value}
    assignments = {} if arc is None else {"architecture": arc, "nn_config": "{}"}
    return TrialRecord(name, condition, assignments, metrics, own_metric)


def test_succeeded_trials_learned_with_their_own_rewards():
    trials = [trial("a", value="0.7"), trial("b", value="0.9")]
    fresh, skipped = new_evaluations(trials, space(), Objective(METRIC), set(), "exp")
    assert [(e.name, e.reward) for e in fresh] == [("a", 0.7), ("b", 0.9)]
    assert fresh[0].architecture.ops == (2, 1, 2)
    assert skipped == []


def test_minimize_negates_the_reward():
    assert reward_of(trial("a", value="1.5"), Objective(METRIC, minimize=True)) == -1.5


def test_the_trials_own_objective_metric_is_used_else_the_experiments():
    own = trial("a", value="0.3", metric="loss", own_metric="loss")
    assert reward_of(own, Objective(METRIC)) == 0.3
    fallback = trial("b", value="0.4", own_metric="")
    assert reward_of(fallback, Objective(METRIC)) == 0.4


def test_trials_seen_before_or_repeated_are_not_learned_again():
    trials = [trial("a"), trial("b"), trial("b")]
    fresh, _ = new_evaluations(trials, space(), Objective(METRIC), {"a"}, "exp")
    assert [e.name for e in fresh] == ["b"]


@pytest.mark.parametrize(
    "condition",
    ["created", "running", "failed", "killed", "earlystopped", "metricsunavailable", "unknown"],
)
def test_other_states_are_skipped_silently(condition, caplog):
    with caplog.at_level(logging.INFO):
        fresh, skipped = new_evaluations(
            [trial("a", condition)], space(), Objective(METRIC), set(), "exp"
        )
    assert fresh == [] and skipped == [] and caplog.records == []


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (dict(value=None), "missing"),
        (dict(value=""), "not a number"),
        (dict(value="unavailable"), "not a number"),
        (dict(value="nan"), "not finite"),
        (dict(value="inf"), "not finite"),
        (dict(value="-inf"), "not finite"),
        (dict(arc=None), "no 'architecture'"),
        (dict(arc="[[2], [1, 1]]"), "2 rows"),
        (dict(arc="[[9], [1, 1], [2, 1, 1]]"), "operation id 9"),
        (dict(arc="not json"), "not JSON"),
    ],
)
def test_unusable_succeeded_trials_are_skipped_with_one_log_line(case, reason, caplog):
    with caplog.at_level(logging.INFO, logger="katib_nas.enas.history"):
        fresh, skipped = new_evaluations(
            [trial("bad", **case), trial("good")], space(), Objective(METRIC), set(), "exp"
        )
    assert [e.name for e in fresh] == ["good"]
    assert skipped == ["bad"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert "trial=bad" in lines[0] and "experiment=exp" in lines[0] and reason in lines[0]
