"""Logging set-up, done once at process start: one line a record, ``key=value`` fields."""

from __future__ import annotations

import logging
import sys

FORMAT = "time=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Send every logger's records to stderr (stdout belongs to Katib's metrics collector)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
