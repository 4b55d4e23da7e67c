"""`netspec evaluate`: a trained model on its test split: top-1 and top-5 accuracy, loss,
per-class accuracy and the confusion matrix (written to the run's `evaluation.json`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from netspec.records import Evaluation


def evaluate(model: keras.Model, batches: tf.data.Dataset, classes: Sequence[str]) -> Evaluation:
    """Sums over every test batch, as training's evaluation sums them (compiler/loop.py)."""
    count = len(classes)
    loss_sum, top1_sum, top5_sum, images = 0.0, 0.0, 0.0, 0
    confusion = np.zeros((count, count), np.int64)
    for batch_images, labels in batches:
        logits = tf.cast(model(batch_images, training=False), tf.float32)
        losses = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        loss_sum += float(tf.reduce_sum(losses))
        labels = tf.cast(labels, tf.int32)
        top1_sum += float(tf.reduce_sum(tf.cast(tf.nn.in_top_k(labels, logits, 1), tf.float32)))
        top5 = tf.nn.in_top_k(labels, logits, min(5, count))
        top5_sum += float(tf.reduce_sum(tf.cast(top5, tf.float32)))
        predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
        confusion += tf.math.confusion_matrix(
            labels, predicted, num_classes=count, dtype=tf.int64
        ).numpy()
        images += int(tf.shape(labels)[0])
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return Evaluation(
        images=images,
        loss=loss_sum / max(images, 1),
        top1=top1_sum / max(images, 1),
        top5=top5_sum / max(images, 1),
        classes=tuple(classes),
        per_class_accuracy=tuple(float(a) for a in per_class),
        confusion=tuple(tuple(row) for row in confusion.tolist()),
    )


def plot_confusion(evaluation: Evaluation, path: Path) -> None:
    """The confusion matrix as a PNG (matplotlib's Agg: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    count = len(evaluation.classes)
    figure, axes = pyplot.subplots(figsize=(2 + 0.6 * count, 1.5 + 0.6 * count))
    matrix = np.asarray(evaluation.confusion)
    shown = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(shown, ax=axes, fraction=0.046)
    ticks = range(count)
    axes.set_xticks(ticks, evaluation.classes, rotation=45, ha="right")
    axes.set_yticks(ticks, evaluation.classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"top-1 {evaluation.top1:.4f} on {evaluation.images:,} images")
    if count <= 20:
        for row in ticks:
            for column in ticks:
                dark = matrix[row, column] > matrix.max() / 2
                axes.text(
                    column,
                    row,
                    str(matrix[row, column]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
