"""Training and validation images for an ENAS trial (numpy only, no TensorFlow).

The training split of the data set is adapted to the network's ``input_sizes`` and a seeded,
shuffled fraction of it is held out for validation; the reported accuracy is measured on
that part. The data set's test split is never used for selection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from katib_nas.trials.datasets import adapt_images, load_dataset, train_validation_split
from katib_nas.trials.enas_cnn.architecture import Architecture

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingOptions:
    dataset: str = "cifar10"
    data_dir: str | None = None
    download: bool = True
    num_epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3
    validation_fraction: float = 0.1
    seed: int = 0
    augment: bool = False


@dataclass(frozen=True)
class SplitData:
    """``uint8`` images of the network's input shape and ``int64`` labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def prepare_data(architecture: Architecture, options: TrainingOptions) -> SplitData:
    """Load, adapt and split the training data; ValueError when it cannot fit the network."""
    data = load_dataset(options.dataset, options.data_dir, download=options.download)
    if data.num_classes > architecture.num_classes:
        raise ValueError(
            f"dataset {data.name} has {data.num_classes} classes but nn_config output_sizes "
            f"ends in {architecture.num_classes}"
        )
    if data.num_classes < architecture.num_classes:
        logger.warning(
            "dataset=%s classes=%d network_outputs=%d extra outputs are never a target",
            data.name,
            data.num_classes,
            architecture.num_classes,
        )

    images = adapt_images(data.x_train, architecture.input_sizes)
    train_idx, val_idx = train_validation_split(
        len(images), options.validation_fraction, options.seed
    )
    logger.info(
        "dataset=%s train_examples=%d validation_examples=%d input_shape=%s",
        data.name,
        len(train_idx),
        len(val_idx),
        images.shape[1:],
    )
    return SplitData(
        images[train_idx], data.y_train[train_idx], images[val_idx], data.y_train[val_idx]
    )
