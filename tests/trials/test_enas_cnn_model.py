"""Tests of the Keras builder: every parameter honoured, skips wired as named, all ops build."""

from __future__ import annotations

import json
import random
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from katib_nas.trials.enas_cnn.architecture import parse_architecture
from katib_nas.trials.enas_cnn.model import build_model
from tests.trials.enas_cpu_space import enas_cpu_embedding, encode, service_suggestions


def _model(
    rows: list[list[int]], ops: list[tuple[str, dict[str, Any]]], input_sizes: list[int]
) -> keras.Model:
    embedding = {
        str(i): {"opt_id": i, "opt_type": op_type, "opt_params": params}
        for i, (op_type, params) in enumerate(ops)
    }
    config = {
        "num_layers": len(rows),
        "input_sizes": input_sizes,
        "output_sizes": [10],
        "embedding": embedding,
    }
    nn_config = json.dumps(config).replace('"', "'")
    return build_model(parse_architecture(json.dumps(rows), nn_config))


def _shape(model: keras.Model, name: str) -> tuple[int, ...]:
    return tuple(model.get_layer(name).output.shape[1:])


def test_convolution_parameters() -> None:
    conv = {"filter_size": "5", "num_filter": "48", "stride": "2"}
    model = _model([[0]], [("convolution", conv)], [32, 32, 3])
    assert _shape(model, "layer1_convolution") == (16, 16, 48)
    assert model.get_layer("layer1_convolution").kernel.shape == (5, 5, 3, 48)


def test_separable_convolution_parameters() -> None:
    params = {"filter_size": "7", "num_filter": "32", "stride": "2", "depth_multiplier": "2"}
    model = _model([[0]], [("separable_convolution", params)], [32, 32, 3])
    layer = model.get_layer("layer1_separable_convolution")
    assert _shape(model, "layer1_separable_convolution") == (16, 16, 32)
    assert layer.depthwise_kernel.shape == (7, 7, 3, 2)
    assert layer.pointwise_kernel.shape == (1, 1, 6, 32)


def test_depthwise_convolution_parameters() -> None:
    params = {"filter_size": "3", "stride": "2", "depth_multiplier": "2"}
    model = _model([[0]], [("depthwise_convolution", params)], [30, 30, 3])
    assert _shape(model, "layer1_depthwise_convolution") == (15, 15, 6)
    assert model.get_layer("layer1_depthwise_convolution").kernel.shape == (3, 3, 3, 2)


@pytest.mark.parametrize(
    ("reduction_type", "pool_size", "cls", "side"),
    [
        ("max_pooling", 2, keras.layers.MaxPooling2D, 16),
        ("avg_pooling", 3, keras.layers.AveragePooling2D, 11),
    ],
)
def test_reduction_parameters(reduction_type: str, pool_size: int, cls: type, side: int) -> None:
    params = {"reduction_type": reduction_type, "pool_size": pool_size}
    model = _model([[0]], [("reduction", params)], [32, 32, 3])
    assert isinstance(model.get_layer("layer1_reduction"), cls)
    assert _shape(model, "layer1_reduction") == (side, side, 3)  # ceil(32 / pool_size)


def test_pooling_values_follow_the_type() -> None:
    image = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    for reduction_type, expected in (
        ("max_pooling", [[5, 7], [13, 15]]),
        ("avg_pooling", [[2.5, 4.5], [10.5, 12.5]]),
    ):
        model = _model([[0]], [("reduction", {"reduction_type": reduction_type})], [4, 4, 1])
        pooled = keras.Model(model.input, model.get_layer("layer1_reduction").output)(image)
        np.testing.assert_allclose(np.asarray(pooled)[0, :, :, 0], expected)


# Input of 1 channel and layers of 2, 4, 8 and 16 channels: every subset of layers has a
# different channel sum, so the concatenation's width says which layers it holds.
CHANNELS = [1, 2, 4, 8, 16]


def _channel_net(skips: list[int], stride_first: bool = False) -> keras.Model:
    ops = [
        ("convolution", {"filter_size": "3", "num_filter": str(c), "stride": "1"})
        for c in CHANNELS[1:]
    ]
    if stride_first:
        ops[0] = ("convolution", {"filter_size": "3", "num_filter": "2", "stride": "2"})
    rows = [[0], [1, 0], [2, 0, 0], [3, *skips]]
    return _model(rows, ops, [8, 8, 1])


