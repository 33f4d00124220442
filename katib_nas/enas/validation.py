"""What ENAS's ``ValidateAlgorithmSettings`` checks, in Katib's order, without TensorFlow.

The graph (input sizes, output sizes, ``num_layers >= 1``), the operations, that they expand to
at least one operation id, then the ten settings. The service runs it on every call; the
manifest checker (:mod:`katib_nas.manifests.algorithm`) runs it before an Experiment is applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from katib_nas.enas.search_space import SearchSpace
from katib_nas.enas.settings import parse_enas_settings
from katib_nas.search_space import NasConfig, validate_graph, validate_operations


def validate_search(
    nas: NasConfig, settings: Iterable[tuple[str, str]]
) -> tuple[SearchSpace, dict[str, Any]]:
    """The search space and the parsed settings; raises InvalidArgument at the first problem."""
    validate_graph(nas.graph)
    validate_operations(nas.operations)
    space = SearchSpace.from_nas_config(nas)
    return space, parse_enas_settings(settings)
