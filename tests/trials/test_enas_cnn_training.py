"""Tests of the trial's data path (split, scaling, shuffling, augmentation) and metric lines."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from katib_nas.trials.datasets import load_dataset
from katib_nas.trials.enas_cnn.architecture import parse_architecture
from katib_nas.trials.enas_cnn.data import SplitData, TrainingOptions, prepare_data
from katib_nas.trials.enas_cnn.training import (
    KatibMetricsPrinter,
    NonFiniteMetricError,
    make_pipelines,
)
from tests.trials.enas_cpu_space import encode

KATIB_FILTER = re.compile(r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)")


def _architecture(input_sizes: list[int], classes: int = 10):  # type: ignore[no-untyped-def]
    return parse_architecture(*encode([[0]], input_sizes, [classes]))


def test_validation_comes_from_the_training_split_never_the_test_split() -> None:
    options = TrainingOptions(dataset="mnist-5k", validation_fraction=0.2, seed=5)
    split = prepare_data(_architecture([28, 28, 1]), options)
    data = load_dataset("mnist-5k")

    assert len(split.x_val) == 900 and len(split.x_train) == 3600
    train_rows = {row.tobytes() for row in data.x_train}
    assert all(row.tobytes() in train_rows for row in split.x_val)
    assert not {row.tobytes() for row in data.x_test} & {r.tobytes() for r in split.x_val}
    assert set(np.unique(split.y_val)) == set(range(10))  # shuffled, not the first classes


def test_images_are_adapted_to_input_sizes() -> None:
    options = TrainingOptions(dataset="mnist-5k")
    split = prepare_data(_architecture([32, 32, 3]), options)
    assert split.x_train.shape[1:] == (32, 32, 3) and split.x_train.dtype == np.uint8


def test_too_few_network_outputs_are_refused() -> None:
    with pytest.raises(ValueError, match="has 10 classes but nn_config output_sizes ends in 5"):
        prepare_data(_architecture([28, 28, 1], classes=5), TrainingOptions(dataset="mnist-5k"))


def _tiny_split() -> SplitData:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 8, 8, 1), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(40)  # pixel (0, 0) identifies the image
    return SplitData(images[:30], np.arange(30), images[30:], np.arange(30, 40))


def test_pixels_are_scaled_once_and_training_is_reshuffled_each_epoch() -> None:
    split = _tiny_split()
    train, validation = make_pipelines(split, batch_size=8, seed=0)

    epochs = [np.concatenate([y for _, y in train.as_numpy_iterator()]) for _ in range(2)]
    assert sorted(epochs[0]) == list(range(30)) and sorted(epochs[1]) == list(range(30))
    assert list(epochs[0]) != list(range(30)) and list(epochs[0]) != list(epochs[1])

    x_val = np.concatenate([x for x, _ in validation.as_numpy_iterator()])
    y_val = np.concatenate([y for _, y in validation.as_numpy_iterator()])
    np.testing.assert_allclose(x_val, split.x_val / 255.0, rtol=1e-6)
    assert list(y_val) == list(range(30, 40))


def test_augmentation_changes_training_images_only() -> None:
    split = _tiny_split()
    plain, _ = make_pipelines(split, batch_size=30, seed=0)
    augmented, validation = make_pipelines(split, batch_size=30, seed=0, augment=True)

    (x_plain, y_plain), (x_aug, y_aug) = (
        next(plain.as_numpy_iterator()),
        next(augmented.as_numpy_iterator()),
    )
    np.testing.assert_array_equal(y_plain, y_aug)
    assert not np.allclose(x_plain, x_aug)
    assert x_aug.min() >= 0.0 and x_aug.max() <= 1.0
    x_val = next(validation.as_numpy_iterator())[0]
    np.testing.assert_allclose(x_val, split.x_val / 255.0, rtol=1e-6)


def test_metric_lines_match_katibs_filter() -> None:
    stream = io.StringIO()
    printer = KatibMetricsPrinter(stream, num_epochs=1)
    printer.on_epoch_begin(0)
    logs = {"accuracy": 0.5, "loss": 1.25e-5, "val_accuracy": 0.75, "val_loss": 2.0}
    printer.on_epoch_end(0, logs)

    lines = stream.getvalue().splitlines()
    parsed = [KATIB_FILTER.fullmatch(line) for line in lines]
    assert all(parsed)
    assert [(m.group(1), float(m.group(2))) for m in parsed if m] == [
        ("Training-Accuracy", 0.5),
        ("Training-Loss", 1.25e-5),
        ("Validation-Accuracy", 0.75),
        ("Validation-Loss", 2.0),
    ]


def test_non_finite_metrics_stop_training_without_printing() -> None:
    stream = io.StringIO()
    printer = KatibMetricsPrinter(stream, num_epochs=1)
    logs = {"accuracy": 0.1, "loss": float("nan"), "val_accuracy": 0.1, "val_loss": 1.0}
    with pytest.raises(NonFiniteMetricError, match="Training-Loss"):
        printer.on_epoch_end(0, logs)
    assert stream.getvalue() == ""
