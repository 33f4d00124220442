"""The DARTS primitives: one list shared by the suggestion service and the search trial.

A primitive is named ``{operation_type}_{k}x{k}`` for an operation with kernel size ``k``, or
``skip_connection``, exactly as Katib's DARTS service names them. The service accepts only the
primitives listed here and the trial can build every one of them, so the two never disagree.
The trial adds ``none`` (the zero operation) itself; users never list it.
"""

from __future__ import annotations

SKIP_CONNECTION = "skip_connection"
NONE = "none"

# Operation type -> kernel sizes the trial can build.
KERNEL_SIZES: dict[str, tuple[int, ...]] = {
    "separable_convolution": (3, 5, 7),
    "dilated_convolution": (3, 5),
    "convolution": (1, 3, 5, 7),
    "avg_pooling": (3, 5),
    "max_pooling": (3, 5),
}

SUPPORTED_PRIMITIVES: tuple[str, ...] = (
    *(f"{op_type}_{k}x{k}" for op_type, sizes in KERNEL_SIZES.items() for k in sizes),
    SKIP_CONNECTION,
)


def primitive_name(operation_type: str, kernel_size: str | int | float) -> str:
    """Katib's name for ``operation_type`` with a square kernel: ``max_pooling_3x3``."""
    if operation_type == SKIP_CONNECTION:
        return SKIP_CONNECTION
    return f"{operation_type}_{kernel_size}x{kernel_size}"


def parse_primitive(name: str) -> tuple[str, int | None]:
    """Split a primitive name into its operation type and kernel size (None for skip/none)."""
    if name in (SKIP_CONNECTION, NONE):
        return name, None
    op_type, _, kernel = name.rpartition("_")
    size, _, size_again = kernel.partition("x")
    if not op_type or not size.isdigit() or size != size_again:
        raise ValueError(f"{name!r} is not a DARTS primitive name like 'max_pooling_3x3'")
    return op_type, int(size)


def is_supported(name: str) -> bool:
    return name in SUPPORTED_PRIMITIVES
