"""JSON with every ``"`` written as ``'``: the form Katib's trial templates carry.

Katib substitutes assignment values textually into a JSON trial template and runs the command
under ``sh -c``, where a double quote would break both; its services therefore send JSON objects
and lists with ``'`` in place of ``"`` (contract 2.7 and 3.3). Search-space validation rejects
values containing quotes, so the swap loses nothing and :func:`loads` undoes :func:`dumps`.
"""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    """``json.dumps(value)`` (default separators) with every ``"`` turned into ``'``."""
    return json.dumps(value).replace('"', "'")


def loads(text: str) -> Any:
    """The JSON value of ``text`` after every ``'`` is turned back into ``"``.

    Raises ``json.JSONDecodeError`` (a ``ValueError``) when the result is not JSON.
    """
    return json.loads(text.replace("'", '"'))
