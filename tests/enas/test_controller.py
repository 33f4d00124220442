"""The controller's distribution: proper, sampled as scored, moved by rewards, restorable."""

from __future__ import annotations

import collections
import itertools
import math

import numpy as np
import pytest

from katib_nas.enas.controller import Controller, ControllerConfig
from katib_nas.enas.encoding import Architecture


def make(layers: int = 3, ops: int = 3, seed: int = 0, sharpen: float = 1.0, **kw) -> Controller:
    config = dict(
        hidden_size=8, temperature=None, tanh_const=None, skip_target=0.4, learning_rate=0.05
    )
    config.update(kw)
    controller = Controller(ControllerConfig(layers, ops, **config), np.random.default_rng(seed))
    if sharpen != 1.0:  # a far from uniform policy, so that every check below has teeth
        controller.set_weights([w * sharpen for w in controller.get_weights()])
    return controller


def all_architectures(layers: int, ops: int) -> list[Architecture]:
    result = []
    num_skips = layers * (layers - 1) // 2
    for choice in itertools.product(range(ops), repeat=layers):
        for bits in itertools.product((0, 1), repeat=num_skips):
            rows, start = [], 0
            for layer in range(layers):
                rows.append(tuple(bits[start : start + layer]))
                start += layer
            result.append(Architecture(choice, tuple(rows)))
    return result


@pytest.fixture(scope="module")
def sharp() -> Controller:
    return make(sharpen=20.0)


def test_log_prob_is_the_sum_of_the_chosen_actions_log_probs(sharp):
    arcs = sharp.sample(np.random.default_rng(1), 16)
    scores = sharp.score(arcs)
    assert scores.decision_log_probs.shape == (16, 3 + 3)
    np.testing.assert_allclose(scores.decision_log_probs.sum(axis=1), scores.log_prob, rtol=1e-5)
    assert (scores.decision_log_probs <= 0).all()


def test_log_probs_form_a_distribution_over_all_architectures(sharp):
    probabilities = np.exp(sharp.score(all_architectures(3, 3)).log_prob)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert probabilities.max() > 5 * probabilities.min()  # the policy is far from uniform


def test_samples_follow_the_scored_probabilities(sharp):
    arcs = all_architectures(3, 3)
    expected = np.exp(sharp.score(arcs).log_prob)
    draws = 20_000
    counts = collections.Counter(sharp.sample(np.random.default_rng(2), draws))
    observed = np.array([counts[a] / draws for a in arcs])
    tolerance = 4 * np.sqrt(expected * (1 - expected) / draws) + 1e-3
    assert (np.abs(observed - expected) <= tolerance).all()


def test_skip_decisions_change_the_next_input():
    """Layers with different skips give different later probabilities (attention is wired)."""
    controller = make(sharpen=20.0)
    a = Architecture((0, 1, 2), ((), (0,), (0, 0)))
    b = Architecture((0, 1, 2), ((), (1,), (0, 0)))
    da, db = controller.score([a, b]).decision_log_probs
    assert da[2] != pytest.approx(db[2], abs=1e-6)  # operation of layer 2


@pytest.mark.parametrize(("advantage", "direction"), [(1.0, 1), (-1.0, -1)])
def test_one_update_moves_the_architecture_probability_with_the_reward(advantage, direction):
    controller = make(layers=4, ops=6, seed=3)
    arc = controller.sample(np.random.default_rng(4), 1)
    other = controller.sample(np.random.default_rng(5), 1)
    before = controller.score(arc + other).log_prob
    controller.train_step(arc, np.array([advantage], np.float32), 0.0, 0.0)
    after = controller.score(arc + other).log_prob
    assert direction * (after[0] - before[0]) > 0.01


def test_save_restore_and_sample_with_the_same_seed_gives_the_same_architectures():
    trained = make(layers=4, ops=5, seed=6, temperature=5.0, tanh_const=2.25)
    arcs = trained.sample(np.random.default_rng(7), 4)
    for _ in range(3):
        trained.train_step(arcs, np.array([1, -1, 0.5, -0.5], np.float32), 1e-3, 0.1)
    weights, optimizer = trained.get_weights(), trained.get_optimizer_state()

    restored = make(layers=4, ops=5, seed=99, temperature=5.0, tanh_const=2.25)
    restored.set_weights(weights)
    restored.set_optimizer_state(optimizer)
    assert trained.sample(np.random.default_rng(8), 10) == restored.sample(
        np.random.default_rng(8), 10
    )
    # The optimizer state came along too: the next update is the same in both.
    trained.train_step(arcs, np.ones(4, np.float32), 0.0, 0.0)
    restored.train_step(arcs, np.ones(4, np.float32), 0.0, 0.0)
    for a, b in zip(trained.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_restoring_weights_of_another_shape_is_refused():
    small, big = make(ops=3), make(ops=4)
    with pytest.raises(ValueError, match="shape"):
        big.set_weights(small.get_weights())


def test_one_layer_gives_finite_losses_and_no_skips():
    controller = make(layers=1, ops=4, temperature=5.0, tanh_const=2.25)
    arcs = controller.sample(np.random.default_rng(0), 5)
    assert all(a.skips == ((),) for a in arcs)
    stats = controller.train_step(arcs, np.ones(5, np.float32), 1e-3, 0.8)
    assert all(math.isfinite(v) for v in stats.values())
    assert stats["skip_kl"] == 0.0


def test_temperature_and_tanh_bound_the_operation_probabilities():
    """With logits c * tanh(z / T), no operation can be more than e^(2c) times likelier."""
    controller = make(layers=1, ops=6, sharpen=200.0, temperature=5.0, tanh_const=0.5)
    arcs = [Architecture((k,), ((),)) for k in range(6)]
    log_probs = controller.score(arcs).log_prob
    assert log_probs.max() - log_probs.min() <= 2 * 0.5 + 1e-5
