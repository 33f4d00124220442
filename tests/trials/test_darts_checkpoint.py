"""Atomic files and the checkpoint's guard against continuing a different search."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from katib_nas.trials.darts_cnn import checkpoint


def test_checkpoint_round_trip_and_fingerprint_guard(tmp_path: Path) -> None:
    fingerprint = {"seed": 1, "primitives": ["max_pooling_3x3"]}
    assert checkpoint.load_checkpoint(tmp_path, fingerprint) is None

    state = {"fingerprint": fingerprint, "epoch": 2, "weights": torch.arange(3.0)}
    checkpoint.save_checkpoint(tmp_path, state)
    loaded = checkpoint.load_checkpoint(tmp_path, fingerprint)
    assert loaded is not None and loaded["epoch"] == 2
    assert torch.equal(loaded["weights"], torch.arange(3.0))

    with pytest.raises(ValueError, match=r"different search.*seed: saved 1 now 2"):
        checkpoint.load_checkpoint(tmp_path, {**fingerprint, "seed": 2})
