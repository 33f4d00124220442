"""Atomic file replacement: the old file survives a failed or interrupted write, no temporary
file is left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from katib_nas.atomic_files import atomic_write, write_json_atomic


def test_interrupted_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "genotype.json"
    write_json_atomic(target, {"epoch": 1})

    def fail_halfway(stream) -> None:
        stream.write(b'{"epoch": ')
        raise KeyboardInterrupt  # e.g. the process is being stopped

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, fail_halfway)
    assert target.read_text() == '{\n  "epoch": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["genotype.json"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json_atomic(path, {"ok": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
