"""Helpers for checking a YAML document field by field, collecting every problem found.

A :class:`Problem` names the YAML path of a field (``spec.objective.type``,
``spec.nasConfig.operations[0].parameters[1].name``) and says what is wrong with it.
:class:`FieldChecker` collects problems; its type helpers return the value when it has the
expected type and ``None`` (after recording a problem) when it does not, so a caller skips the
checks below a field that is already wrong.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an Experiment: the YAML path of the field and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class FieldChecker:
    """Collects problems while walking the document; helpers return None on a wrong type."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def mapping(self, value: Any, path: str, required: bool = False) -> Mapping[str, Any] | None:
        if value is None:
            if required:
                self.add(path, "is required")
            return None
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping, got {describe(value)}")
            return None
        return value

    def sequence(self, value: Any, path: str, required: bool = False) -> Sequence[Any] | None:
        if value is None:
            if required:
                self.add(path, "is required")
            return None
        if isinstance(value, str) or not isinstance(value, Sequence):
            self.add(path, f"must be a list, got {describe(value)}")
            return None
        return value

    def string(self, value: Any, path: str, required: bool = False) -> str | None:
        if value is None or value == "":
            if required:
                self.add(path, "is required")
            return None
        if not isinstance(value, str):
            self.add(path, f'must be a string, got {describe(value)}; quote it: "{value}"')
            return None
        return value

    def integer(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"must be an integer, got {describe(value)}")
            return None
        return value


def describe(value: Any) -> str:
    """What a YAML value is, for a message: ``the number 5``, ``a list``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def closest(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` naming the choice nearest ``word``, or "" when none is near."""
    match = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""
