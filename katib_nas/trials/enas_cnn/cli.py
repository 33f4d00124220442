"""Command line of the ENAS trial: ``python -m katib_nas.trials.enas_cnn``.

Takes Katib's flags (``--architecture``, ``--nn_config``, ``--num_epochs``, ``--num_gpus``),
each also spelled with hyphens, plus ``--dataset``, ``--data-dir``, ``--batch-size``,
``--learning-rate``, ``--seed``, ``--validation-fraction``, ``--augment`` and ``--no-download``.

Exit status: 0 after training; 2 for input that cannot be used (architecture / nn_config,
arguments, images that do not fit ``input_sizes``), found before TensorFlow is loaded; 1 when
the data set cannot be found or training diverges. Errors are one line on standard error.
Standard output carries only the metric lines: anything else that a library prints there is
sent to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from katib_nas.logs import FORMAT
from katib_nas.trials.datasets import DATASETS, DatasetUnavailableError
from katib_nas.trials.enas_cnn.architecture import (
    Architecture,
    ArchitectureError,
    parse_architecture,
)
from katib_nas.trials.enas_cnn.data import TrainingOptions, prepare_data

logger = logging.getLogger(__name__)

PROG = "enas_cnn"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train the network an ENAS suggestion describes and print Katib metrics.",
    )
    add = parser.add_argument
    add("--architecture", required=True, help="Katib's architecture value, e.g. '[[2], [0, 1]]'")
    add("--nn_config", "--nn-config", required=True, help="Katib's nn_config value")
    add("--num_epochs", "--num-epochs", type=int, default=10, help="epochs (default 10)")
    add("--num_gpus", "--num-gpus", type=int, default=1, help="GPUs; 0 = CPU (default 1)")
    add("--dataset", choices=DATASETS, default="cifar10", help="data set (default cifar10)")
    add(
        "--data-dir",
        "--data_dir",
        default=None,
        help="directory with the data set files (default $KATIB_NAS_DATA_DIR or "
        "~/.cache/katib-nas/datasets)",
    )
    add(
        "--download",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fetch missing data set files from the internet (default: yes)",
    )
    add("--batch-size", "--batch_size", type=int, default=128, help="global batch size")
    add("--learning-rate", "--learning_rate", type=float, default=1e-3, help="Adam step size")
    add("--validation-fraction", type=float, default=0.1, help="held-out share of training data")
    add(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="random left-right flips and 10%% shifts of training images (default: no)",
    )
    add("--seed", type=int, default=0, help="seed of the split, shuffling and initial weights")
    add("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.num_epochs < 1 or args.batch_size < 1 or args.learning_rate <= 0:
        parser.error("--num_epochs and --batch-size must be >= 1, --learning-rate > 0")
    if args.num_gpus < 0:
        parser.error(f"--num_gpus must be >= 0, got {args.num_gpus}")
    if not 0.0 < args.validation_fraction < 1.0:
        parser.error(f"--validation-fraction must be in (0, 1), got {args.validation_fraction}")

    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level,
        format=FORMAT,
    )
    try:
        architecture = parse_architecture(args.architecture, args.nn_config)
    except ArchitectureError as exc:
        return _fail(str(exc), status=2)

    metrics_stream = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        return _run(architecture, args, metrics_stream)


def _run(architecture: Architecture, args: argparse.Namespace, metrics_stream: TextIO) -> int:
    options = TrainingOptions(
        dataset=args.dataset,
        data_dir=args.data_dir,
        download=args.download,
        num_epochs=args.num_epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        validation_fraction=args.validation_fraction,
        seed=args.seed,
        augment=args.augment,
    )
    try:
        split = prepare_data(architecture, options)
    except DatasetUnavailableError as exc:
        return _fail(str(exc), status=1)
    except ValueError as exc:
        return _fail(str(exc), status=2)

    # TensorFlow is imported only now, after every input was checked, and quietly.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    from katib_nas.trials.enas_cnn.devices import select_strategy
    from katib_nas.trials.enas_cnn.training import NonFiniteMetricError, train

    try:
        strategy = select_strategy(args.num_gpus)
        train(architecture, split, options, strategy, metrics_stream)
    except NonFiniteMetricError as exc:
        return _fail(str(exc), status=1)
    return 0


def _fail(message: str, status: int) -> int:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    sys.stderr.flush()
    return status
