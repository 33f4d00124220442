"""Choice of the TensorFlow distribution strategy from ``--num_gpus``.

==============  ==================================================================
``--num_gpus``  devices used
==============  ==================================================================
0               the CPU; GPUs are hidden from TensorFlow
1               the first GPU, or the CPU (with a log line) when there is none
n > 1           ``MirroredStrategy`` over the first n GPUs, one model replica each,
                gradients all-reduced every step; with fewer GPUs a warning says how
                many are used, and with none training falls back to the CPU
==============  ==================================================================

Must run before TensorFlow touches any device (it sets visibility and memory growth).
"""

from __future__ import annotations

import logging

import tensorflow as tf

logger = logging.getLogger(__name__)


def select_strategy(num_gpus: int) -> tf.distribute.Strategy:
    """Configure visible devices for ``num_gpus`` and return the strategy to build under."""
    if num_gpus < 0:
        raise ValueError(f"--num_gpus must be >= 0, got {num_gpus}")
    gpus = tf.config.list_physical_devices("GPU")

    if num_gpus == 0 or not gpus:
        if gpus:
            tf.config.set_visible_devices([], "GPU")
        elif num_gpus > 1:
            logger.warning("requested_gpus=%d found_gpus=0 training on the CPU", num_gpus)
        elif num_gpus == 1:
            logger.info("requested_gpus=1 found_gpus=0 training on the CPU")
        return tf.distribute.get_strategy()  # the default strategy: plain CPU placement

    used = gpus[:num_gpus]
    if len(used) < num_gpus:
        logger.warning("requested_gpus=%d found_gpus=%d using all of them", num_gpus, len(gpus))
    tf.config.set_visible_devices(used, "GPU")
    for gpu in used:
        # Allocate GPU memory as needed so several trials may share a device.
        tf.config.experimental.set_memory_growth(gpu, True)

    names = [f"/gpu:{i}" for i in range(len(used))]
    logger.info("devices=%s", ",".join(names))
    if len(names) == 1:
        return tf.distribute.OneDeviceStrategy(names[0])
    return tf.distribute.MirroredStrategy(devices=names)
