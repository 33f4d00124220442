"""Command line of the DARTS trial, compatible with Katib's ``run_trial.py``.

Katib passes ``--algorithm-settings``, ``--search-space`` and ``--num-layers`` (``'`` in place of
``"`` in the JSON values); the other flags are this project's and all have defaults, so
Katib's command line works unchanged. stdout carries only the metric lines and the final
``Best-Genotype=`` line; logs go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from katib_nas.logs import log_format
from katib_nas.trials.darts_cnn import distributed
from katib_nas.trials.darts_cnn.config import (
    parse_num_layers,
    parse_search_space,
    parse_settings,
)
from katib_nas.trials.darts_cnn.data import prepare_search_data
from katib_nas.trials.darts_cnn.search import DartsSearch, emit
from katib_nas.trials.datasets import DATASETS, DatasetUnavailableError

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m katib_nas.trials.darts_cnn",
        description="Run one DARTS architecture search and print Katib's metric lines.",
    )
    parser.add_argument(
        "--algorithm-settings",
        default="",
        help="JSON object of DARTS settings as the suggestion service sends it ('-quoted)",
    )
    parser.add_argument(
        "--search-space", default="", help="JSON list of primitive names ('-quoted)"
    )
    parser.add_argument("--num-layers", default="", help="number of cells in the network")
    parser.add_argument("--dataset", default="cifar10", choices=DATASETS)
    parser.add_argument("--data-dir", default=None, help="where the data set files are")
    parser.add_argument(
        "--no-download", action="store_true", help="fail instead of downloading missing files"
    )
    parser.add_argument(
        "--train-limit",
        type=int,
        default=None,
        help="use a seeded random subset of this many training images (quick runs)",
    )
    parser.add_argument(
        "--output-dir",
        default=os.environ.get("DARTS_OUTPUT_DIR", "darts-output"),
        help="checkpoint, genotype.json, alphas per epoch and cell pictures",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from the checkpoint in --output-dir"
    )
    parser.add_argument(
        "--micro-batches",
        type=int,
        default=1,
        help="split each process's batch into this many pieces and average their gradients "
        "(less memory; batch-norm statistics are then per piece)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--amp", action="store_true", help="bfloat16 mixed precision (CUDA only)")
    return parser


def configure_logging(rank: int) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format=log_format(rank=rank),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(int(os.environ.get("RANK", "0")))

    try:
        settings = parse_settings(args.algorithm_settings)
        primitives = parse_search_space(args.search_space)
        num_layers = parse_num_layers(args.num_layers)
        if args.micro_batches < 1:
            raise ValueError(f"--micro-batches must be at least 1, got {args.micro_batches}")
    except ValueError as exc:
        parser.error(str(exc))

    try:
        layout = distributed.setup(args.device)
        if args.amp and layout.device.type != "cuda":
            raise ValueError(f"--amp needs a CUDA device, got --device {args.device}")
    except ValueError as exc:
        parser.error(str(exc))

    try:
        logger.info(
            "start device=%s world_size=%d num_layers=%d primitives=%s settings=%s",
            layout.device,
            layout.world_size,
            num_layers,
            ",".join(primitives),
            " ".join(f"{k}={v}" for k, v in settings.as_dict().items()),
        )
        logger.info(
            "num_workers=%d unused reason='images are held in memory'", settings.num_workers
        )
        data = prepare_search_data(
            args.dataset,
            args.data_dir,
            seed=args.seed,
            limit=args.train_limit,
            download=not args.no_download,
        )
        output_dir = Path(args.output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        fingerprint = {
            "settings": settings.as_dict(),
            "primitives": list(primitives),
            "num_layers": num_layers,
            "dataset": args.dataset,
            "train_limit": args.train_limit,
            "seed": args.seed,
            "world_size": layout.world_size,
        }
        search = DartsSearch(
            settings,
            primitives,
            num_layers,
            data,
            layout,
            seed=args.seed,
            output_dir=output_dir,
            amp=args.amp,
            micro_batches=args.micro_batches,
            fingerprint=fingerprint,
        )
        genotype = search.run(resume=args.resume)
    except (ValueError, DatasetUnavailableError) as exc:
        logger.error("failed reason=%s", exc)
        return 1
    finally:
        distributed.teardown(layout)

    if layout.is_main:
        emit(f"Best-Genotype={genotype}")
    return 0
