"""Random ENAS suggestions over Katib's 106-operation enas-cpu space, in Katib's exact format.

A stand-in for the ENAS service's sampler in the trial tests: operations enumerated as Katib
does (operations in order, Cartesian product with the last parameter varying fastest,
categorical values as strings, INT values as numbers), ``architecture`` rows ``[op, skip...]``
and ``nn_config`` with ``'`` in place of ``"`` and only the used operations in the embedding.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path
from typing import Any

_NUM_FILTERS = ["32", "48", "64", "96", "128"]
ENAS_CPU_OPERATIONS: list[tuple[str, dict[str, list[Any]]]] = [
    (
        "convolution",
        {"filter_size": ["3", "5", "7"], "num_filter": _NUM_FILTERS, "stride": ["1", "2"]},
    ),
    (
        "separable_convolution",
        {
            "filter_size": ["3", "5", "7"],
            "num_filter": _NUM_FILTERS,
            "stride": ["1", "2"],
            "depth_multiplier": ["1", "2"],
        },
    ),
    (
        "depthwise_convolution",
        {"filter_size": ["3", "5", "7"], "stride": ["1", "2"], "depth_multiplier": ["1", "2"]},
    ),
    ("reduction", {"reduction_type": ["max_pooling", "avg_pooling"], "pool_size": [2, 3]}),
]


def enas_cpu_embedding() -> list[dict[str, Any]]:
    """The 106 operations as ``{"opt_id", "opt_type", "opt_params"}``, ids 0..105."""
    operations: list[dict[str, Any]] = []
    for op_type, params in ENAS_CPU_OPERATIONS:
        for values in itertools.product(*params.values()):
            operations.append(
                {
                    "opt_id": len(operations),
                    "opt_type": op_type,
                    "opt_params": dict(zip(params, values, strict=True)),
                }
            )
    return operations


def encode(
    rows: list[list[int]], input_sizes: list[int], output_sizes: list[int]
) -> tuple[str, str]:
    """``(architecture, nn_config)`` strings for the given rows, as Katib's service sends them."""
    embedding = enas_cpu_embedding()
    used: dict[str, Any] = {}
    for row in rows:
        used.setdefault(str(row[0]), embedding[row[0]])
    config = {
        "num_layers": len(rows),
        "input_sizes": input_sizes,
        "output_sizes": output_sizes,
        "embedding": used,
    }
    return json.dumps(rows).replace('"', "'"), json.dumps(config).replace('"', "'")


def service_suggestions(
    count: int,
    num_layers: int,
    input_sizes: list[int] | None = None,
    output_sizes: list[int] | None = None,
    seed: int = 0,
) -> list[tuple[str, str]]:
    """``count`` ``(architecture, nn_config)`` pairs sampled by our real ENAS service's
    controller over the enas-cpu space (in process, state in a temporary folder)."""
    from katib_nas import wire
    from katib_nas.enas.service import EnasServicer
    from katib_nas.search_space import GraphConfig, NasConfig, OperationSpec, ParameterSpec

    operations = tuple(
        OperationSpec(
            op_type,
            tuple(
                ParameterSpec(name, "int", min=str(min(v)), max=str(max(v)), step="1")
                if isinstance(v[0], int)
                else ParameterSpec(name, "categorical", values=tuple(v))
                for name, v in params.items()
            ),
        )
        for op_type, params in ENAS_CPU_OPERATIONS
    )
    graph = GraphConfig(num_layers, tuple(input_sizes or [32, 32, 3]), tuple(output_sizes or [10]))
    experiment = wire.Experiment(
        name=f"trial-tests-{num_layers}",
        algorithm_name="enas",
        settings=(),
        objective_type="maximize",
        objective_metric_name="Validation-Accuracy",
        nas=NasConfig(graph, operations),
    )
    with tempfile.TemporaryDirectory() as state_dir:
        servicer = EnasServicer(Path(state_dir), seed=seed)
        suggestions = servicer.suggest(experiment, [], count)
    return [(dict(s)["architecture"], dict(s)["nn_config"]) for s in suggestions]
