"""Tests of device selection and of training under a MirroredStrategy with two replicas."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tensorflow as tf

from katib_nas.trials.enas_cnn.devices import select_strategy
from tests.trials.enas_cpu_space import encode

REPO_ROOT = Path(__file__).resolve().parents[2]
HAS_GPU = bool(tf.config.list_physical_devices("GPU"))


@pytest.mark.skipif(HAS_GPU, reason="checks the CPU fallback; GPU hosts take the GPU path")
def test_cpu_fallback_warns_when_several_gpus_are_requested(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="katib_nas.trials.enas_cnn.devices"):
        strategy = select_strategy(4)
    assert strategy.num_replicas_in_sync == 1
    assert any(
        r.levelno == logging.WARNING and "requested_gpus=4 found_gpus=0" in r.getMessage()
        for r in caplog.records
    )
    assert select_strategy(0).num_replicas_in_sync == 1


def test_negative_gpu_count_is_refused() -> None:
    with pytest.raises(ValueError, match="--num_gpus must be >= 0"):
        select_strategy(-1)


# Runs in a fresh interpreter: logical devices must be configured before TensorFlow starts.
MIRRORED_SCRIPT = textwrap.dedent(
    """
    import sys
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    from katib_nas.trials.enas_cnn.architecture import parse_architecture
    from katib_nas.trials.enas_cnn.data import SplitData, TrainingOptions, prepare_data
    from katib_nas.trials.enas_cnn.training import train

    architecture = parse_architecture(sys.argv[1], sys.argv[2])
    options = TrainingOptions(dataset="mnist-5k", num_epochs=1, batch_size=64)
    full = prepare_data(architecture, options)
    split = SplitData(full.x_train[:1024], full.y_train[:1024], full.x_val, full.y_val)
    model = train(architecture, split, options, strategy, sys.stdout)
    print("replicas", strategy.num_replicas_in_sync, file=sys.stderr)
    """
)


@pytest.mark.slow
def test_training_under_mirrored_strategy_with_two_replicas() -> None:
    # Layer 3 takes a skip from the input, so resizing and concatenation run replicated too.
    architecture, nn_config = encode([[1], [102, 0], [37, 1, 0]], [28, 28, 1], [10])
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, architecture, nn_config],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replicas 2" in result.stderr
    names = [line.split("=")[0] for line in result.stdout.splitlines()]
    assert names == [
        "Training-Accuracy",
        "Training-Loss",
        "Validation-Accuracy",
        "Validation-Loss",
    ]
