"""results.json: the best trial, the conditions, atomic rewrites."""

from __future__ import annotations

import json
from pathlib import Path

from katib_nas.runner.results import (
    FAILED,
    INTERRUPTED,
    KILLED,
    SUCCEEDED,
    Results,
    TrialRecord,
)


def header(kind: str = "maximize", metric: str = "Validation-Accuracy") -> dict:
    strategy = "max" if kind == "maximize" else "min"
    return {
        "name": "e",
        "algorithm": "enas",
        "objective": {
            "type": kind,
            "metric": metric,
            "goal": None,
            "strategies": {metric: strategy},
        },
    }


def trial(
    name: str,
    condition: str,
    low: str,
    high: str,
    latest: str,
    end: str = "",
    metric: str = "Validation-Accuracy",
) -> TrialRecord:
    return TrialRecord(
        name=name,
        assignments={"architecture": "[[0]]"},
        condition=condition,
        metrics={metric: {"min": low, "max": high, "latest": latest}},
        end_time=end,
    )


def test_best_trial_uses_the_strategy_value_and_only_succeeded_trials() -> None:
    results = Results(
        header(),
        [
            trial("a", SUCCEEDED, "0.1", "0.6", "0.5"),
            trial("b", SUCCEEDED, "0.2", "0.7", "0.2"),
            trial("c", FAILED, "0.9", "0.99", "0.99"),
            trial("d", SUCCEEDED, "unavailable", "unavailable", "nan"),
        ],
    )
    best = results.best_trial()
    assert best is not None and (best["name"], best["value"]) == ("b", "0.7")


def test_best_trial_when_minimising() -> None:
    results = Results(
        header("minimize", "Validation-Loss"),
        [
            trial("a", SUCCEEDED, "0.3", "0.9", "0.4", metric="Validation-Loss"),
            trial("b", SUCCEEDED, "0.25", "1.2", "1.2", metric="Validation-Loss"),
        ],
    )
    assert results.best_trial()["name"] == "b"  # type: ignore[index]


def test_best_trial_with_a_string_objective_is_the_last_to_succeed() -> None:
    genotype = "Genotype(normal=[],normal_concat=range(2,3),reduce=[],reduce_concat=range(2,3))"
    results = Results(
        header(metric="Best-Genotype"),
        [
            trial(
                "a",
                SUCCEEDED,
                "unavailable",
                "unavailable",
                genotype + "1",
                end="2026-01-01T00:00:05Z",
                metric="Best-Genotype",
            ),
            trial(
                "b",
                SUCCEEDED,
                "unavailable",
                "unavailable",
                genotype,
                end="2026-01-01T00:00:09Z",
                metric="Best-Genotype",
            ),
        ],
    )
    best = results.best_trial()
    assert best is not None and (best["name"], best["value"]) == ("b", genotype)
    assert Results(header()).best_trial() is None


def test_interrupted_trials_do_not_count_as_finished() -> None:
    assert TrialRecord("a", {}, condition=KILLED, reason="GoalReached").finished
    assert not TrialRecord("a", {}, condition=KILLED, reason=INTERRUPTED).finished
    assert TrialRecord("a", {}, condition=FAILED).finished


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    results = Results(header(), [trial("a", SUCCEEDED, "0.1", "0.6", "0.5")])
    results.save(path)
    data = json.loads(path.read_text())
    assert data["best_trial"]["name"] == "a"
    assert data["trials"][0]["metrics"]["Validation-Accuracy"]["max"] == "0.6"
    loaded = Results.load(path)
    assert loaded.trials == results.trials
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left
