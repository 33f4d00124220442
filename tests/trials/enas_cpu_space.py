"""ENAS suggestions over Katib's 106-operation enas-cpu space, in Katib's exact format.

The operations are those of ``examples/enas-cpu.yaml`` (Katib's enas-cpu example), converted as
Katib's controller sends them and enumerated by the ENAS service's own search space (operations
in order, Cartesian product with the last parameter varying fastest). :func:`encode` writes
chosen rows with the service's own encoding and :func:`service_suggestions` samples rows with
the real service's controller, so the trial tests read exactly what the service writes.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

from katib_nas import wire
from katib_nas.enas.encoding import Architecture, format_architecture, format_nn_config
from katib_nas.enas.search_space import SearchSpace
from katib_nas.runner.experiment import load_experiment, nas_config_to_api
from katib_nas.search_space import GraphConfig, NasConfig, OperationSpec

ENAS_CPU_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "enas-cpu.yaml"


@functools.cache
def enas_cpu_operations() -> tuple[OperationSpec, ...]:
    """The operations of Katib's enas-cpu example, as the ENAS service receives them."""
    nas = nas_config_to_api(load_experiment(ENAS_CPU_EXAMPLE).nas_config)
    return wire.nas_config_from_proto(nas).operations


def enas_cpu_nas_config(
    num_layers: int, input_sizes: list[int], output_sizes: list[int]
) -> NasConfig:
    graph = GraphConfig(num_layers, tuple(input_sizes), tuple(output_sizes))
    return NasConfig(graph, enas_cpu_operations())


def enas_cpu_embedding() -> list[dict[str, Any]]:
    """The 106 operations as ``{"opt_id", "opt_type", "opt_params"}``, ids 0..105."""
    space = SearchSpace.from_nas_config(enas_cpu_nas_config(1, [32, 32, 3], [10]))
    return [operation.as_json() for operation in space.operations]


def encode(
    rows: list[list[int]], input_sizes: list[int], output_sizes: list[int]
) -> tuple[str, str]:
    """``(architecture, nn_config)`` strings for the given rows, as the ENAS service sends them."""
    space = SearchSpace.from_nas_config(enas_cpu_nas_config(len(rows), input_sizes, output_sizes))
    arc = Architecture(tuple(row[0] for row in rows), tuple(tuple(row[1:]) for row in rows))
    return format_architecture(arc), format_nn_config(space, arc)


def service_suggestions(
    count: int,
    num_layers: int,
    input_sizes: list[int] | None = None,
    output_sizes: list[int] | None = None,
    seed: int = 0,
) -> list[tuple[str, str]]:
    """``count`` ``(architecture, nn_config)`` pairs sampled by our real ENAS service's
    controller over the enas-cpu space (in process, state in a temporary folder)."""
    from katib_nas.enas.service import EnasServicer

    nas = enas_cpu_nas_config(num_layers, input_sizes or [32, 32, 3], output_sizes or [10])
    experiment = wire.Experiment(
        name=f"trial-tests-{num_layers}",
        algorithm_name="enas",
        settings=(),
        objective_type="maximize",
        objective_metric_name="Validation-Accuracy",
        nas=nas,
    )
    with tempfile.TemporaryDirectory() as state_dir:
        servicer = EnasServicer(Path(state_dir), seed=seed)
        suggestions = servicer.suggest(experiment, [], count)
    return [(dict(s)["architecture"], dict(s)["nn_config"]) for s in suggestions]