@pytest.mark.parametrize("skips", [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 1], [1, 1, 1]])
def test_skip_connections_concatenate_exactly_the_named_layers(skips: list[int]) -> None:
    model = _channel_net(skips)
    named = [i for i, bit in enumerate(skips) if bit] + [3]
    expected_channels = sum(CHANNELS[i] for i in named)
    conv = model.get_layer("layer4_convolution")
    assert conv.kernel.shape[2] == expected_channels

    if len(named) > 1:
        # The concatenated tensor holds the named layers' outputs, in order, unchanged.
        sources = [model.input] + [
            model.get_layer(f"layer{i}_convolution_bn").output for i in range(1, 4)
        ]
        probe = keras.Model(
            model.input,
            [model.get_layer("layer4_concat").output] + [sources[i] for i in named],
        )
        concat, *parts = probe(np.random.default_rng(0).random((2, 8, 8, 1), dtype="float32"))
        np.testing.assert_allclose(np.asarray(concat), np.concatenate(parts, axis=-1), rtol=1e-6)


def test_skips_from_larger_layers_are_resized_to_the_previous_layer() -> None:
    model = _channel_net([1, 1, 0], stride_first=True)
    assert _shape(model, "layer4_resize0") == (4, 4, 1)  # 8x8 input averaged down to 4x4
    assert _shape(model, "layer4_concat") == (4, 4, 1 + 2 + 8)
    image = np.ones((1, 8, 8, 1), dtype="float32")
    resized = keras.Model(model.input, model.get_layer("layer4_resize0").output)(image)
    np.testing.assert_allclose(np.asarray(resized), 1.0)


def test_every_enas_cpu_operation_builds_and_runs() -> None:
    """All 106 operations, each once, in networks of 11 layers with random skips."""
    rng = random.Random(1)
    ids = list(range(106))
    rng.shuffle(ids)
    batch = np.random.default_rng(0).random((2, 32, 32, 3), dtype="float32")
    built: set[int] = set()
    for start in range(0, 106, 11):
        chunk = ids[start : start + 11]
        rows = [[op] + [rng.randint(0, 1) for _ in range(i)] for i, op in enumerate(chunk)]
        architecture, nn_config = encode(rows, [32, 32, 3], [10])
        parsed = parse_architecture(architecture, nn_config)
        model = build_model(parsed)
        probabilities = np.asarray(model(batch))
        assert probabilities.shape == (2, 10)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
        built.update(layer.operation.op_id for layer in parsed.layers)
    assert built == {op["opt_id"] for op in enas_cpu_embedding()}


def test_enas_service_suggestions_build_run_forward_and_train() -> None:
    for num_layers, sizes in ((1, [32, 32, 3]), (4, [28, 28, 1]), (8, [32, 32, 3])):
        ((architecture, nn_config),) = service_suggestions(1, num_layers, sizes, [10], seed=2)
        model = build_model(parse_architecture(architecture, nn_config))
        images = np.random.default_rng(num_layers).random((3, *sizes), dtype="float32")
        out = np.asarray(model(images))
        assert out.shape == (3, 10) and np.isfinite(out).all()
        # One training step: every layer on the way must have a gradient.
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        assert np.isfinite(model.train_on_batch(images, np.array([0, 1, 2])))


@pytest.mark.parametrize(("side", "resize_type"), [(8, "AveragePooling2D"), (10, "Resizing")])
def test_resized_skips_from_trainable_layers_get_gradients(side: int, resize_type: str) -> None:
    """Layer 1 feeds layer 4 through a resize; gradients must flow back through it."""
    ops: list[tuple[str, dict[str, Any]]] = [
        ("convolution", {"filter_size": "3", "num_filter": "4", "stride": "1"}),
        ("convolution", {"filter_size": "3", "num_filter": "4", "stride": "2"}),
        ("reduction", {"reduction_type": "max_pooling", "pool_size": 2}),
    ]
    rows = [[0], [1, 0], [2, 0, 0], [0, 1, 1, 0]]
    model = _model(rows, ops, [side, side, 1])
    resize = model.get_layer("layer4_resize1")
    assert type(resize).__name__ == resize_type
    assert _shape(model, "layer4_resize1") == (*_shape(model, "layer3_reduction")[:2], 4)

    # The resize output depends on layer 1's kernel only through the resize itself.
    x = tf.constant(np.random.default_rng(0).random((4, side, side, 1), dtype="float32"))
    probe = keras.Model(model.input, resize.output)
    kernel = model.get_layer("layer1_convolution").kernel
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(tf.square(probe(x, training=True)))
    gradient = tape.gradient(total, kernel.value)
    assert gradient is not None and float(tf.reduce_max(tf.abs(gradient))) > 0.0

    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert np.isfinite(model.train_on_batch(x, np.arange(4)))
