"""The ENAS controller state on disk: round trip, atomic writes, file names, archives."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from katib_nas.enas import state as state_module
from katib_nas.enas.state import ExperimentState, StateStore, default_state_dir


def sample_state(name: str = "exp-1") -> ExperimentState:
    rng = np.random.default_rng(3)
    return ExperimentState(
        experiment=name,
        fingerprint="ab" * 32,
        description={"settings": {"controller_hidden_size": 64}},
        weights=[rng.normal(size=(4, 8)).astype(np.float32), np.zeros(3, np.float32)],
        optimizer=[np.array(7, np.int64), rng.normal(size=(4, 8)).astype(np.float32)],
        rng_state=dict(rng.bit_generator.state),
        baseline_value=0.5,
        baseline_variance=0.01,
        baseline_count=4,
        learned=["t1", "t2"],
        skipped=["t3"],
        calls=2,
        train_steps=10,
    )


def test_round_trip(tmp_path):
    store = StateStore(tmp_path)
    original = sample_state()
    store.save(original)
    loaded = store.load("exp-1")
    assert loaded is not None
    for a, b in zip(
        loaded.weights + loaded.optimizer, original.weights + original.optimizer, strict=True
    ):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert loaded.rng_state == original.rng_state
    assert (loaded.learned, loaded.skipped, loaded.baseline_value) == (["t1", "t2"], ["t3"], 0.5)
    assert (loaded.calls, loaded.train_steps, loaded.description) == (2, 10, original.description)
    restored = np.random.default_rng()
    restored.bit_generator.state = loaded.rng_state
    same = np.random.default_rng(3)
    same.bit_generator.state = original.rng_state
    assert restored.random() == same.random()


def test_missing_state_is_none(tmp_path):
    assert StateStore(tmp_path).load("never-seen") is None


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path, monkeypatch):
    store = StateStore(tmp_path)
    store.save(sample_state())
    before = store.path("exp-1").read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(state_module.os, "replace", crash)
    changed = sample_state()
    changed.calls = 99
    with pytest.raises(OSError, match="disk full"):
        store.save(changed)
    assert store.path("exp-1").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [store.path("exp-1").name]


def test_unreadable_file_is_a_clear_error(tmp_path):
    store = StateStore(tmp_path)
    store.path("exp-1").write_bytes(b"not a numpy archive")
    with pytest.raises(ValueError, match="unreadable"):
        store.load("exp-1")


@pytest.mark.parametrize("name", ["..", ".", "a/b", "", "name with spaces", "ü"])
def test_any_experiment_name_maps_to_a_file_inside_the_directory(tmp_path, name):
    store = StateStore(tmp_path)
    path = store.path(name)
    assert path.parent == tmp_path and path.name.startswith("enas-")
    store.save(sample_state(name))
    assert store.load(name).experiment == name


def test_archive_moves_the_state_aside(tmp_path):
    store = StateStore(tmp_path)
    store.save(sample_state())
    moved = store.archive("exp-1", "cd" * 32)
    assert moved is not None and moved.exists() and "replaced-cdcdcdcdcdcd" in moved.name
    assert store.load("exp-1") is None


def test_default_state_dir_prefers_katibs_volume_when_writable(tmp_path, monkeypatch):
    volume = tmp_path / "volume"
    monkeypatch.setattr(state_module, "KATIB_VOLUME", volume)
    monkeypatch.chdir(tmp_path)
    assert default_state_dir() == Path(tmp_path) / "katib-nas-state"
    volume.mkdir()
    assert default_state_dir() == volume
    if os.geteuid() != 0:  # root may write anywhere
        volume.chmod(0o500)
        assert default_state_dir() == Path(tmp_path) / "katib-nas-state"


def test_stale_temporaries_of_a_killed_writer_are_removed_on_start(tmp_path):
    store = StateStore(tmp_path)
    store.save(sample_state())
    stale = tmp_path / ".enas-exp-1.npz.abc123.tmp"
    fresh = tmp_path / ".enas-exp-1.npz.def456.tmp"
    stale.write_bytes(b"half a state")
    fresh.write_bytes(b"being written")
    os.utime(stale, (0, 0))
    StateStore(tmp_path)
    assert not stale.exists() and fresh.exists()
    assert store.load("exp-1") is not None
