"""Files replaced atomically: a reader sees the old content or the new, never half a file.

The content is written to a temporary file beside the target, flushed to disk, then moved over
the target with ``os.replace``; if anything fails (or the process is interrupted) the temporary
file is removed and the old target is left as it was. Used for the ENAS service's controller
state, the runner's ``results.json`` and the DARTS trial's checkpoints.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then move it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """``data`` as indented JSON with a final newline, written with :func:`atomic_write`."""
    text = json.dumps(data, indent=2) + "\n"
    atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))
