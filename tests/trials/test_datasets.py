"""Tests of katib_nas.trials.datasets on small files written in each set's real format."""

from __future__ import annotations

import functools
import http.server
import pickle
import socket
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from katib_nas.trials import datasets
from katib_nas.trials.datasets import (
    DATASETS,
    DatasetUnavailableError,
    adapt_images,
    load_dataset,
    train_validation_split,
)
from tests.trials.dataset_files import cifar_batch, random_images, write_cifar10, write_idx_set


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _write_small_cifar10(folder: Path, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Five training batches of two images and a test batch of two; image 0 has a known pixel."""
    images = random_images(rng, 12, (32, 32, 3))
    images[0, 0, 0] = (10, 20, 30)  # red, green, blue
    labels = rng.integers(0, 10, size=12)
    write_cifar10(folder, images, labels, test_count=2)
    return images, labels


# --- loaders ------------------------------------------------------------------------------


def test_cifar10_folder_is_read_in_nhwc_order(tmp_path: Path, rng: np.random.Generator) -> None:
    images, labels = _write_small_cifar10(tmp_path / "cifar-10-batches-py", rng)

    data = load_dataset("cifar10", str(tmp_path), download=False)

    assert data.num_classes == 10
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert data.x_train.shape == (10, 32, 32, 3) and data.x_test.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(data.x_train, images[:10])
    np.testing.assert_array_equal(data.y_test, labels[10:])
    assert tuple(data.x_train[0, 0, 0]) == (10, 20, 30)


def test_cifar10_archive_in_set_subfolder(tmp_path: Path, rng: np.random.Generator) -> None:
    staging = tmp_path / "staging"
    images, labels = _write_small_cifar10(staging / "cifar-10-batches-py", rng)
    (tmp_path / "cifar10").mkdir()
    with tarfile.open(tmp_path / "cifar10" / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(staging / "cifar-10-batches-py", arcname="cifar-10-batches-py")

    data = load_dataset("cifar10", str(tmp_path), download=False)

    np.testing.assert_array_equal(data.x_test, images[10:])
    np.testing.assert_array_equal(data.y_train, labels[:10])


def test_cifar100_uses_fine_labels(tmp_path: Path, rng: np.random.Generator) -> None:
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    images = random_images(rng, 5, (32, 32, 3))
    labels = np.array([99, 3, 57, 0, 42])
    (folder / "train").write_bytes(cifar_batch(images[:3], labels[:3], b"fine_labels"))
    (folder / "test").write_bytes(cifar_batch(images[3:], labels[3:], b"fine_labels"))

    data = load_dataset("cifar100", str(tmp_path), download=False)

    assert data.num_classes == 100
    np.testing.assert_array_equal(data.y_train, [99, 3, 57])
    np.testing.assert_array_equal(data.x_test, images[3:])


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_sets(tmp_path: Path, rng: np.random.Generator, name: str, compress: bool) -> None:
    x_train, y_train, x_test, y_test = write_idx_set(tmp_path / name, rng, compress)

    data = load_dataset(name, str(tmp_path), download=False)

    assert data.x_train.shape == (6, 28, 28, 1) and data.x_test.shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(data.x_train[..., 0], x_train)
    np.testing.assert_array_equal(data.y_train, y_train)
    np.testing.assert_array_equal(data.x_test[..., 0], x_test)
    np.testing.assert_array_equal(data.y_test, y_test)
    assert data.y_test.dtype == np.int64


def test_mnist_5k_is_a_fixed_stratified_split() -> None:
    data = load_dataset("mnist-5k")

    assert data.x_train.shape == (4500, 28, 28, 1) and data.x_test.shape == (500, 28, 28, 1)
    assert data.x_train.dtype == np.uint8 and data.x_train.max() == 255
    np.testing.assert_array_equal(np.bincount(data.y_test), [50] * 10)
    again = load_dataset("mnist-5k")
    np.testing.assert_array_equal(again.x_test, data.x_test)
    train_rows = {row.tobytes() for row in data.x_train}
    assert not any(row.tobytes() in train_rows for row in data.x_test)


def test_missing_files_without_download_name_directory_and_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("cifar10", str(tmp_path), download=False)
    message = str(info.value)
    assert str(tmp_path) in message
    assert "data_batch_1" in message and "cifar-10-python.tar.gz" in message


def test_unknown_dataset_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="cifar10, cifar100"):
        load_dataset("imagenet")
    assert set(DATASETS) == {"cifar10", "cifar100", "mnist", "fashion-mnist", "mnist-5k"}


def test_bad_idx_magic_is_reported(tmp_path: Path, rng: np.random.Generator) -> None:
    write_idx_set(tmp_path, rng, compress=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x0d\x01" + bytes(7))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte is not an unsigned-byte IDX"):
        load_dataset("mnist", str(tmp_path), download=False)


def test_pickle_that_would_run_code_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    _write_small_cifar10(tmp_path / "cifar-10-batches-py", rng)
    evil = pickle.dumps({b"data": functools.partial(print, "pwned")}, protocol=2)
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(evil)
    with pytest.raises(ValueError, match=r"refusing to load functools\.partial"):
        load_dataset("cifar10", str(tmp_path), download=False)


# --- download -----------------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on a free local port serving tmp_path/served."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_download_from_mirror(
    tmp_path: Path,
    rng: np.random.Generator,
    mirror: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, served = mirror
    x_train, *_ = write_idx_set(served, rng, compress=True)
    monkeypatch.setenv(datasets.MIRROR_ENV, url)
    data_dir = tmp_path / "data"

    data = load_dataset("fashion-mnist", str(data_dir))

    np.testing.assert_array_equal(data.x_train[..., 0], x_train)
    assert (data_dir / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file()
    assert not list((data_dir / "fashion-mnist").glob(".part-*"))


def test_failed_download_names_directory_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(datasets.MIRROR_ENV, f"http://127.0.0.1:{port}/")

    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("mnist", str(tmp_path))
    message = str(info.value)
    assert str(tmp_path / "mnist") in message
    assert "train-images-idx3-ubyte" in message and "downloading" in message


# --- adapt_images -------------------------------------------------------------------------


def test_mnist_into_cifar_shape_pads_and_repeats(rng: np.random.Generator) -> None:
    x = random_images(rng, 4, (28, 28, 1))
    out = adapt_images(x, [32, 32, 3])
    assert out.shape == (4, 32, 32, 3) and out.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(out[:, 2:30, 2:30, channel], x[..., 0])
    assert not out[:, :2].any() and not out[:, :, 30:].any()


def test_rgb_to_grey_uses_luma_and_crops(rng: np.random.Generator) -> None:
    x = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    x[..., 0], x[..., 1], x[..., 2] = 100, 200, 50
    out = adapt_images(x, [28, 28, 1])
    assert out.shape == (1, 28, 28, 1)
    assert int(out[0, 0, 0, 0]) == round(0.299 * 100 + 0.587 * 200 + 0.114 * 50)


def test_large_change_resizes_bilinearly() -> None:
    x = np.zeros((1, 2, 2, 1), dtype=np.uint8)
    x[0, :, 1] = 200
    out = adapt_images(x, [2, 4, 1])
    # Half-pixel centres: columns sample the source at 0 (clamped), 0.25, 0.75, 1 (clamped).
    np.testing.assert_array_equal(out[0, 0, :, 0], [0, 50, 150, 200])
    assert adapt_images(np.full((3, 7, 9, 3), 77, np.uint8), [64, 20, 3]).max() == 77


def test_identity_when_shapes_match(rng: np.random.Generator) -> None:
    x = random_images(rng, 2, (32, 32, 3))
    np.testing.assert_array_equal(adapt_images(x, (32, 32, 3)), x)


@pytest.mark.parametrize("sizes", [[32, 32, 4], [32, 32], [0, 32, 3]])
def test_impossible_adaptation_names_both_shapes(sizes: list[int]) -> None:
    x = np.zeros((2, 28, 28, 1), dtype=np.uint8)
    with pytest.raises(ValueError) as info:
        adapt_images(x, sizes)
    assert "(2, 28, 28, 1)" in str(info.value) and str(sizes) in str(info.value)


# --- train_validation_split ---------------------------------------------------------------


def test_split_partitions_and_is_seeded() -> None:
    train, val = train_validation_split(1000, 0.1, seed=3)
    assert len(val) == 100 and len(train) == 900
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(1000))
    _, again_val = train_validation_split(1000, 0.1, seed=3)
    np.testing.assert_array_equal(again_val, val)
    other_train, _ = train_validation_split(1000, 0.1, seed=4)
    assert not np.array_equal(other_train, train)
    assert not np.array_equal(train, np.sort(train))  # shuffled, not in order


@pytest.mark.parametrize(("n", "fraction"), [(10, 0.0), (10, 1.0), (1, 0.5), (3, 0.01)])
def test_split_rejects_empty_parts(n: int, fraction: float) -> None:
    with pytest.raises(ValueError):
        train_validation_split(n, fraction, seed=0)
