"""Katib's ten ENAS algorithm settings: names, ranges and ``"None"`` meanings, with our defaults.

Names, types, ranges and which settings accept ``"None"`` are Katib's (contract 2.2), except
that integer settings also get an upper bound. Four defaults differ from Katib's, because with
Katib's values a controller that learns from a few dozen trials does not move, or swings into
a stuck state (see docs/enas.md, "Why some defaults differ from Katib's"):

* ``controller_learning_rate`` 5e-5 -> 0.003, ``controller_train_steps`` 50 -> 5 (Adam steps per
  call, on the newly evaluated architectures; each trial is learned from once),
* ``controller_baseline_decay`` 0.999 -> 0.9 (a baseline that follows the last ~10 rewards),
* ``controller_skip_weight`` 0.8 -> 0.1 (the skip-density prior may not drown the reward).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from katib_nas.settings import Setting, parse_settings

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "controller_hidden_size",
        int,
        64,
        low=1,
        high=1024,
        help="units of the controller's LSTM cell and embeddings",
    ),
    Setting(
        "controller_temperature",
        float,
        5.0,
        low=0.0,
        low_open=True,
        none_allowed=True,
        help="logits are divided by this before the tanh; None leaves them unscaled",
    ),
    Setting(
        "controller_tanh_const",
        float,
        2.25,
        low=0.0,
        low_open=True,
        none_allowed=True,
        help="logits become c * tanh(logits); None leaves them unbounded",
    ),
    Setting(
        "controller_entropy_weight",
        float,
        1e-5,
        low=0.0,
        low_open=True,
        none_allowed=True,
        help="weight of the policy entropy subtracted from the loss; None for no bonus",
    ),
    Setting(
        "controller_baseline_decay",
        float,
        0.9,
        low=0.0,
        high=1.0,
        low_open=True,
        help="decay of the moving-average reward baseline",
    ),
    Setting(
        "controller_learning_rate",
        float,
        0.003,
        low=0.0,
        high=1.0,
        low_open=True,
        help="Adam learning rate of the controller",
    ),
    Setting(
        "controller_skip_target",
        float,
        0.4,
        low=0.0,
        high=1.0,
        low_open=True,
        # Katib allows 1.0, but the skip penalty KL(p || target) needs log(1 - target).
        high_open=True,
        help="skip-connection probability the skip penalty pulls towards",
    ),
    Setting(
        "controller_skip_weight",
        float,
        0.1,
        low=0.0,
        low_open=True,
        none_allowed=True,
        help="weight of the KL penalty towards controller_skip_target; None for no penalty",
    ),
    Setting(
        "controller_train_steps",
        int,
        5,
        low=1,
        high=1000,
        help="Adam steps per call on the architectures evaluated since the last call",
    ),
    Setting(
        "controller_log_every_steps",
        int,
        10,
        low=1,
        high=1_000_000,
        help="log the training loss every this many controller steps",
    ),
)


def parse_enas_settings(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Defaults overlaid with ``pairs``; raises InvalidArgument for a bad name or value."""
    return parse_settings(SETTINGS, pairs)
