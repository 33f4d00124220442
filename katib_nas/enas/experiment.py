"""One ENAS experiment: its search space, settings, controller, baseline and learning history.

A call for an experiment (:meth:`EnasExperiment.suggest`) does, in order:

1. pick the SUCCEEDED trials of the request not seen before, with their rewards
   (:mod:`katib_nas.enas.history`);
2. if there are any, run REINFORCE on them (:mod:`katib_nas.enas.reinforce`);
3. sample the requested number of architectures from the (updated) controller;
4. write the state to disk (:mod:`katib_nas.enas.state`) before answering, so that a service
   killed after answering never learns from the same trial twice (a failed write is logged as
   an error and the call still answers).

With no SUCCEEDED trial yet, step 2 is skipped and the suggestions come from the current policy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from katib_nas.enas.controller import Controller, ControllerConfig
from katib_nas.enas.encoding import Architecture
from katib_nas.enas.history import Objective, TrialResult, new_evaluations
from katib_nas.enas.reinforce import Baseline, LearnSettings, learn
from katib_nas.enas.search_space import SearchSpace
from katib_nas.enas.state import ExperimentState, StateStore

logger = logging.getLogger(__name__)


def fingerprint_of(
    space: SearchSpace, settings: dict[str, Any], objective: Objective
) -> tuple[str, dict[str, Any]]:
    """The fingerprint stored with the state and the description it was computed from."""
    description = {
        "search_space": space.describe(),
        "settings": dict(sorted(settings.items())),
        "objective": {"metric": objective.metric, "minimize": objective.minimize},
    }
    canonical = json.dumps(description, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest(), description


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    """What differs between two descriptions, in words, e.g. ``num_layers 8 -> 4``."""
    changes: list[str] = []
    old_space, new_space = old.get("search_space", {}), new.get("search_space", {})
    for key in ("num_layers", "input_sizes", "output_sizes"):
        if old_space.get(key) != new_space.get(key):
            changes.append(f"{key} {old_space.get(key)} -> {new_space.get(key)}")
    old_ops, new_ops = old_space.get("operations", []), new_space.get("operations", [])
    if len(old_ops) != len(new_ops):
        changes.append(f"operation ids {len(old_ops)} -> {len(new_ops)}")
    else:
        differing = [i for i, (a, b) in enumerate(zip(old_ops, new_ops, strict=True)) if a != b]
        if differing:
            changes.append(
                f"operation id {differing[0]} {old_ops[differing[0]]} -> {new_ops[differing[0]]}"
            )
    if old.get("objective") != new.get("objective"):
        changes.append(f"objective {old.get('objective')} -> {new.get('objective')}")
    old_set, new_set = old.get("settings", {}), new.get("settings", {})
    for name in sorted(set(old_set) | set(new_set)):
        if old_set.get(name) != new_set.get(name):
            changes.append(f"{name} {old_set.get(name)} -> {new_set.get(name)}")
    return "; ".join(changes) or "unknown difference"


@dataclass
class CallResult:
    architectures: list[Architecture]
    learned: int
    stats: dict[str, float]


class EnasExperiment:
    """The live (in-memory) side of one experiment; not thread-safe on its own."""

    def __init__(
        self,
        name: str,
        space: SearchSpace,
        settings: dict[str, Any],
        objective: Objective,
        store: StateStore,
        stored: ExperimentState | None = None,
        seed: int | None = None,
    ) -> None:
        self.name = name
        self.space = space
        self.settings = settings
        self.objective = objective
        self.store = store
        self.fingerprint, self.description = fingerprint_of(space, settings, objective)
        self.rng = np.random.default_rng(seed)
        self.controller = Controller(
            ControllerConfig(
                num_layers=space.num_layers,
                num_operations=space.num_operations,
                hidden_size=settings["controller_hidden_size"],
                temperature=settings["controller_temperature"],
                tanh_const=settings["controller_tanh_const"],
                skip_target=settings["controller_skip_target"],
                learning_rate=settings["controller_learning_rate"],
            ),
            self.rng,
        )
        self.baseline = Baseline()
        self.learned: list[str] = []
        self.skipped: list[str] = []
        self.calls = 0
        self.train_steps = 0
        if stored is not None:
            self._restore(stored)

    @property
    def learn_settings(self) -> LearnSettings:
        s = self.settings
        return LearnSettings(
            train_steps=s["controller_train_steps"],
            baseline_decay=s["controller_baseline_decay"],
            entropy_weight=s["controller_entropy_weight"],
            skip_weight=s["controller_skip_weight"],
            log_every_steps=s["controller_log_every_steps"],
        )

    def suggest(self, trials: Iterable[TrialResult], count: int) -> CallResult:
        """Learn from new results, then sample ``count`` architectures; state saved first."""
        started = time.perf_counter()
        seen = set(self.learned) | set(self.skipped)
        fresh, skipped = new_evaluations(trials, self.space, self.objective, seen, self.name)
        self.skipped.extend(skipped)

        stats: dict[str, float] = {}
        if fresh:
            stats = learn(
                self.controller,
                self.baseline,
                [e.architecture for e in fresh],
                [e.reward for e in fresh],
                self.learn_settings,
                self.name,
                self.train_steps,
            )
            self.train_steps += self.learn_settings.train_steps
            self.learned.extend(e.name for e in fresh)

        architectures = self.controller.sample(self.rng, count) if count > 0 else []
        self.calls += 1
        if fresh or skipped or count > 0:
            self._save()

        if fresh:
            logger.info(
                "controller learned experiment=%s trials=%d learned_total=%d mean_reward=%.4f "
                "baseline=%.4f loss=%.4f entropy=%.3f ms=%.1f",
                self.name,
                len(fresh),
                len(self.learned),
                stats["mean_reward"],
                self.baseline.value,
                stats["loss"],
                stats["entropy"],
                (time.perf_counter() - started) * 1000,
            )
        return CallResult(architectures, len(fresh), stats)

    def _save(self) -> None:
        """Write the state; when that fails, say so loudly and keep serving from memory.

        An error reply would not help: Katib's controller retries a failed GetSuggestions
        forever, while suggestions from the in-memory controller keep the experiment going (only
        a restart would then lose what was learned since the last successful write).
        """
        try:
            self.store.save(self.snapshot())
        except OSError as error:
            logger.error(
                "state not saved, a restart would lose it experiment=%s path=%s error=%r",
                self.name,
                self.store.path(self.name),
                str(error),
            )

    def snapshot(self) -> ExperimentState:
        return ExperimentState(
            experiment=self.name,
            fingerprint=self.fingerprint,
            description=self.description,
            weights=self.controller.get_weights(),
            optimizer=self.controller.get_optimizer_state(),
            rng_state=dict(self.rng.bit_generator.state),
            baseline_value=self.baseline.value,
            baseline_variance=self.baseline.variance,
            baseline_count=self.baseline.count,
            learned=list(self.learned),
            skipped=list(self.skipped),
            calls=self.calls,
            train_steps=self.train_steps,
        )

    def _restore(self, stored: ExperimentState) -> None:
        self.controller.set_weights(stored.weights)
        self.controller.set_optimizer_state(stored.optimizer)
        self.rng.bit_generator.state = stored.rng_state
        self.baseline = Baseline(
            stored.baseline_value, stored.baseline_variance, stored.baseline_count
        )
        self.learned = list(stored.learned)
        self.skipped = list(stored.skipped)
        self.calls = stored.calls
        self.train_steps = stored.train_steps
