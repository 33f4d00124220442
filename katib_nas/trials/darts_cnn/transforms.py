"""Image transforms on whole batches, written in torch (torchvision is not needed).

Images are kept as uint8 NCHW tensors and converted per batch:

* ``to_float``: x / 255, so pixels lie in [0, 1].
* ``random_crop``: zero-pad every side by ``padding`` pixels, then cut a window of the
  original size at an independent random offset per image (offsets uniform in
  [0, 2 * padding]).
* ``random_flip``: mirror each image left-right with probability 1/2.
* ``normalize``: (x - mean_c) / std_c per channel, with the mean and standard deviation of the
  training images (``channel_stats``), not constants copied from elsewhere.

All randomness comes from an explicit ``torch.Generator``, so a batch is reproducible from the
generator's seed.
"""

from __future__ import annotations

import torch


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of uint8 NCHW ``images`` scaled to [0, 1]."""
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise ValueError(f"expected uint8 NCHW images, got {images.dtype} {tuple(images.shape)}")
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    total_sq = torch.zeros_like(total)
    count = 0
    for chunk in images.split(4096):
        values = chunk.to(torch.float64) / 255.0
        total += values.sum(dim=(0, 2, 3))
        total_sq += (values * values).sum(dim=(0, 2, 3))
        count += values.shape[0] * values.shape[2] * values.shape[3]
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(1e-12).sqrt()
    return mean.float(), std.float()


def to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 255.0


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Pad by ``padding`` and crop back to the original size at a random offset per image."""
    if padding == 0:
        return images
    n, _, height, width = images.shape
    padded = torch.nn.functional.pad(images, (padding, padding, padding, padding))
    offset_y = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(images.device)
    offset_x = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(images.device)
    rows = offset_y[:, None] + torch.arange(height, device=images.device)[None, :]
    cols = offset_x[:, None] + torch.arange(width, device=images.device)[None, :]
    batch = torch.arange(n, device=images.device)[:, None, None]
    # Advanced indexing on dims 0, 2, 3 moves the channel dimension last: (n, h, w, c).
    cropped = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
    return cropped.permute(0, 3, 1, 2).contiguous()


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    flip = torch.rand(images.shape[0], generator=generator) < 0.5
    flip = flip.to(images.device)[:, None, None, None]
    return torch.where(flip, images.flip(-1), images)


def normalize(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return (images - mean.to(images.device)[None, :, None, None]) / std.to(images.device)[
        None, :, None, None
    ]
