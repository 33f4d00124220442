"""Writers of small image data set files in each set's real distribution format (for tests)."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np


def random_images(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def cifar_batch(images: np.ndarray, labels: np.ndarray, label_key: bytes) -> bytes:
    """A CIFAR python-version batch: rows hold the R, G and B 32x32 planes one after another."""
    batch = {
        b"batch_label": b"test batch",
        label_key: [int(v) for v in labels],
        b"data": images.transpose(0, 3, 1, 2).reshape(len(images), -1),
        b"filenames": [b"img%d.png" % i for i in range(len(images))],
    }
    if label_key == b"fine_labels":
        batch[b"coarse_labels"] = [int(v) // 5 for v in labels]
    return pickle.dumps(batch, protocol=2)


def write_cifar10(folder: Path, images: np.ndarray, labels: np.ndarray, test_count: int) -> None:
    """``data_batch_1..5`` (the images but the last ``test_count``) and ``test_batch``."""
    folder.mkdir(parents=True)
    n_train = len(images) - test_count
    parts = np.array_split(np.arange(n_train), 5)
    for i, part in enumerate(parts):
        batch = cifar_batch(images[part], labels[part], b"labels")
        (folder / f"data_batch_{i + 1}").write_bytes(batch)
    test = cifar_batch(images[n_train:], labels[n_train:], b"labels")
    (folder / "test_batch").write_bytes(test)


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX: two zero bytes, type 0x08 (unsigned byte), rank, big-endian sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_idx_set(folder: Path, rng: np.random.Generator, compress: bool) -> list[np.ndarray]:
    """MNIST-layout files of 6 training and 3 test images; returns the four arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = [
        random_images(rng, 6, (28, 28)),
        rng.integers(0, 10, size=6).astype(np.uint8),
        random_images(rng, 3, (28, 28)),
        rng.integers(0, 10, size=3).astype(np.uint8),
    ]
    stems = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    for stem, array in zip(stems, arrays, strict=True):
        raw = idx_bytes(array)
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return arrays
