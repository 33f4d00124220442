"""Typed algorithm settings: names, types, defaults and ranges, parsed in one place.

Katib sends algorithm settings as ``(name, value)`` string pairs. Each algorithm declares a table
of :class:`Setting`; :func:`parse_settings` overlays the request's values on the defaults and
rejects an unknown name (naming the closest valid one), a value that does not parse, and a value
out of range, always naming the setting, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from katib_nas.errors import InvalidArgument

NONE_VALUE = "None"
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


@dataclass(frozen=True)
class Setting:
    """One algorithm setting: its type, default and allowed range.

    ``low``/``high`` bound the value (``None``: unbounded); ``low_open``/``high_open`` exclude
    the bound itself. ``none_allowed`` accepts the literal string ``"None"`` (parsed to None).
    """

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none_allowed: bool = False
    help: str = ""

    def describe_range(self) -> str:
        """The allowed values in interval notation, e.g. ``(0, 1]`` or ``[1, inf)``."""
        if self.kind is bool:
            text = "true or false"
        else:
            low = "-inf" if self.low is None else _number(self.low)
            high = "inf" if self.high is None else _number(self.high)
            left = "(" if self.low is None or self.low_open else "["
            right = ")" if self.high is None or self.high_open else "]"
            text = f"{self.kind.__name__} in {left}{low}, {high}{right}"
        return f'{text} or "None"' if self.none_allowed else text

    def parse(self, raw: str) -> Any:
        """The typed value of ``raw``; raises InvalidArgument saying what is wrong."""
        if self.none_allowed and raw == NONE_VALUE:
            return None
        if not (raw.isascii() and raw.isprintable()):
            # Non-ASCII digits and control characters parse as numbers but reach the trial's
            # command line verbatim (DARTS copies the text), where they do not survive.
            raise InvalidArgument(
                f"algorithm setting {self.name}={raw!r} holds characters other than printable "
                f"ASCII: must be {self.describe_range()}"
            )
        value = self._convert(raw)
        if self.kind is not bool and not self._in_range(value):
            raise InvalidArgument(
                f"algorithm setting {self.name}={raw!r} is out of range: "
                f"must be {self.describe_range()}"
            )
        return value

    def _convert(self, raw: str) -> Any:
        text = raw.strip()
        if self.kind is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
        else:
            try:
                value = int(text) if self.kind is int else float(text)
            except ValueError:
                pass
            else:
                # An int of any size is finite (and too large for math.isfinite).
                if isinstance(value, int) or math.isfinite(value):
                    return value
                if self.high is None and value == math.inf:
                    return value
                raise InvalidArgument(
                    f"algorithm setting {self.name}={raw!r} is not a finite number: "
                    f"must be {self.describe_range()}"
                )
        raise InvalidArgument(
            f"algorithm setting {self.name}={raw!r} is not a valid {self.kind.__name__}: "
            f"must be {self.describe_range()}"
        )

    def _in_range(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (
            self.high is not None
            and (value > self.high or (self.high_open and value == self.high))
        )


def parse_settings(table: Sequence[Setting], pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The table's defaults overlaid with ``pairs``, in the table's order.

    Raises InvalidArgument for the first bad pair, in request order (as Katib does).
    """
    by_name = {setting.name: setting for setting in table}
    values = {setting.name: setting.default for setting in table}
    for name, raw in pairs:
        setting = by_name.get(name)
        if setting is None:
            raise InvalidArgument(unknown_setting_message(name, by_name))
        values[name] = setting.parse(raw)
    return values


def unknown_setting_message(name: str, valid: Iterable[str]) -> str:
    names = sorted(valid)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f'; did you mean "{close[0]}"?' if close else "."
    return f'unknown algorithm setting "{name}"{hint} Valid settings: {", ".join(names)}'


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
