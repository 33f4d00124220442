"""Does the ENAS controller learn? Synthetic reward landscapes, controller against random search.

Each seed builds a landscape over Katib's enas-cpu search space (106 operation ids, 8 layers):

* every operation id has a quality in [0, 1]: a smooth part from its features (operation type,
  filter size, number of filters, stride) plus a few ids per seed that are much better than the
  rest; a layer-specific part (30 %) makes the best choice differ a little between layers;
* the skip density ``d`` (skips used / skips possible) scores ``1 - |d - d*| / 0.7``, with a
  per-seed best density ``d*`` in [0.1, 0.3];
* reward = ``0.3 + 0.5 * mean_l quality_l(op_l) + 0.15 * skip_score(d) + N(0, 0.005)``, a
  stand-in for a validation accuracy.

The controller is driven the way Katib drives the service: 20 calls of 5 suggestions each, the
whole history (architecture and objective value of every trial, as SUCCEEDED trials) sent with
every call, default settings. Random search draws 100 architectures uniformly (each operation
id equally likely, each skip bit 1 with probability 1/2). The figure of merit is the mean reward
of the last 20 evaluated architectures, and the fraction of the way from random search's mean
to the landscape's optimum that it covers.

Run: ``python benchmarks/enas_sample_efficiency.py [--seeds 0 1 2] [--setting name=value ...]``
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from katib_nas.enas.encoding import Architecture, format_architecture
from katib_nas.enas.experiment import EnasExperiment
from katib_nas.enas.history import Objective
from katib_nas.enas.search_space import SearchSpace
from katib_nas.enas.settings import parse_enas_settings
from katib_nas.enas.state import StateStore
from katib_nas.search_space import GraphConfig, NasConfig, OperationSpec, ParameterSpec
from katib_nas.wire import TrialRecord

METRIC = "Validation-Accuracy"
CALLS, PER_CALL, LAST = 20, 5, 20


def enas_cpu_space(num_layers: int = 8) -> SearchSpace:
    """Katib's enas-cpu operations (106 ids) with ``num_layers`` layers."""

    def cat(name: str, *values: str) -> ParameterSpec:
        return ParameterSpec(name, "categorical", values=values)

    filters = cat("filter_size", "3", "5", "7")
    channels = cat("num_filter", "32", "48", "64", "96", "128")
    stride = cat("stride", "1", "2")
    multiplier = ParameterSpec("depth_multiplier", "int", min="1", max="2", step="1")
    operations = (
        OperationSpec("convolution", (filters, channels, stride)),
        OperationSpec("separable_convolution", (filters, channels, stride, multiplier)),
        OperationSpec("depthwise_convolution", (filters, stride, multiplier)),
        OperationSpec(
            "reduction",
            (
                cat("reduction_type", "max_pooling", "avg_pooling"),
                ParameterSpec("pool_size", "int", min="2", max="3", step="1"),
            ),
        ),
    )
    graph = GraphConfig(num_layers, (32, 32, 3), (10,))
    return SearchSpace.from_nas_config(NasConfig(graph, operations))


