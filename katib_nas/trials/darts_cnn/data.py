"""The two halves of the DARTS search data and the batches drawn from them each epoch.

As in the DARTS paper, the search uses only the training split of the data set, cut in two
equal random halves: the *weight half* trains the operation weights w and the *alpha half*
trains the architecture weights alpha. ``Validation-Accuracy`` is measured on the alpha half
(the data the alphas are chosen on); the data set's test split is not used by the search.

The weight half is augmented (random crop with zero padding of 1/8 of the image size, plus a
left-right flip for data sets where mirrored images keep their label); the alpha half never is.
Both are normalised with the per-channel statistics of the weight half.

Each epoch's order and augmentation come from a generator seeded with (seed, epoch), so an
epoch can be replayed exactly after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from katib_nas.trials.darts_cnn import transforms
from katib_nas.trials.datasets import load_dataset, train_validation_split

logger = logging.getLogger(__name__)

# Data sets whose images keep their class when mirrored left-right (digits do not).
FLIP_SAFE = frozenset({"cifar10", "cifar100", "fashion-mnist"})


@dataclass(frozen=True)
class SearchData:
    """Weight half and alpha half as uint8 NCHW tensors, plus normalisation statistics."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    num_classes: int
    mean: torch.Tensor
    std: torch.Tensor
    flip: bool

    @property
    def in_channels(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def crop_padding(self) -> int:
        return int(self.train_x.shape[2]) // 8


def prepare_search_data(
    name: str,
    data_dir: str | None,
    *,
    seed: int,
    limit: int | None = None,
    download: bool = True,
) -> SearchData:
    """Load ``name`` and split its training images into the weight and alpha halves.

    ``limit`` keeps a seeded random subset of that many training images first (for quick
    runs; mnist-5k is sorted by class, so a plain slice would hold one digit).
    """
    dataset = load_dataset(name, data_dir, download=download)
    x, y = dataset.x_train, dataset.y_train
    if limit is not None:
        if limit < 2:
            raise ValueError(f"--train-limit must be at least 2, got {limit}")
        keep = np.sort(np.random.default_rng(seed).permutation(len(y))[: min(limit, len(y))])
        x, y = x[keep], y[keep]

    weight_idx, alpha_idx = train_validation_split(len(y), 0.5, seed)
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    labels = torch.from_numpy(y.astype(np.int64))
    train_x, val_x = images[torch.from_numpy(weight_idx)], images[torch.from_numpy(alpha_idx)]
    mean, std = transforms.channel_stats(train_x)
    logger.info(
        "data dataset=%s weight_half=%d alpha_half=%d shape=%s classes=%d",
        name,
        len(weight_idx),
        len(alpha_idx),
        tuple(images.shape[1:]),
        dataset.num_classes,
    )
    return SearchData(
        name=name,
        train_x=train_x,
        train_y=labels[torch.from_numpy(weight_idx)],
        val_x=val_x,
        val_y=labels[torch.from_numpy(alpha_idx)],
        num_classes=dataset.num_classes,
        mean=mean,
        std=std,
        flip=name in FLIP_SAFE,
    )


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator for one epoch's order and augmentation, the same on every process."""
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def steps_per_epoch(data: SearchData, batch_size: int) -> tuple[int, int]:
    """(steps, batch size actually used): full batches only, at least one batch."""
    smallest = min(len(data.train_y), len(data.val_y))
    batch = min(batch_size, smallest)
    return max(1, smallest // batch), batch


def search_batches(
    data: SearchData,
    batch_size: int,
    generator: torch.Generator,
    device: torch.device | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Yield (train_x, train_y, val_x, val_y) float batches for one epoch (global batches).

    The uint8 images move to ``device`` before they are transformed, so a GPU does the work.
    """
    device = device or torch.device("cpu")
    steps, batch = steps_per_epoch(data, batch_size)
    train_order = torch.randperm(len(data.train_y), generator=generator)
    val_order = torch.randperm(len(data.val_y), generator=generator)
    for step in range(steps):
        t_idx = train_order[step * batch : (step + 1) * batch]
        v_idx = val_order[step * batch : (step + 1) * batch]
        train_x = transforms.to_float(data.train_x[t_idx].to(device, non_blocking=True))
        train_x = transforms.random_crop(train_x, data.crop_padding, generator)
        if data.flip:
            train_x = transforms.random_flip(train_x, generator)
        train_x = transforms.normalize(train_x, data.mean, data.std)
        val_x = transforms.to_float(data.val_x[v_idx].to(device, non_blocking=True))
        val_x = transforms.normalize(val_x, data.mean, data.std)
        yield train_x, data.train_y[t_idx], val_x, data.val_y[v_idx]


def evaluation_batches(
    data: SearchData, batch_size: int, *, rank: int = 0, world_size: int = 1
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The alpha half in order, normalised, without augmentation.

    Process ``rank`` of ``world_size`` gets every ``world_size``-th image starting at ``rank``,
    so the processes together see every image exactly once.
    """
    images, labels = data.val_x[rank::world_size], data.val_y[rank::world_size]
    for start in range(0, len(labels), batch_size):
        x = transforms.to_float(images[start : start + batch_size])
        yield transforms.normalize(x, data.mean, data.std), labels[start : start + batch_size]
