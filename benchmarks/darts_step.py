"""Time and peak memory of one DARTS search step: second order against first order.

One search step = one alpha update (the architect) + one weight update, exactly
``DartsSearch.step``. Counting forward+backward passes: first order needs 2 (grad_alpha
L_val(w), then the weight step); second order needs 5 (training gradient for the virtual step,
validation loss at w', two finite-difference passes, the weight step), so about 2.5x the time
is expected, plus the copies of the weights it keeps.

Time: one process, the two modes alternating step by step (after one warm-up step each), so
that a change in machine load hits both alike; the median of ``--repeats`` steps each.
Memory: each mode's first step in its own child process, so that peaks are not shared. On CPU
the figure is the growth of the peak resident set size (``ru_maxrss``) over its value just
before the step; on CUDA, ``torch.cuda.max_memory_allocated`` minus the memory allocated
before the step.

Usage: ``PYTHONPATH=. python benchmarks/darts_step.py [--device cuda] [--amp] [--repeats 5]``.
Prints one line per mode (ms per step, training images per second, peak memory) and the
second/first-order ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PRIMITIVES = (
    "separable_convolution_3x3",
    "dilated_convolution_3x3",
    "dilated_convolution_5x5",
    "avg_pooling_3x3",
    "max_pooling_3x3",
    "skip_connection",
)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _build(args: argparse.Namespace) -> tuple[Any, list[Any], list[Any]]:
    """A search on synthetic 32x32x3 images and one (train, val) pair of batches."""
    import torch

    from katib_nas.trials.darts_cnn.config import default_settings
    from katib_nas.trials.darts_cnn.data import SearchData
    from katib_nas.trials.darts_cnn.distributed import ProcessLayout, choose_device
    from katib_nas.trials.darts_cnn.search import DartsSearch

    device = choose_device(args.device)
    generator = torch.Generator().manual_seed(0)
    size = args.batch_size

    def images() -> torch.Tensor:
        return torch.randint(0, 256, (size, 3, 32, 32), dtype=torch.uint8, generator=generator)

    data = SearchData(
        name="synthetic-32x32x3",
        train_x=images(),
        train_y=torch.randint(0, 10, (size,), generator=generator),
        val_x=images(),
        val_y=torch.randint(0, 10, (size,), generator=generator),
        num_classes=10,
        mean=torch.full((3,), 0.5),
        std=torch.full((3,), 0.29),
        flip=True,
    )
    settings = default_settings(
        num_epochs=1,
        batch_size=size,
        init_channels=args.init_channels,
        num_nodes=args.num_nodes,
    )
    search = DartsSearch(
        settings,
        PRIMITIVES,
        args.num_layers,
        data,
        ProcessLayout(device=device),
        seed=0,
        output_dir=Path(os.devnull),
        amp=args.amp,
    )
    train = search.local_batches(data.train_x.float() / 255, data.train_y)
    val = search.local_batches(data.val_x.float() / 255, data.val_y)
    return search, train, val


def _set_order(search: Any, second_order: bool) -> None:
    search.settings = dataclasses.replace(search.settings, second_order=second_order)


def _synchronize(search: Any) -> None:
    import torch

    if search.layout.device.type == "cuda":
        torch.cuda.synchronize(search.layout.device)


def measure_memory(args: argparse.Namespace) -> None:
    """Child process: peak memory of one step of one mode, printed as one JSON line."""
    import torch

    search, train, val = _build(args)
    _set_order(search, args.memory == "second")
    device = search.layout.device
    _synchronize(search)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device) / 2**20
    else:
        base = _peak_rss_mib()
    search.step(train, val)
    _synchronize(search)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20 - base
    else:
        peak = _peak_rss_mib() - base
    print(json.dumps({"peak_mib": peak}))


def measure_time(args: argparse.Namespace) -> dict[str, float]:
    """Median step time of each mode, the modes alternating step by step."""
    import torch

    search, train, val = _build(args)
    times: dict[str, list[float]] = {"first": [], "second": []}
    for repeat in range(args.repeats + 1):
        for mode in ("first", "second"):
            _set_order(search, mode == "second")
            _synchronize(search)
            started = time.perf_counter()
            search.step(train, val)
            _synchronize(search)
            if repeat > 0:  # the first round warms up
                times[mode].append(time.perf_counter() - started)
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    medians["threads"] = torch.get_num_threads()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--init-channels", type=int, default=4)
    parser.add_argument("--num-layers", type=int, default=3)
    parser.add_argument("--num-nodes", type=int, default=4)
    parser.add_argument("--memory", choices=["first", "second"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        measure_memory(args)
        return

    print(
        f"DARTS search step: batch={args.batch_size} images 32x32x3, "
        f"layers={args.num_layers} nodes={args.num_nodes} init_channels={args.init_channels}, "
        f"{len(PRIMITIVES)} primitives + none, device={args.device}, amp={args.amp}",
        flush=True,
    )
    peaks = {}
    for mode in ("first", "second"):
        command = [sys.executable, __file__, "--memory", mode, *sys.argv[1:]]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        peaks[mode] = json.loads(done.stdout.strip().splitlines()[-1])["peak_mib"]
    medians = measure_time(args)
    for mode in ("first", "second"):
        print(
            f"{mode:>6} order: {medians[mode] * 1000:9.1f} ms/step (median of {args.repeats})  "
            f"{args.batch_size / medians[mode]:8.1f} training images/s  "
            f"peak memory +{peaks[mode]:8.1f} MiB",
            flush=True,
        )
    print(
        f"second/first: time x{medians['second'] / medians['first']:.2f} "
        f"(5 vs 2 forward+backward passes predicts x2.5), "
        f"peak memory x{peaks['second'] / max(peaks['first'], 1e-9):.2f}; "
        f"torch threads={int(medians['threads'])}"
    )


if __name__ == "__main__":
    main()
