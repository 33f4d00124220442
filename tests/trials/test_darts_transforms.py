"""The batch transforms written in torch."""

from __future__ import annotations

import numpy as np
import torch

from katib_nas.trials.darts_cnn import transforms


def test_random_crop_is_a_shifted_window_of_the_zero_padded_image() -> None:
    images = torch.arange(2 * 1 * 5 * 5, dtype=torch.float32).reshape(2, 1, 5, 5) + 1.0
    generator = torch.Generator().manual_seed(0)
    cropped = transforms.random_crop(images, 2, generator)
    assert cropped.shape == images.shape

    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    offsets = torch.Generator().manual_seed(0)
    dy = torch.randint(0, 5, (2,), generator=offsets)
    dx = torch.randint(0, 5, (2,), generator=offsets)
    for n in range(2):
        window = padded[n, :, dy[n] : dy[n] + 5, dx[n] : dx[n] + 5]
        assert torch.equal(cropped[n], window)


def test_random_flip_mirrors_about_half_of_the_images() -> None:
    images = torch.rand(400, 1, 3, 4)
    flipped = transforms.random_flip(images, torch.Generator().manual_seed(1))
    mirrored = [torch.equal(f, i.flip(-1)) for f, i in zip(flipped, images, strict=True)]
    unchanged = [torch.equal(f, i) for f, i in zip(flipped, images, strict=True)]
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))
    assert 150 < sum(mirrored) < 250


def test_channel_stats_and_normalize() -> None:
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (50, 3, 6, 6), dtype=np.uint8))
    mean, std = transforms.channel_stats(images)
    values = images.double().numpy() / 255.0
    np.testing.assert_allclose(mean.numpy(), values.mean(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(std.numpy(), values.std(axis=(0, 2, 3)), rtol=1e-5)

    normalized = transforms.normalize(transforms.to_float(images), mean, std)
    np.testing.assert_allclose(normalized.mean(dim=(0, 2, 3)).numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(
        normalized.std(dim=(0, 2, 3), unbiased=False).numpy(), 1.0, atol=1e-4
    )
