"""Training throughput of the ENAS trial: images per second for epochs on mnist-5k.

Trains one fixed 4-layer architecture of Katib's enas-cpu space (3x3 convolution with 32
filters and stride 2; 3x3 separable convolution with 64 filters; 2x2 max pooling with a skip
from the input; 3x3 convolution with 64 filters with skips from the input and layer 1) on
mnist-5k adapted to Katib's 32x32x3 input, exactly as the trial does (same data pipeline,
model builder and Keras fit loop), for a few epochs per batch size, and prints per batch size:

* first epoch: training images per second including graph tracing (what a 1-epoch trial sees)
* later epochs: median training images per second, and the ratio to the first epoch
* validation images per second (inference), median over the later epochs

Run: ``PYTHONPATH=. python benchmarks/enas_trial_throughput.py [--epochs 4]
[--batch-sizes 32 128] [--threads N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"

import keras
import tensorflow as tf

from katib_nas.trials.enas_cnn.architecture import parse_architecture
from katib_nas.trials.enas_cnn.data import TrainingOptions, prepare_data
from katib_nas.trials.enas_cnn.model import build_model
from katib_nas.trials.enas_cnn.training import make_pipelines

ARCHITECTURE = "[[1], [38, 0], [102, 1, 0], [4, 1, 1, 0]]"
NN_CONFIG = (
    "{'num_layers': 4, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': {"
    "'1': {'opt_id': 1, 'opt_type': 'convolution', 'opt_params': {'filter_size': '3', "
    "'num_filter': '32', 'stride': '2'}}, "
    "'38': {'opt_id': 38, 'opt_type': 'separable_convolution', 'opt_params': {'filter_size': "
    "'3', 'num_filter': '64', 'stride': '1', 'depth_multiplier': '1'}}, "
    "'102': {'opt_id': 102, 'opt_type': 'reduction', 'opt_params': {'reduction_type': "
    "'max_pooling', 'pool_size': 2}}, "
    "'4': {'opt_id': 4, 'opt_type': 'convolution', 'opt_params': {'filter_size': '3', "
    "'num_filter': '64', 'stride': '1'}}}}"
)


class EpochTimer(keras.callbacks.Callback):
    """Seconds of the training pass and of the validation pass of every epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.train_seconds: list[float] = []
        self.validation_seconds: list[float] = []
        self._mark = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._mark = time.perf_counter()

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        now = time.perf_counter()
        self.train_seconds.append(now - self._mark)
        self._mark = now

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.validation_seconds.append(time.perf_counter() - self._mark)


def measure(batch_size: int, epochs: int) -> dict[str, float]:
    architecture = parse_architecture(ARCHITECTURE, NN_CONFIG)
    options = TrainingOptions(dataset="mnist-5k", batch_size=batch_size, num_epochs=epochs)
    split = prepare_data(architecture, options)
    train_data, validation_data = make_pipelines(split, batch_size, seed=0)

    keras.utils.set_random_seed(0)
    model = build_model(architecture)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    history = model.fit(
        train_data,
        validation_data=validation_data,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=[timer],
    )

    n_train, n_val = len(split.x_train), len(split.x_val)
    first = n_train / timer.train_seconds[0]
    later = statistics.median(n_train / s for s in timer.train_seconds[1:])
    return {
        "first": first,
        "later": later,
        "ratio": later / first,
        "validation": statistics.median(n_val / s for s in timer.validation_seconds[1:]),
        "accuracy": float(history.history["val_accuracy"][-1]),
        "params": float(model.count_params()),
        "n_train": float(n_train),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per batch size (>= 2)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--threads", type=int, default=0, help="TF intra-op threads; 0 = all")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the first epoch includes tracing)")
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)

    print(f"ENAS trial throughput, 4-layer architecture {ARCHITECTURE}")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"tensorflow {tf.__version__}, keras {keras.__version__}, cpus {os.cpu_count()}, "
        f"load average before the run {load}"
    )
    wall, cpu = time.perf_counter(), time.process_time()
    rows = [(b, measure(b, args.epochs)) for b in args.batch_sizes]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _, first_row = rows[0]
    print(
        f"mnist-5k adapted to 32x32x3: {int(first_row['n_train'])} training images per epoch, "
        f"{int(first_row['params'])} parameters, {args.epochs} epochs per batch size"
    )
    header = (
        f"{'batch':>5}  {'epoch 1 img/s':>13}  {'later median img/s':>18}  "
        f"{'later/first':>11}  {'validation img/s':>16}  {'val acc':>7}"
    )
    print(header)
    for batch_size, r in rows:
        print(
            f"{batch_size:>5}  {r['first']:>13.0f}  {r['later']:>18.0f}  {r['ratio']:>11.2f}  "
            f"{r['validation']:>16.0f}  {r['accuracy']:>7.3f}"
        )
    print(
        f"process used {cpu:.0f} CPU seconds in {wall:.0f} s wall "
        f"({cpu / wall:.2f} cores busy on average; other load on the machine lowers this)"
    )
    if len(rows) > 1:
        (small, a), (large, b) = rows[0], rows[-1]
        ratio = b["later"] / a["later"]
        print(f"batch {large} / batch {small} steady-state throughput ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
