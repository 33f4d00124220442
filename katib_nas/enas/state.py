"""Per-experiment ENAS state on disk: what a restarted service needs to continue.

One file per experiment, ``<state dir>/<quoted experiment name>.npz``, holding the controller
weights, the Adam optimizer's variables, the reward baseline, the names of the trials learned
from (and of the SUCCEEDED trials skipped for good), the numpy generator state that decides
every later sample, and a fingerprint of the search space and settings. Files are written
atomically: to a temporary file in the same directory, flushed and fsynced, then renamed over
the old one with ``os.replace``, so a service killed at any moment leaves either the previous
or the new state, never a torn file.

The default directory is ``/opt/katib/data`` when it exists and is writable (Katib mounts the
suggestion's volume there under ``ResumePolicy: FromVolume``), else ``./katib-nas-state``.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from katib_nas.atomic_files import atomic_write

logger = logging.getLogger(__name__)

KATIB_VOLUME = Path("/opt/katib/data")
LOCAL_STATE_DIR = Path("katib-nas-state")
FORMAT_VERSION = 1


def default_state_dir() -> Path:
    if KATIB_VOLUME.is_dir() and os.access(KATIB_VOLUME, os.W_OK | os.X_OK):
        return KATIB_VOLUME
    return Path.cwd() / LOCAL_STATE_DIR


@dataclass
class ExperimentState:
    """Everything about one experiment that must survive a restart."""

    experiment: str
    fingerprint: str
    description: dict[str, Any]
    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    rng_state: dict[str, Any]
    baseline_value: float | None = None
    baseline_variance: float = 0.0
    baseline_count: int = 0
    learned: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    calls: int = 0
    train_steps: int = 0


class StateStore:
    """Reads and writes :class:`ExperimentState` files in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.remove_stale_temporaries()

    def remove_stale_temporaries(self, older_than_s: float = 60.0) -> int:
        """Delete temporary files that a process killed mid-write left behind.

        A write takes milliseconds, so a temporary older than ``older_than_s`` belongs to no
        writer; younger ones are left alone in case another process shares the directory.
        """
        removed = 0
        for leftover in self.directory.glob(".*.npz.*.tmp"):
            try:
                if time.time() - leftover.stat().st_mtime > older_than_s:
                    leftover.unlink()
                    removed += 1
            except OSError:
                continue
        if removed:
            logger.info("state_dir=%s removed_temporaries=%d", self.directory, removed)
        return removed

    def path(self, experiment: str) -> Path:
        return self.directory / f"{_file_stem(experiment)}.npz"

    def load(self, experiment: str) -> ExperimentState | None:
        """The stored state, None when there is none; ValueError when the file is unreadable."""
        path = self.path(experiment)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                weights = [data[f"weight_{i}"] for i in range(meta["num_weights"])]
                optimizer = [data[f"optimizer_{i}"] for i in range(meta["num_optimizer"])]
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"state file {path} is unreadable: {exc}") from exc
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"state file {path} has format {meta.get('format')}, expected 1")
        return ExperimentState(
            experiment=meta["experiment"],
            fingerprint=meta["fingerprint"],
            description=meta["description"],
            weights=weights,
            optimizer=optimizer,
            rng_state=meta["rng_state"],
            baseline_value=meta["baseline_value"],
            baseline_variance=meta["baseline_variance"],
            baseline_count=meta["baseline_count"],
            learned=meta["learned"],
            skipped=meta["skipped"],
            calls=meta["calls"],
            train_steps=meta["train_steps"],
        )

    def save(self, state: ExperimentState) -> Path:
        """Write ``state`` atomically (temporary file, fsync, ``os.replace``)."""
        meta = {
            "format": FORMAT_VERSION,
            "experiment": state.experiment,
            "fingerprint": state.fingerprint,
            "description": state.description,
            "rng_state": state.rng_state,
            "baseline_value": state.baseline_value,
            "baseline_variance": state.baseline_variance,
            "baseline_count": state.baseline_count,
            "learned": state.learned,
            "skipped": state.skipped,
            "calls": state.calls,
            "train_steps": state.train_steps,
            "num_weights": len(state.weights),
            "num_optimizer": len(state.optimizer),
        }
        arrays: dict[str, Any] = {"meta": np.array(json.dumps(meta))}
        arrays.update({f"weight_{i}": w for i, w in enumerate(state.weights)})
        arrays.update({f"optimizer_{i}": v for i, v in enumerate(state.optimizer)})

        path = self.path(state.experiment)
        atomic_write(path, lambda handle: np.savez(handle, **arrays))
        return path

    def archive(self, experiment: str, fingerprint: str) -> Path | None:
        """Move an experiment's state file aside (kept, no longer used); returns the new path."""
        path = self.path(experiment)
        if not path.exists():
            return None
        target = path.with_name(f"{path.stem}.replaced-{fingerprint[:12]}.npz")
        os.replace(path, target)
        return target


def _file_stem(experiment: str) -> str:
    """A file name for any experiment name: percent-quoted, never empty, never a dot path."""
    quoted = urllib.parse.quote(experiment, safe="-_")
    return f"enas-{quoted.replace('.', '%2E')}"
