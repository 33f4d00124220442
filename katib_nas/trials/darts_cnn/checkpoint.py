"""Files the search leaves in ``--output-dir``, each written atomically.

* ``checkpoint.pt``: everything needed to continue after the last finished epoch (network and
  alphas, both optimizers, the learning-rate schedule, the epoch, the per-epoch history and
  the torch random-number states), plus a fingerprint of the run's configuration so that a
  checkpoint from a different search is refused rather than silently continued.
* ``genotype.json``: the best and the latest genotype and every epoch's metrics.
* ``alphas/epoch_NNN.json``: the raw alphas and their per-edge softmax after each epoch.

Atomic means: written to a temporary file in the same directory, flushed to disk, then moved
over the old file with ``os.replace``, so a kill at any moment leaves either the old or the new
file, never a torn one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from katib_nas.atomic_files import atomic_write

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
GENOTYPE_NAME = "genotype.json"
ALPHAS_DIR = "alphas"
FORMAT_VERSION = 1


def save_checkpoint(output_dir: Path, state: dict[str, Any]) -> Path:
    path = output_dir / CHECKPOINT_NAME
    atomic_write(path, lambda stream: torch.save({"format": FORMAT_VERSION, **state}, stream))
    return path


def load_checkpoint(output_dir: Path, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    """The saved state, or None when there is none; ValueError when it is another search's."""
    path = output_dir / CHECKPOINT_NAME
    if not path.exists():
        return None
    state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"{path}: checkpoint format {state.get('format')!r}, expected {FORMAT_VERSION}"
        )
    saved = state.get("fingerprint", {})
    differences = {
        key: (saved.get(key), value)
        for key, value in fingerprint.items()
        if saved.get(key) != value
    }
    if differences:
        detail = ", ".join(f"{k}: saved {s!r} now {n!r}" for k, (s, n) in differences.items())
        raise ValueError(
            f"{path} belongs to a different search ({detail}); use another --output-dir"
        )
    return state


def rng_states(device: torch.device) -> dict[str, Any]:
    states: dict[str, Any] = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def restore_rng_states(states: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(states["torch"])
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)
