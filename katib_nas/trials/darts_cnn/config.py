"""Decoding of Katib's DARTS trial arguments: algorithm settings, search space, layer count.

The DARTS suggestion service sends the settings as JSON with ``'`` in place of ``"``; default
values arrive as JSON numbers, values a user set arrive as strings, and ``batch_size`` may be
``null`` ("use the trial's default", 128). Settings the service left out take Katib's defaults.
Besides Katib's fourteen settings this trial reads ``second_order`` (default true): ``"false"``
selects the first-order approximation.

Names, types, defaults and ranges come from the service's own table
(:data:`katib_nas.darts.settings.DARTS_SETTINGS`), so the trial accepts exactly what the service
validates. Every problem is reported as a ``ValueError`` naming the argument, the setting and
the value.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from katib_nas import swapped_json
from katib_nas.darts.primitives import NONE, SUPPORTED_PRIMITIVES
from katib_nas.darts.settings import DARTS_SETTINGS
from katib_nas.settings import NONE_VALUE
from katib_nas.settings import parse_settings as parse_setting_pairs


@dataclass(frozen=True)
class SearchSettings:
    """The decoded algorithm settings of one DARTS search."""

    num_epochs: int
    w_lr: float
    w_lr_min: float
    w_momentum: float
    w_weight_decay: float
    w_grad_clip: float
    alpha_lr: float
    alpha_weight_decay: float
    batch_size: int
    num_workers: int
    init_channels: int
    print_step: int
    num_nodes: int
    stem_multiplier: int
    second_order: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_settings(**overrides: Any) -> SearchSettings:
    """Katib's defaults (plus ``second_order=True``), with ``overrides`` applied."""
    values = {setting.name: setting.default for setting in DARTS_SETTINGS}
    return SearchSettings(**{**values, **overrides})


def _decode_json(text: str, argument: str) -> Any:
    try:
        return swapped_json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{argument}: not JSON (after replacing ' by \"): {exc}: {text!r}"
        ) from exc


def _as_text(value: Any) -> str:
    """A JSON value as the string Katib would have sent for it."""
    if value is None:
        return NONE_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ValueError(f"not a number, string or null: {value!r}")


def parse_settings(text: str) -> SearchSettings:
    """Decode ``--algorithm-settings`` (empty text means all defaults)."""
    if not text.strip():
        return default_settings()
    raw = _decode_json(text, "--algorithm-settings")
    if not isinstance(raw, dict):
        raise ValueError(f"--algorithm-settings must be a JSON object, got {type(raw).__name__}")
    try:
        pairs = [(str(name), _as_text(value)) for name, value in raw.items()]
        values = parse_setting_pairs(DARTS_SETTINGS, pairs)
    except ValueError as exc:
        raise ValueError(f"--algorithm-settings: {exc}") from exc
    defaults = default_settings()
    if values["batch_size"] is None:  # "None"/null: the trial's default
        values["batch_size"] = defaults.batch_size
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
