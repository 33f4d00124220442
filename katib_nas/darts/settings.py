"""DARTS algorithm settings: Katib's fourteen, with Katib's names and defaults, plus one more.

``second_order`` is ours: true (the default) runs the unrolled bi-level step of the DARTS paper,
false the first-order approximation. Katib's own trial ignores names it does not know, so the
extra key is harmless to it.

Katib's integer settings have no upper bound; here each has a generous one, so that a typo such
as ``init_channels=100000`` is an error at validation rather than a trial that runs out of
memory or never ends.
"""

from __future__ import annotations

from katib_nas.settings import Setting

DARTS_SETTINGS: tuple[Setting, ...] = (
    Setting("num_epochs", int, 50, low=1, high=100_000, help="search epochs"),
    Setting("w_lr", float, 0.025, low=0, help="initial learning rate of the weights (SGD)"),
    Setting("w_lr_min", float, 0.001, low=0, help="final learning rate of the cosine schedule"),
    Setting("w_momentum", float, 0.9, low=0, high=1, help="SGD momentum of the weights"),
    Setting("w_weight_decay", float, 3e-4, low=0, help="weight decay of the weights"),
    Setting("w_grad_clip", float, 5.0, low=0, help="gradient norm clip of the weights"),
    Setting("alpha_lr", float, 3e-4, low=0, help="Adam learning rate of the alphas"),
    Setting("alpha_weight_decay", float, 1e-3, low=0, help="weight decay of the alphas"),
    Setting(
        "batch_size",
        int,
        128,
        low=1,
        high=1_000_000,
        none_allowed=True,
        help='images a step; "None" means the trial default (128)',
    ),
    Setting("num_workers", int, 4, low=0, high=256, help="data-loading worker processes"),
    Setting("init_channels", int, 16, low=1, high=4096, help="channels of the first cell"),
    Setting("print_step", int, 50, low=1, help="log every this many steps"),
    Setting("num_nodes", int, 4, low=1, high=32, help="intermediate nodes a cell"),
    Setting(
        "stem_multiplier", int, 3, low=1, high=64, help="stem channels = this x init_channels"
    ),
    Setting("second_order", bool, True, help="unrolled (second-order) step; false: first order"),
)
