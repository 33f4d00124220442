"""REINFORCE on the architectures that were evaluated, each with its own reward.

The controller is a policy ``pi_theta`` over architectures ``a``. Katib evaluates the
architectures we suggested; each SUCCEEDED trial ``i`` gives an architecture ``a_i`` and an
objective value ``y_i``. The reward is ``r_i = y_i`` for MAXIMIZE and ``r_i = -y_i`` for
MINIMIZE. Following Williams (1992), "Simple statistical gradient-following algorithms for
connectionist reinforcement learning", and its use for architecture search by Pham et al.
(2018), "Efficient Neural Architecture Search via Parameter Sharing", the gradient of the
expected reward is estimated by

    grad J(theta) ~ (1/n) sum_i (r_i - b_i) grad log pi_theta(a_i),

where ``log pi_theta(a_i)`` is the sum of the log-probabilities of every choice of ``a_i``
under the current controller, computed by teacher forcing (the controller is fed ``a_i``'s own
choices rather than sampling), and ``b_i`` is a baseline that reduces variance without
biasing the estimate. Each trial is learned from exactly once (by name); the trials that are
new in a call form a batch ``B`` whose advantages all use the baseline from before the batch:

    b = mean(r_i, i in B),  s^2 = var(r_i, i in B)      (first batch only: starts the averages)
    d_i = r_i - b                                        (for i in B)
    s^2 <- gamma s^2 + (1 - gamma) d_i^2, for each i     (moving variance of the advantages)
    b   <- b + (1 - gamma) (r_i - b),     for each i     (moving-average baseline)
    A_i = d_i / s                                        (0 while s = 0)

with ``gamma = controller_baseline_decay``. Starting from the first batch's mean (not from 0,
nor from its first reward) keeps the first update from pushing every sampled choice the same
way. Dividing by ``s`` makes the step size independent of the objective's scale (an accuracy
in [0, 1] and a loss in the hundreds learn alike). The loss minimised with Adam is

    L(theta) = -(1/n) sum_i A_i log pi_theta(a_i)
               - beta (1/n) sum_i H_i(theta)
               + w (1/n) sum_i KL_i(theta),

where ``H_i`` is the summed entropy of the controller's choice distributions along ``a_i``
(entropy regularisation as in Williams and Peng (1991), keeping the policy from collapsing
early; ``beta = controller_entropy_weight``) and ``KL_i`` is the mean over ``a_i``'s skip choices
of ``KL(Bernoulli(p) || Bernoulli(controller_skip_target))`` (the skip penalty of Pham et al.;
``w = controller_skip_weight``). ``controller_train_steps`` Adam steps are taken on each new
batch; a batch is never revisited in a later call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from katib_nas.enas.controller import Controller
from katib_nas.enas.encoding import Architecture

logger = logging.getLogger(__name__)


@dataclass
class Baseline:
    """The moving average ``b`` and moving variance ``s^2`` of the rewards; ``None`` until used."""

    value: float | None = None
    variance: float = 0.0
    count: int = 0

    def advantages(self, rewards: list[float], decay: float) -> np.ndarray:
        """Normalised advantages ``A_i`` of one batch of rewards; then advance the averages."""
        batch = np.asarray(rewards, np.float64)
        if self.value is None:
            self.value = float(batch.mean())
            self.variance = float(batch.var())
        deltas = batch - self.value
        for delta in deltas:
            self.variance = decay * self.variance + (1.0 - decay) * float(delta) ** 2
        for reward in batch:
            self.value += (1.0 - decay) * (float(reward) - self.value)
        self.count += len(batch)
        if self.variance <= 0.0:
            return np.zeros(len(batch), np.float32)
        return (deltas / np.sqrt(self.variance)).astype(np.float32)


@dataclass(frozen=True)
class LearnSettings:
    train_steps: int
    baseline_decay: float
    entropy_weight: float | None
    skip_weight: float | None
    log_every_steps: int


def learn(
    controller: Controller,
    baseline: Baseline,
    architectures: list[Architecture],
    rewards: list[float],
    settings: LearnSettings,
    experiment: str,
    step_offset: int = 0,
) -> dict[str, float]:
    """Update ``controller`` (and ``baseline``) from newly evaluated architectures.

    Returns the statistics of the last Adam step, plus the mean reward and advantage.
    """
    advantages = baseline.advantages(rewards, settings.baseline_decay)
    entropy_weight = settings.entropy_weight or 0.0
    skip_weight = settings.skip_weight or 0.0

    stats: dict[str, float] = {}
    for step in range(settings.train_steps):
        stats = controller.train_step(architectures, advantages, entropy_weight, skip_weight)
        global_step = step_offset + step + 1
        if global_step % settings.log_every_steps == 0 or step == settings.train_steps - 1:
            logger.debug(
                "controller step experiment=%s step=%d loss=%.4f entropy=%.3f skip_kl=%.4f "
                "grad_norm=%.5f baseline=%.4f",
                experiment,
                global_step,
                stats["loss"],
                stats["entropy"],
                stats["skip_kl"],
                stats["grad_norm"],
                baseline.value if baseline.value is not None else float("nan"),
            )
    stats["mean_reward"] = float(np.mean(rewards))
    stats["mean_abs_advantage"] = float(np.mean(np.abs(advantages)))
    return stats
