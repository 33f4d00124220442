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
biasing the estimate. Trials are consumed in request order, each exactly once (by name):

    b_0 = r_0,  s_0^2 = 0                               (first reward starts the baseline)
    d_i = r_i - b_{i-1}
    s_i^2 = gamma s_{i-1}^2 + (1 - gamma) d_i^2          (moving variance of the advantages)
    b_i = b_{i-1} + (1 - gamma) d_i                      (moving-average baseline)
    A_i = d_i / s_i                                      (0 for the first reward)

with ``gamma = controller_baseline_decay``. Dividing by ``s_i`` makes the step size independent
of the objective's scale (an accuracy in [0, 1] and a loss in the hundreds learn alike) and
bounds ``|A_i| <= 1 / sqrt(1 - gamma)``. The loss minimised with Adam is

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
import math
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
        """Advance over ``rewards`` in order, returning the normalised advantages ``A_i``."""
        result = np.zeros(len(rewards), np.float32)
        for i, reward in enumerate(rewards):
            self.count += 1
            if self.value is None:
                self.value = reward
                continue
            delta = reward - self.value
            self.variance = decay * self.variance + (1.0 - decay) * delta * delta
            self.value += (1.0 - decay) * delta
            if self.variance > 0.0:
                result[i] = delta / math.sqrt(self.variance)
        return result


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
