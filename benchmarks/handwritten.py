"""Hand-written Keras 3 models of specs/googlenet.ns and specs/cifar_trimmed.ns.

This is the hand-written baseline that benchmarks/train.py measures netspec's generated
models against: the same networks (same convs, pools, shapes, parameter counts, activations,
dropout rates and batch-norm settings) written the way an experienced Keras user would,
with no help from netspec. It deliberately imports nothing from `netspec` or `compiler`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf
from keras import layers

Tensor = keras.KerasTensor


class LRN(layers.Layer):
    """Caffe's across-channel LRN: x / (bias + alpha/size * sum over `size` channels x^2)^beta."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, **kwargs: Any):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta = size, alpha, beta

    def call(self, x: tf.Tensor) -> tf.Tensor:
        radius, alpha = (self.size - 1) // 2, self.alpha / self.size  # Caffe divides by size
        y = tf.nn.local_response_normalization(
            tf.cast(x, tf.float32), radius, bias=1.0, alpha=alpha, beta=self.beta
        )
        return tf.cast(y, x.dtype)  # no bfloat16 kernel: compute in float32

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape


# --- GoogLeNet (Szegedy et al. 2015, Table 1): biased convs + ReLU, no batch norm --------


def conv(x: Tensor, filters: int, kernel: int, strides: int = 1) -> Tensor:
    return layers.Conv2D(filters, kernel, strides=strides, padding="same", activation="relu")(x)


def inception(x: Tensor, n1: int, r3: int, n3: int, r5: int, n5: int, pool: int) -> Tensor:
    b1 = conv(x, n1, 1)
    b2 = conv(conv(x, r3, 1), n3, 3)
    b3 = conv(conv(x, r5, 1), n5, 5)
    b4 = conv(layers.MaxPooling2D(3, strides=1, padding="same")(x), pool, 1)
    return layers.Concatenate()([b1, b2, b3, b4])


def aux_head(x: Tensor, classes: int, name: str) -> Tensor:
    x = layers.AveragePooling2D(5, strides=3, padding="valid")(x)  # 14x14 -> 4x4
    x = layers.Flatten()(conv(x, 128, 1))
    x = layers.Dropout(0.7)(layers.Dense(1024, activation="relu")(x))
    return layers.Dense(classes, name=name)(x)  # logits


def max_pool(x: Tensor) -> Tensor:
    return layers.MaxPooling2D(3, strides=2, padding="same")(x)


def googlenet(classes: int = 1000) -> keras.Model:
    """Training model: outputs [main_logits, aux1_logits, aux2_logits]."""
    inputs = keras.Input((224, 224, 3))
    x = LRN()(max_pool(conv(inputs, 64, 7, strides=2)))
    x = max_pool(LRN()(conv(conv(x, 64, 1), 192, 3)))
    x = inception(x, 64, 96, 128, 16, 32, 32)  # 3a
    x = max_pool(inception(x, 128, 128, 192, 32, 96, 64))  # 3b
    x = inception(x, 192, 96, 208, 16, 48, 64)  # 4a
    aux1 = aux_head(x, classes, "aux1")
    x = inception(x, 160, 112, 224, 24, 64, 64)  # 4b
    x = inception(x, 128, 128, 256, 24, 64, 64)  # 4c
    x = inception(x, 112, 144, 288, 32, 64, 64)  # 4d
    aux2 = aux_head(x, classes, "aux2")
    x = max_pool(inception(x, 256, 160, 320, 32, 128, 128))  # 4e
    x = inception(x, 256, 160, 320, 32, 128, 128)  # 5a
    x = inception(x, 384, 192, 384, 48, 128, 128)  # 5b
    x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
    logits = layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, [logits, aux1, aux2], name="googlenet_training")


def googlenet_inference(training: keras.Model) -> keras.Model:
    """The same layers (and weights) as `training`, main output only."""
    return keras.Model(training.inputs, training.outputs[0], name="googlenet")


# --- GoogLeNet trimmed for CIFAR-100: conv + BN + ReLU, 5x5 as two 3x3 -----------------


def conv_bn_relu(x: Tensor, filters: int, kernel: int) -> Tensor:
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.99)(x)
    return layers.ReLU()(x)


def cifar_block(x: Tensor, n1: int, r3: int, n3: int, r5: int, n5: int, pool: int) -> Tensor:
    b1 = conv_bn_relu(x, n1, 1)
    b2 = conv_bn_relu(conv_bn_relu(x, r3, 1), n3, 3)
    b3 = conv_bn_relu(conv_bn_relu(conv_bn_relu(x, r5, 1), n5, 3), n5, 3)
    b4 = conv_bn_relu(layers.MaxPooling2D(3, strides=1, padding="same")(x), pool, 1)
    return layers.Concatenate()([b1, b2, b3, b4])


CIFAR_STAGES = [
    [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64)],  # 3a-3b, 32x32
    [
        (192, 96, 208, 16, 48, 64),  # 4a-4e, 16x16
        (160, 112, 224, 24, 64, 64),
        (128, 128, 256, 24, 64, 64),
        (112, 144, 288, 32, 64, 64),
        (256, 160, 320, 32, 128, 128),
    ],
    [(256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)],  # 5a-5b, 8x8
]


def cifar_trimmed(classes: int = 100) -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for filters in (64, 64, 192):
        x = conv_bn_relu(x, filters, 3)
    for i, stage in enumerate(CIFAR_STAGES):
        if i:
            x = max_pool(x)
        for widths in stage:
            x = cifar_block(x, *widths)
    x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
    logits = layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, logits, name="cifar_trimmed")


HANDWRITTEN: dict[str, Callable[[int], keras.Model]] = {
    "googlenet": googlenet,
    "cifar_trimmed": cifar_trimmed,
}
