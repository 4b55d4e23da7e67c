"""Where a run is: the epoch, the step within it, the images seen, and the epoch's running
sums, kept as variables so a checkpoint taken mid-epoch carries them."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf


def _counter() -> tf.Variable:
    return tf.Variable(0, dtype=tf.int64, trainable=False)


def _sum() -> tf.Variable:
    return tf.Variable(0.0, dtype=tf.float64, trainable=False)


@dataclass(frozen=True)
class Position:
    epoch_variable: tf.Variable  # epochs completed
    step_variable: tf.Variable  # optimizer steps done in the current epoch
    images_variable: tf.Variable  # training images seen by the whole run
    loss_sum: tf.Variable  # the current epoch's summed batch losses
    correct_sum: tf.Variable  # the current epoch's correct predictions
    seconds_variable: tf.Variable  # the current epoch's training time so far

    @classmethod
    def zero(cls) -> Position:
        return cls(_counter(), _counter(), _counter(), _sum(), _sum(), _sum())

    def variables(self) -> dict[str, tf.Variable]:
        """The names under which a checkpoint stores them."""
        return {
            "epoch": self.epoch_variable,
            "step": self.step_variable,
            "images_seen": self.images_variable,
            "epoch_loss_sum": self.loss_sum,
            "epoch_correct_sum": self.correct_sum,
            "epoch_seconds": self.seconds_variable,
        }

    @property
    def epoch(self) -> int:
        return int(self.epoch_variable.numpy())

    @property
    def step(self) -> int:
        return int(self.step_variable.numpy())

    @property
    def images_seen(self) -> int:
        return int(self.images_variable.numpy())

    def advance(self, steps: int, images: int, loss: float, correct: float) -> None:
        self.step_variable.assign_add(steps)
        self.images_variable.assign_add(images)
        self.loss_sum.assign_add(loss)
        self.correct_sum.assign_add(correct)

    def next_epoch(self) -> None:
        self.epoch_variable.assign_add(1)
        self.step_variable.assign(0)
        self.loss_sum.assign(0.0)
        self.correct_sum.assign(0.0)
        self.seconds_variable.assign(0.0)
