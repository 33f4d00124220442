"""REINFORCE with a moving-average baseline: advantages, and a controller that learns from them."""

from __future__ import annotations

import numpy as np
import pytest

from katib_nas.enas.controller import Controller, ControllerConfig
from katib_nas.enas.reinforce import Baseline, LearnSettings, learn


def test_first_batch_starts_the_baseline_at_its_mean():
    baseline = Baseline()
    advantages = baseline.advantages([0.2, 0.4, 0.6], decay=0.9)
    assert advantages.sum() == pytest.approx(0.0, abs=1e-6)
    assert advantages[0] < 0 < advantages[2]
    # b = 0.4, then three moving-average steps towards 0.2, 0.4, 0.6.
    expected = 0.4
    for r in (0.2, 0.4, 0.6):
        expected += 0.1 * (r - expected)
    assert baseline.value == pytest.approx(expected)
    assert baseline.count == 3


def test_advantages_use_the_baseline_from_before_the_batch_and_are_scale_free():
    small, large = Baseline(), Baseline()
    small.advantages([0.5, 0.6], 0.9)
    large.advantages([50.0, 60.0], 0.9)
    a_small = small.advantages([0.7, 0.4], 0.9)
    a_large = large.advantages([70.0, 40.0], 0.9)
    np.testing.assert_allclose(a_small, a_large, rtol=1e-4)
    assert a_small[0] > 0 > a_small[1]


def test_a_single_first_reward_gives_no_advantage():
    baseline = Baseline()
    assert baseline.advantages([0.9], 0.9).tolist() == [0.0]
    assert baseline.advantages([0.95], 0.9)[0] > 0


def test_learning_raises_the_better_architecture_and_lowers_the_worse():
    controller = Controller(
        ControllerConfig(3, 5, 16, 5.0, 2.25, 0.4, 0.01), np.random.default_rng(0)
    )
    rng = np.random.default_rng(1)
    good, bad = controller.sample(rng, 2)
    before = controller.score([good, bad]).log_prob
    settings = LearnSettings(
        train_steps=5, baseline_decay=0.9, entropy_weight=1e-3, skip_weight=0.1, log_every_steps=10
    )
    stats = learn(controller, Baseline(), [good, bad], [0.9, 0.1], settings, "exp")
    after = controller.score([good, bad]).log_prob
    assert after[0] > before[0] and after[1] < before[1]
    assert stats["mean_reward"] == pytest.approx(0.5)
