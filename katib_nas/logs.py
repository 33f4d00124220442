"""Logging set-up, done once at process start: one line a record, ``key=value`` fields."""

from __future__ import annotations

import logging
import sys


def log_format(**fields: object) -> str:
    """The record format, with constant ``key=value`` fields (a rank) before the message."""
    constant = "".join(f"{key}={value} " for key, value in fields.items())
    return f"time=%(asctime)s level=%(levelname)s logger=%(name)s {constant}%(message)s"


FORMAT = log_format()


def configure_logging(level: str = "INFO") -> None:
    """Send every logger's records to stderr (stdout belongs to Katib's metrics collector)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
