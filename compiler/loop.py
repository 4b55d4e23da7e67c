"""One custom loop for every strategy: Keras 3's `fit` fails under the multi-worker
strategy (keras-team/keras#20585), the loop TensorFlow documents does not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import keras
import tensorflow as tf

from compiler.build import BuiltModels

StepResult = tuple[tf.Tensor, tf.Tensor]  # summed loss, correct predictions


@dataclass(frozen=True)
class Steps:
    # train(iterator, count) runs `count` optimizer steps in one call (steps per execution).
    train: Callable[[Iterator[object], tf.Tensor], StepResult]
    evaluate: Callable[[object], tuple[tf.Tensor, tf.Tensor, tf.Tensor]]


def make_steps(
    strategy: tf.distribute.Strategy,
    models: BuiltModels,
    optimizer: keras.optimizers.Optimizer,
    classes: int,
    label_smoothing: float,
    global_batch: int,
    jit_compile: bool = False,
) -> Steps:
    cross_entropy = keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=label_smoothing, reduction=None
    )
    training, inference = models.training, models.inference
    weights = (1.0, *models.aux_weights)
    scales_loss = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

    def correct(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return tf.reduce_sum(tf.cast(tf.equal(predicted, tf.cast(labels, tf.int32)), tf.float32))

    def logits_of(outputs: object) -> list[tf.Tensor]:
        # Under a mixed-precision policy the logits are bfloat16/float16: the loss is not.
        listed = outputs if isinstance(outputs, list | tuple) else [outputs]
        return [tf.cast(o, tf.float32) for o in listed]

    def train_replica(images: tf.Tensor, labels: tf.Tensor) -> StepResult:
        targets = tf.one_hot(labels, classes)
        with tf.GradientTape() as tape:
            outputs = logits_of(training(images, training=True))
            # The main loss plus each aux head's, times its weight (GoogLeNet: 0.3).
            per_example = tf.add_n(
                [w * cross_entropy(targets, o) for w, o in zip(weights, outputs, strict=True)]
            )
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            scaled = optimizer.scale_loss(loss) if scales_loss else loss
        variables = training.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables, strict=True))
        return loss, correct(labels, outputs[0])

    def eval_replica(
        images: tf.Tensor, labels: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        (logits,) = logits_of(inference(images, training=False))
        losses = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        count = tf.cast(tf.shape(labels)[0], tf.float32)
        return tf.reduce_sum(losses), correct(labels, logits), count

    if jit_compile:
        # XLA compiles each replica's step; the cross-replica reduction stays outside it.
        train_replica = tf.function(train_replica, jit_compile=True)
        eval_replica = tf.function(eval_replica, jit_compile=True)

    def reduce(values: tuple) -> tuple:
        return tuple(strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for v in values)

    @tf.function
    def train_steps(iterator: Iterator[object], count: tf.Tensor) -> StepResult:
        total_loss, total_correct = tf.constant(0.0), tf.constant(0.0)
        for _ in tf.range(count):
            loss, right = reduce(strategy.run(train_replica, args=next(iterator)))
            total_loss, total_correct = total_loss + loss, total_correct + right
        return total_loss, total_correct

    @tf.function
    def eval_step(batch: object) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        return reduce(strategy.run(eval_replica, args=batch))

    return Steps(train=train_steps, evaluate=eval_step)