@dataclass
class Landscape:
    quality: np.ndarray  # [L, N] quality of each operation id at each layer
    best_density: float
    noise: float
    rng: np.random.Generator

    @classmethod
    def build(cls, space: SearchSpace, seed: int) -> Landscape:
        rng = np.random.default_rng(1000 + seed)
        type_weight = {
            t: rng.uniform(0, 1) for t in sorted({op.opt_type for op in space.operations})
        }
        value_weight: dict[tuple[str, object], float] = {}
        shared = np.zeros(space.num_operations)
        for op in space.operations:
            parts = [type_weight[op.opt_type]]
            for item in op.opt_params:
                parts.append(value_weight.setdefault(item, rng.uniform(0, 1)))
            shared[op.opt_id] = np.mean(parts)
        shared = 0.6 * (shared - shared.min()) / (shared.max() - shared.min())
        stars = rng.choice(space.num_operations, size=4, replace=False)
        shared[stars] = rng.uniform(0.85, 1.0, size=4)
        per_layer = rng.uniform(0, 1, size=(space.num_layers, space.num_operations))
        quality = 0.7 * shared[None, :] + 0.3 * per_layer
        return cls(quality, float(rng.uniform(0.1, 0.3)), 0.005, rng)

    def mean_value(self, arc: Architecture) -> float:
        layers = self.quality.shape[0]
        ops = np.mean([self.quality[layer, op] for layer, op in enumerate(arc.ops)])
        possible = layers * (layers - 1) // 2
        density = arc.skip_count / possible if possible else self.best_density
        skip_score = 1.0 - abs(density - self.best_density) / 0.7
        return float(0.3 + 0.5 * ops + 0.15 * skip_score)

    def reward(self, arc: Architecture) -> float:
        return self.mean_value(arc) + float(self.rng.normal(0, self.noise))

    def optimum(self) -> float:
        return float(0.3 + 0.5 * self.quality.max(axis=1).mean() + 0.15)


def random_architecture(space: SearchSpace, rng: np.random.Generator) -> Architecture:
    ops = tuple(int(o) for o in rng.integers(space.num_operations, size=space.num_layers))
    skips = tuple(
        tuple(int(b) for b in rng.integers(2, size=layer)) for layer in range(space.num_layers)
    )
    return Architecture(ops, skips)


def run_controller(
    space: SearchSpace, landscape: Landscape, seed: int, pairs: list[tuple[str, str]]
) -> list[float]:
    settings = parse_enas_settings(pairs)
    with tempfile.TemporaryDirectory() as state_dir:
        experiment = EnasExperiment(
            f"efficiency-{seed}",
            space,
            settings,
            Objective(METRIC),
            StateStore(Path(state_dir)),
            seed=seed,
        )
        history: list[TrialRecord] = []
        rewards: list[float] = []
        for call in range(CALLS):
            result = experiment.suggest(history, PER_CALL)
            for index, arc in enumerate(result.architectures):
                reward = landscape.reward(arc)
                rewards.append(reward)
                history.append(
                    TrialRecord(
                        name=f"trial-{call}-{index}",
                        condition="succeeded",
                        assignments={"architecture": format_architecture(arc)},
                        metrics={METRIC: repr(reward)},
                        objective_metric_name=METRIC,
                    )
                )
    return rewards


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    pairs = [tuple(s.split("=", 1)) for s in args.setting]

    space = enas_cpu_space()
    print(
        f"space: {space.num_operations} operation ids, {space.num_layers} layers; "
        f"{CALLS} calls x {PER_CALL} suggestions; settings overridden: {pairs or 'none'}"
    )
    print(
        f"{'seed':>4} {'optimum':>8} {'random':>8} {'ctrl first20':>12} "
        f"{'ctrl last20':>11} {'z vs random':>11} {'way to optimum':>14} {'s':>5}"
    )
    fractions = []
    for seed in args.seeds:
        space_rng = np.random.default_rng(seed)
        landscape = Landscape.build(space, seed)
        random_rewards = [
            landscape.mean_value(random_architecture(space, space_rng))
            for _ in range(CALLS * PER_CALL)
        ]
        started = time.perf_counter()
        rewards = run_controller(space, landscape, seed, pairs)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        random_mean = float(np.mean(random_rewards))
        last = float(np.mean(rewards[-LAST:]))
        # How many standard errors of a 20-architecture random mean the controller is above it.
        z = (last - random_mean) / (float(np.std(random_rewards)) / np.sqrt(LAST))
        fraction = (last - random_mean) / (landscape.optimum() - random_mean)
        fractions.append(fraction)
        print(
            f"{seed:>4} {landscape.optimum():8.4f} {random_mean:8.4f} "
            f"{np.mean(rewards[:LAST]):12.4f} {last:11.4f} {z:11.1f} {fraction:14.2f} "
            f"{seconds:5.1f}"
        )
    print(f"way to optimum: min {min(fractions):.2f} median {np.median(fractions):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
