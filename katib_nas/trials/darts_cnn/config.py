"""Decoding of Katib's DARTS trial arguments: algorithm settings, search space, layer count.

The DARTS suggestion service sends the settings as JSON with ``'`` in place of ``"``; default
values arrive as JSON numbers, values a user set arrive as strings, and ``batch_size`` may be
``null`` ("use the trial's default", 128). Settings the service left out take Katib's defaults.
Besides Katib's fourteen settings this trial reads ``second_order`` (default true): ``"false"``
selects the first-order approximation.

Every problem is reported as a ``ValueError`` naming the argument, the setting and the value.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from katib_nas.darts.primitives import NONE, SUPPORTED_PRIMITIVES

DEFAULT_BATCH_SIZE = 128


@dataclass(frozen=True)
class _Rule:
    kind: type
    low: float | None = None  # inclusive lower bound
    positive: bool = False  # strictly greater than zero


# Katib's DARTS settings (contract section 3.1) plus this project's `second_order`; the
# defaults live in `SearchSettings`.
RULES: dict[str, _Rule] = {
    "num_epochs": _Rule(int, positive=True),
    "w_lr": _Rule(float, low=0.0),
    "w_lr_min": _Rule(float, low=0.0),
    "w_momentum": _Rule(float, low=0.0),
    "w_weight_decay": _Rule(float, low=0.0),
    "w_grad_clip": _Rule(float, low=0.0),
    "alpha_lr": _Rule(float, low=0.0),
    "alpha_weight_decay": _Rule(float, low=0.0),
    "batch_size": _Rule(int, low=1),
    "num_workers": _Rule(int, low=0),
    "init_channels": _Rule(int, low=1),
    "print_step": _Rule(int, low=1),
    "num_nodes": _Rule(int, low=1),
    "stem_multiplier": _Rule(int, low=1),
    "second_order": _Rule(bool),
}


@dataclass(frozen=True)
class SearchSettings:
    """The decoded algorithm settings of one DARTS search."""

    num_epochs: int = 50
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    w_grad_clip: float = 5.0
    alpha_lr: float = 3e-4
    alpha_weight_decay: float = 1e-3
    batch_size: int = DEFAULT_BATCH_SIZE
    num_workers: int = 4
    init_channels: int = 16
    print_step: int = 50
    num_nodes: int = 4
    stem_multiplier: int = 3
    second_order: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _decode_json(text: str, argument: str) -> Any:
    try:
        return json.loads(text.replace("'", '"'))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{argument}: not JSON (after replacing ' by \"): {exc}: {text!r}"
        ) from exc


def _convert(name: str, value: Any) -> int | float | bool:
    rule = RULES[name]
    where = f"--algorithm-settings: setting {name}={value!r}"
    if rule.kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"{where} must be true or false")

    converted: int | float
    if isinstance(value, bool):
        raise ValueError(f"{where} must be a number, not a boolean")
    try:
        if rule.kind is int:
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError("not an integer")
                converted = int(value)
            else:
                converted = int(value)
        else:
            converted = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} must be {rule.kind.__name__}: {exc}") from exc

    if isinstance(converted, float) and math.isnan(converted):
        raise ValueError(f"{where} must be a number, not NaN")
    if rule.positive and converted <= 0:
        raise ValueError(f"{where} must be greater than zero")
    if rule.low is not None and converted < rule.low:
        raise ValueError(f"{where} must be at least {rule.low:g}")
    return converted


def parse_settings(text: str) -> SearchSettings:
    """Decode ``--algorithm-settings`` (empty text means all defaults)."""
    if not text.strip():
        return SearchSettings()
    raw = _decode_json(text, "--algorithm-settings")
    if not isinstance(raw, dict):
        raise ValueError(f"--algorithm-settings must be a JSON object, got {type(raw).__name__}")

    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in RULES:
            close = difflib.get_close_matches(name, RULES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"--algorithm-settings: unknown setting {name!r}{hint} (known: {', '.join(RULES)})"
            )
        if value is None and name == "batch_size":
            continue  # null means "the trial's default"
        if value is None:
            raise ValueError(
                f"--algorithm-settings: setting {name} is null; only batch_size may be"
            )
        values[name] = _convert(name, value)
    return SearchSettings(**values)


def parse_search_space(text: str) -> tuple[str, ...]:
    """Decode ``--search-space``: a JSON list of supported primitive names, no duplicates kept."""
    raw = _decode_json(text, "--search-space")
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise ValueError(f"--search-space must be a JSON list of primitive names, got {text!r}")
    if not raw:
        raise ValueError("--search-space is empty: list at least one primitive")
    unknown = [name for name in raw if name not in SUPPORTED_PRIMITIVES]
    if unknown:
        raise ValueError(
            f"--search-space: unsupported primitive(s) {unknown}; "
            f"supported: {', '.join(SUPPORTED_PRIMITIVES)} ({NONE!r} is added by the trial)"
        )
    return tuple(dict.fromkeys(raw))


def parse_num_layers(text: str) -> int:
    """Decode ``--num-layers`` (a decimal string, at least 1)."""
    try:
        value = int(str(text).strip().strip("'\""))
    except ValueError as exc:
        raise ValueError(f"--num-layers must be an integer, got {text!r}") from exc
    if value < 1:
        raise ValueError(f"--num-layers must be at least 1, got {value}")
    return value
