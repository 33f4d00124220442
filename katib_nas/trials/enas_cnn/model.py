"""Keras 3 network for an ENAS :class:`~.architecture.Architecture`.

Layer ``l`` of the network applies its operation to the channel concatenation of its inputs
(layer ``l - 1`` plus the skip-connected earlier layers, layer 0 being the image):

* ``convolution``: ReLU, Conv2D(num_filter, filter_size x filter_size, stride), BatchNorm
* ``separable_convolution``: ReLU, SeparableConv2D(num_filter, filter_size, stride,
  depth_multiplier), BatchNorm
* ``depthwise_convolution``: ReLU, DepthwiseConv2D(filter_size, stride, depth_multiplier),
  BatchNorm; output channels = input channels x depth_multiplier
* ``reduction``: MaxPooling2D or AveragePooling2D with a pool_size x pool_size window and
  stride pool_size

All use "same" padding, so a stride (or pool size) ``s`` maps a side of ``n`` pixels to
``ceil(n / s)``. Before concatenation, every skip input whose height or width differs from
layer ``l - 1`` is averaged down to layer ``l - 1``'s size (block averages when the sizes
divide, antialiased bilinear resizing otherwise), so the skip keeps its information instead
of being zero-padded.
The head is global average pooling and a softmax Dense layer with ``num_classes`` units.

Layers are named ``layer<l>_<op type>``, ``layer<l>_concat`` and ``layer<l>_resize<i>`` so
tests and users can find them.
"""

from __future__ import annotations

import keras

from katib_nas.trials.enas_cnn.architecture import (
    AVG_POOLING,
    CONVOLUTION,
    DEPTHWISE_CONVOLUTION,
    REDUCTION,
    SEPARABLE_CONVOLUTION,
    Architecture,
    ArchitectureError,
    Layer,
)

# Moving averages of batch norm follow the batch statistics with weight 0.1 per step (as in
# the ENAS paper's code), so that inference-mode validation is meaningful after the few
# hundred steps a short NAS trial makes; Keras' default of 0.01 needs thousands.
BN_MOMENTUM = 0.9


def build_model(architecture: Architecture) -> keras.Model:
    """Functional Keras model taking float images of ``architecture.input_sizes``."""
    image = keras.Input(shape=architecture.input_sizes, name="image")
    outputs = [image]  # outputs[l] is the output of layer l; layer 0 is the input

    for layer in architecture.layers:
        features = _gather_inputs(layer, outputs)
        outputs.append(_apply_operation(layer, features))

    pooled = keras.layers.GlobalAveragePooling2D(name="global_pool")(outputs[-1])
    probabilities = keras.layers.Dense(
        architecture.num_classes, activation="softmax", name="classifier"
    )(pooled)
    return keras.Model(image, probabilities, name="enas_cnn")


def _gather_inputs(layer: Layer, outputs: list[keras.KerasTensor]) -> keras.KerasTensor:
    """Concatenate layer ``layer.index``'s inputs along channels at the previous layer's size."""
    previous = outputs[layer.index - 1]
    if len(layer.inputs) == 1:
        return previous

    height, width = previous.shape[1], previous.shape[2]
    tensors = []
    for source in layer.inputs:
        tensor = outputs[source]
        if (tensor.shape[1], tensor.shape[2]) != (height, width):
            tensor = _resize(tensor, height, width, name=f"layer{layer.index}_resize{source}")
        tensors.append(tensor)
    return keras.layers.Concatenate(axis=-1, name=f"layer{layer.index}_concat")(tensors)


def _resize(x: keras.KerasTensor, height: int, width: int, name: str) -> keras.KerasTensor:
    """Average ``x`` down to ``height`` x ``width`` (differentiable, so skips stay trainable).

    When the sizes divide, each output pixel is the mean of a (H / height) x (W / width)
    block; otherwise an antialiased bilinear resize does the equivalent smoothing.
    """
    source_height, source_width = x.shape[1], x.shape[2]
    if source_height % height == 0 and source_width % width == 0:
        pool = (source_height // height, source_width // width)
        return keras.layers.AveragePooling2D(pool_size=pool, strides=pool, name=name)(x)
    return keras.layers.Resizing(
        height, width, interpolation="bilinear", antialias=True, name=name
    )(x)


def _apply_operation(layer: Layer, x: keras.KerasTensor) -> keras.KerasTensor:
    op = layer.operation
    name = f"layer{layer.index}_{op.op_type}"
    kernel = (op.filter_size, op.filter_size)
    strides = (op.stride, op.stride)

    if op.op_type == REDUCTION:
        pool = (
            keras.layers.AveragePooling2D
            if op.reduction_type == AVG_POOLING
            else (keras.layers.MaxPooling2D)
        )
        return pool(pool_size=op.pool_size, strides=op.pool_size, padding="same", name=name)(x)

    if op.op_type == CONVOLUTION:
        core: keras.layers.Layer = keras.layers.Conv2D(
            op.num_filter, kernel, strides=strides, padding="same", use_bias=False, name=name
        )
    elif op.op_type == SEPARABLE_CONVOLUTION:
        core = keras.layers.SeparableConv2D(
            op.num_filter,
            kernel,
            strides=strides,
            depth_multiplier=op.depth_multiplier,
            padding="same",
            use_bias=False,
            name=name,
        )
    elif op.op_type == DEPTHWISE_CONVOLUTION:
        core = keras.layers.DepthwiseConv2D(
            kernel,
            strides=strides,
            depth_multiplier=op.depth_multiplier,
            padding="same",
            use_bias=False,
            name=name,
        )
    else:
        raise ArchitectureError(f"layer {layer.index}: no builder for operation {op.op_type!r}")

    x = keras.layers.ReLU(name=f"{name}_relu")(x)
    x = core(x)
    return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
