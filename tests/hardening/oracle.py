"""What every answer of a suggestion service must satisfy, whatever the request was.

A call ends in OK or INVALID_ARGUMENT with a non-empty message; any other status (UNKNOWN,
INTERNAL, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE...) is a defect of the service. An
OK GetSuggestions reply has exactly ``current_request_number`` entries, each with the service's
assignment names in order and values that survive Katib's trial templating.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from katib_nas.api import api_pb2

ALLOWED_CODES = (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT)
CALL_TIMEOUT_S = 30.0
# Characters Katib's textual templating and `sh -c` break on; the quote-swapped `'` is fine.
UNSAFE_IN_VALUES = '"\\$`'
# json.dumps writes a non-ASCII character as \uXXXX; the template's JSON decoding turns it back
# into the character, so that backslash is safe (any other is not).
_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")


def _without_safe_escapes(value: str) -> str:
    def drop_if_safe(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return "" if not char.isascii() and char.isprintable() else match.group(0)

    return _ESCAPE.sub(drop_if_safe, value)


@dataclass(frozen=True)
class Outcome:
    code: grpc.StatusCode
    details: str
    reply: Any = None

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK


def call(method: Callable[..., Any], request: Any, timeout: float = CALL_TIMEOUT_S) -> Outcome:
    """Call a unary RPC and return its status instead of raising."""
    try:
        reply = method(request, timeout=timeout)
    except grpc.RpcError as error:
        return Outcome(error.code(), error.details() or "")
    return Outcome(grpc.StatusCode.OK, "", reply)


def check_status(outcome: Outcome, what: str) -> None:
    """OK, or INVALID_ARGUMENT with a message; nothing else."""
    assert outcome.code in ALLOWED_CODES, f"{what}: {outcome.code.name} {outcome.details!r}"
    if not outcome.ok:
        assert outcome.details.strip(), f"{what}: INVALID_ARGUMENT without a message"


def check_reply_shape(
    reply: api_pb2.GetSuggestionsReply, count: int, names: tuple[str, ...]
) -> list[dict[str, str]]:
    """Exactly ``count`` entries of ``names`` in order, non-empty and templating-safe."""
    entries = reply.parameter_assignments
    assert len(entries) == count, f"{len(entries)} suggestions for {count} requested"
    decoded = []
    for entry in entries:
        assert tuple(a.name for a in entry.assignments) == names, entry
        assert not entry.trial_name and not entry.labels, entry
        for assignment in entry.assignments:
            value = assignment.value
            assert value, f"empty {assignment.name}"
            bad = [
                c
                for c in _without_safe_escapes(value)
                if c in UNSAFE_IN_VALUES or ord(c) < 32 or ord(c) == 127
            ]
            assert not bad, f"{assignment.name}={value!r} holds {bad[0]!r}"
        decoded.append({a.name: a.value for a in entry.assignments})
    return decoded
