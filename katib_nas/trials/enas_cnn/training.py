"""Training of an ENAS child network and the metric lines Katib's collector reads.

The images come from :func:`~.data.prepare_data` as ``uint8``; pixels are scaled once, to
``x / 255`` in float32, inside the input pipeline, and the training batches are reshuffled
every epoch.

After every epoch four lines go to the metrics stream (standard output):

    Training-Accuracy=<float>
    Training-Loss=<float>
    Validation-Accuracy=<float>
    Validation-Loss=<float>

Katib's StdOut collector merges standard error into the same file, so no log line of this
package contains those names followed by ``=``.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, TextIO

import keras
import tensorflow as tf

from katib_nas.trials.enas_cnn.architecture import Architecture
from katib_nas.trials.enas_cnn.data import SplitData, TrainingOptions
from katib_nas.trials.enas_cnn.model import build_model

logger = logging.getLogger(__name__)

# Keras history key -> the metric name Katib's ENAS examples use.
METRIC_NAMES = (
    ("accuracy", "Training-Accuracy"),
    ("loss", "Training-Loss"),
    ("val_accuracy", "Validation-Accuracy"),
    ("val_loss", "Validation-Loss"),
)


class NonFiniteMetricError(RuntimeError):
    """A loss or accuracy became NaN or infinite; the trial is stopped as failed."""


def make_pipelines(
    split: SplitData, batch_size: int, seed: int, augment: bool = False
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Shuffled training batches and ordered validation batches, pixels scaled to [0, 1].

    With ``augment``, training batches (only) are randomly flipped left-right and shifted by
    up to 10 % of the height and width, the augmentation of Katib's CIFAR-10 example.
    """

    def scale(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.cast(images, tf.float32) / 255.0, labels

    train = (
        tf.data.Dataset.from_tensor_slices((split.x_train, split.y_train))
        .shuffle(len(split.x_train), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(scale, num_parallel_calls=tf.data.AUTOTUNE)
    )
    if augment:
        augmenter = keras.Sequential(
            [
                keras.layers.RandomFlip("horizontal", seed=seed),
                keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1),
            ],
            name="augmentation",
        )
        train = train.map(lambda x, y: (augmenter(x, training=True), y))
    validation = (
        tf.data.Dataset.from_tensor_slices((split.x_val, split.y_val))
        .batch(batch_size)
        .map(scale, num_parallel_calls=tf.data.AUTOTUNE)
    )
    return train.prefetch(tf.data.AUTOTUNE), validation.prefetch(tf.data.AUTOTUNE)


class KatibMetricsPrinter(keras.callbacks.Callback):
    """Writes the four metric lines after each epoch; stops training on NaN or infinity."""

    def __init__(self, stream: TextIO, num_epochs: int) -> None:
        super().__init__()
        self._stream = stream
        self._num_epochs = num_epochs
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        values = {}
        for key, name in METRIC_NAMES:
            if key not in logs:
                raise KeyError(f"Keras reported no {key!r} after epoch {epoch + 1}")
            values[name] = float(logs[key])
        bad = [name for name, value in values.items() if not math.isfinite(value)]
        if bad:
            raise NonFiniteMetricError(
                f"epoch {epoch + 1}: {' and '.join(bad)} not finite; lower --learning-rate"
            )

        self._stream.write("".join(f"{name}={value!r}\n" for name, value in values.items()))
        self._stream.flush()
        logger.info(
            "epoch=%d/%d seconds=%.1f",
            epoch + 1,
            self._num_epochs,
            time.perf_counter() - self._started,
        )


def train(
    architecture: Architecture,
    split: SplitData,
    options: TrainingOptions,
    strategy: tf.distribute.Strategy,
    metrics_stream: TextIO,
) -> keras.Model:
    """Build the network under ``strategy``, train it and print Katib's metric lines."""
    keras.utils.set_random_seed(options.seed)
    train_data, validation_data = make_pipelines(
        split, options.batch_size, options.seed, augment=options.augment
    )

    with strategy.scope():
        model = build_model(architecture)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=options.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    logger.info(
        "layers=%d parameters=%d replicas=%d",
        len(architecture.layers),
        model.count_params(),
        strategy.num_replicas_in_sync,
    )

    model.fit(
        train_data,
        validation_data=validation_data,
        epochs=options.num_epochs,
        shuffle=False,  # the training pipeline reshuffles itself every epoch
        verbose=0,
        callbacks=[KatibMetricsPrinter(metrics_stream, options.num_epochs)],
    )
    return model
