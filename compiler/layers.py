"""Layers Keras lacks, registered so saved models load wherever netspec is installed.

A `.keras` file holding one of them loads in a process that has imported this module
(`import compiler.layers`): Keras' loader imports no module a file names, for safety.
"""

from __future__ import annotations

from typing import Any, Literal

import keras
import tensorflow as tf

from netspec.ir.pools import adaptive_windows


@keras.saving.register_keras_serializable(package="netspec")
class LocalResponseNormalization(keras.layers.Layer):
    """Caffe's across-channel LRN (GoogLeNet v1): x / (bias + alpha/size * sum(x^2))^beta.

    Caffe divides alpha by the window size; TensorFlow does not, so the division is here.
    """

    def __init__(
        self,
        size: int = 5,
        alpha: float = 1e-4,
        beta: float = 0.75,
        bias: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.bias = size, alpha, beta, bias

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        # TensorFlow's LRN has float32 and float16 kernels only: under a bfloat16 policy the
        # layer computes in float32 and hands back the policy's dtype.
        normalized = tf.nn.local_response_normalization(
            tf.cast(inputs, tf.float32),
            depth_radius=(self.size - 1) // 2,
            bias=self.bias,
            alpha=self.alpha / self.size,
            beta=self.beta,
        )
        return tf.cast(normalized, inputs.dtype)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "size": self.size,
            "alpha": self.alpha,
            "beta": self.beta,
            "bias": self.bias,
        }


@keras.saving.register_keras_serializable(package="netspec")
class AdaptivePooling2D(keras.layers.Layer):
    """Max or average pooling to a fixed grid over PyTorch's windows, the IR's own
    `adaptive_windows`: for the grids with a side of 1, which Keras' adaptive pooling cannot
    trace. Rows then columns: a window's max (or mean, all windows of a row being as wide)
    is the max (mean) of its rows' maxima (means)."""

    def __init__(
        self, grid: tuple[int, int], pooling: Literal["max", "avg"], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.grid, self.pooling = (int(grid[0]), int(grid[1])), pooling

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        reduce = keras.ops.max if self.pooling == "max" else keras.ops.mean
        pooled = inputs
        for axis, cells in ((1, self.grid[0]), (2, self.grid[1])):
            before = (slice(None),) * axis
            pooled = keras.ops.concatenate(
                [
                    reduce(pooled[(*before, slice(start, end))], axis=axis, keepdims=True)
                    for start, end in adaptive_windows(pooled.shape[axis], cells)
                ],
                axis=axis,
            )
        return pooled

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], *self.grid, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "grid": self.grid, "pooling": self.pooling}


@keras.saving.register_keras_serializable(package="netspec")
class LayerScale(keras.layers.Layer):
    """ConvNeXt's LayerScale (the class keras.applications.convnext defines for itself):
    x * gamma, one learnt gamma per channel, each starting at `initial`."""

    def __init__(self, initial: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.initial = initial

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.gamma = self.add_weight(
            name="gamma",
            shape=(input_shape[-1],),
            initializer=keras.initializers.Constant(self.initial),
            trainable=True,
        )

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return inputs * self.gamma

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "initial": self.initial}
