"""One custom loop for every strategy: Keras 3's `fit` fails under the multi-worker
strategy (keras-team/keras#20585), the loop TensorFlow documents does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import tensorflow as tf

from compiler.build import BuiltModels

StepResult = tuple[tf.Tensor, tf.Tensor]  # summed loss, correct predictions


@dataclass(frozen=True)
class Steps:
    train: Callable[[object], StepResult]
    evaluate: Callable[[object], tuple[tf.Tensor, tf.Tensor, tf.Tensor]]


def make_steps(
    strategy: tf.distribute.Strategy,
    models: BuiltModels,
    optimizer: keras.optimizers.Optimizer,
    classes: int,
    label_smoothing: float,
    global_batch: int,
) -> Steps:
    cross_entropy = keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=label_smoothing, reduction=None
    )
    training, inference = models.training, models.inference
    weights = (1.0, *models.aux_weights)

    def correct(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return tf.reduce_sum(tf.cast(tf.equal(predicted, tf.cast(labels, tf.int32)), tf.float32))

    def train_replica(images: tf.Tensor, labels: tf.Tensor) -> StepResult:
        targets = tf.one_hot(labels, classes)
        with tf.GradientTape() as tape:
            outputs = training(images, training=True)
            outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
            # The main loss plus each aux head's, times its weight (GoogLeNet: 0.3).
            per_example = tf.add_n(
                [w * cross_entropy(targets, o) for w, o in zip(weights, outputs, strict=True)]
            )
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        variables = training.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss, correct(labels, outputs[0])

    def eval_replica(
        images: tf.Tensor, labels: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        logits = inference(images, training=False)
        losses = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        count = tf.cast(tf.shape(labels)[0], tf.float32)
        return tf.reduce_sum(losses), correct(labels, logits), count

    def reduce(values: tuple) -> tuple:
        return tuple(strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for v in values)

    @tf.function
    def train_step(batch: object) -> StepResult:
        return reduce(strategy.run(train_replica, args=batch))

    @tf.function
    def eval_step(batch: object) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        return reduce(strategy.run(eval_replica, args=batch))

    return Steps(train=train_step, evaluate=eval_step)
