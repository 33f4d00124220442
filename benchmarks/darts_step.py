"""Time and peak memory of one DARTS search step: second order against first order.

One search step = one alpha update (the architect) + one weight update, exactly
``DartsSearch.step``. Counting forward+backward passes: first order needs 2 (grad_alpha
L_val(w), then the weight step); second order needs 5 (training gradient for the virtual step,
validation loss at w', two finite-difference passes, the weight step), so about 2.5x the time
is expected, plus the copies of the weights it keeps.

Each mode runs in its own child process so that peak memory is not shared:
on CPU the figure is the growth of the process's peak resident set size (``ru_maxrss``) over
its size just before the first step; on CUDA it is ``torch.cuda.max_memory_allocated`` minus
the memory allocated before the first step.

Usage: ``PYTHONPATH=. python benchmarks/darts_step.py [--device cuda] [--repeats 5]``.
Prints one line per mode (median step time over ``--repeats`` steps after one warm-up step,
training images per second) and the second/first-order ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

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


def worker(args: argparse.Namespace) -> None:
    """Measure one mode and print one JSON line."""
    import torch

    from katib_nas.trials.darts_cnn.config import default_settings
    from katib_nas.trials.darts_cnn.data import SearchData
    from katib_nas.trials.darts_cnn.distributed import ProcessLayout, choose_device
    from katib_nas.trials.darts_cnn.search import DartsSearch

    device = choose_device(args.device)
    generator = torch.Generator().manual_seed(0)
    n = 2 * args.batch_size

    def images() -> torch.Tensor:
        return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=generator)

    data = SearchData(
        name="synthetic-32x32x3",
        train_x=images(),
        train_y=torch.randint(0, 10, (n,), generator=generator),
        val_x=images(),
        val_y=torch.randint(0, 10, (n,), generator=generator),
        num_classes=10,
        mean=torch.full((3,), 0.5),
        std=torch.full((3,), 0.29),
        flip=True,
    )
    settings = default_settings(
        num_epochs=1,
        batch_size=args.batch_size,
        init_channels=args.init_channels,
        num_nodes=args.num_nodes,
        second_order=args.mode == "second",
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
    size = args.batch_size
    train = search.local_batches(data.train_x[:size].float() / 255, data.train_y[:size])
    val = search.local_batches(data.val_x[:size].float() / 255, data.val_y[:size])

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    if device.type == "cuda":
        synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device) / 2**20
    else:
        base = _peak_rss_mib()

    times = []
    for _ in range(args.repeats + 1):
        synchronize()
        started = time.perf_counter()
        search.step(train, val)
        synchronize()
        times.append(time.perf_counter() - started)

    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20 - base
    else:
        peak = _peak_rss_mib() - base
    median = statistics.median(times[1:])
    print(
        json.dumps(
            {
                "mode": args.mode,
                "device": str(device),
                "median_s": median,
                "images_per_s": args.batch_size / median,
                "peak_mib": peak,
                "threads": torch.get_num_threads(),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--init-channels", type=int, default=4)
    parser.add_argument("--num-layers", type=int, default=3)
    parser.add_argument("--num-nodes", type=int, default=4)
    parser.add_argument("--mode", choices=["first", "second"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        worker(args)
        return

    print(
        f"DARTS search step: batch={args.batch_size} images 32x32x3, "
        f"layers={args.num_layers} nodes={args.num_nodes} init_channels={args.init_channels}, "
        f"{len(PRIMITIVES)} primitives + none, device={args.device}, amp={args.amp}, "
        f"median of {args.repeats} steps",
        flush=True,
    )
    results = {}
    for mode in ("first", "second"):
        command = [sys.executable, __file__, "--mode", mode, *sys.argv[1:]]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[mode]
        print(
            f"{mode:>6} order: {r['median_s'] * 1000:9.1f} ms/step  "
            f"{r['images_per_s']:8.1f} training images/s  "
            f"peak memory +{r['peak_mib']:8.1f} MiB  (threads={r['threads']})",
            flush=True,
        )
    first, second = results["first"], results["second"]
    print(
        f"second/first: time x{second['median_s'] / first['median_s']:.2f} "
        f"(5 vs 2 forward+backward passes predicts x2.5), "
        f"peak memory x{second['peak_mib'] / max(first['peak_mib'], 1e-9):.2f}"
    )


if __name__ == "__main__":
    main()
