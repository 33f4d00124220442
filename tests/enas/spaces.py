"""Small search spaces the ENAS tests share."""

from __future__ import annotations

from katib_nas.enas.search_space import SearchSpace
from katib_nas.search_space import GraphConfig, NasConfig, OperationSpec, ParameterSpec


def cat(name: str, *values: str) -> ParameterSpec:
    return ParameterSpec(name, "categorical", values=values)


def int_param(name: str, low: str, high: str, step: str = "1") -> ParameterSpec:
    return ParameterSpec(name, "int", min=low, max=high, step=step)


def contract_example_operations() -> tuple[OperationSpec, ...]:
    """Contract 2.1's example: 8 operation ids, pool_size an int, the rest strings."""
    return (
        OperationSpec(
            "convolution",
            (cat("filter_size", "3", "5"), cat("num_filter", "32"), cat("stride", "1", "2")),
        ),
        OperationSpec(
            "reduction",
            (
                cat("reduction_type", "max_pooling", "avg_pooling"),
                int_param("pool_size", "2", "3"),
            ),
        ),
    )


def space(num_layers: int = 3, operations: tuple[OperationSpec, ...] | None = None) -> SearchSpace:
    graph = GraphConfig(num_layers, (32, 32, 3), (10,))
    ops = contract_example_operations() if operations is None else operations
    return SearchSpace.from_nas_config(NasConfig(graph, ops))


def enas_cpu_operations() -> tuple[OperationSpec, ...]:
    filters = cat("filter_size", "3", "5", "7")
    channels = cat("num_filter", "32", "48", "64", "96", "128")
    stride = cat("stride", "1", "2")
    multiplier = int_param("depth_multiplier", "1", "2")
    return (
        OperationSpec("convolution", (filters, channels, stride)),
        OperationSpec("separable_convolution", (filters, channels, stride, multiplier)),
        OperationSpec("depthwise_convolution", (filters, stride, multiplier)),
        OperationSpec(
            "reduction",
            (
                cat("reduction_type", "max_pooling", "avg_pooling"),
                int_param("pool_size", "2", "3"),
            ),
        ),
    )
