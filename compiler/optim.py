"""Optimizers and the learning-rate schedule of the `train:` section."""

from __future__ import annotations

import math

import keras

from netspec.ir import OptimizerConfig, ScheduleConfig

# Batch norm and biases are not decayed: decaying them only fights the normalization.
NOT_DECAYED = ["bias", "gamma", "beta"]
# Without a `weight_decay` line: Keras' AdamW decays by its own default; the others do not.
DEFAULT_DECAY = {"adamw": 0.004}


def learning_rate(base: float, schedule: ScheduleConfig, epoch: float, epochs: int) -> float:
    """The rate at a fractional epoch: linear warm-up, then constant, step, cosine or poly."""
    if schedule.warmup and epoch < schedule.warmup:
        return base * (epoch + 1e-3) / schedule.warmup
    if schedule.name == "step":
        return base * schedule.gamma ** sum(epoch >= boundary for boundary in schedule.at)
    if schedule.name == "cosine":
        span = max(epochs - schedule.warmup, 1)
        progress = min(max(epoch - schedule.warmup, 0) / span, 1.0)
        return base * 0.5 * (1 + math.cos(math.pi * progress))
    if schedule.name == "poly":
        span = max(epochs - schedule.warmup, 1)
        progress = min(max(epoch - schedule.warmup, 0) / span, 1.0)
        return base * (1 - progress) ** schedule.power
    return base


def make_optimizer(
    config: OptimizerConfig, lr: float, weight_decay: float | None
) -> keras.optimizers.Optimizer:
    """Weight decay is Keras' decoupled `weight_decay` (w -= lr * decay * w each step);
    None leaves each optimizer's own default, and 0 is no decay for every optimizer."""
    if weight_decay is None:
        weight_decay = DEFAULT_DECAY.get(config.name, 0.0)
    decay = weight_decay or None  # Keras skips the decay step only for None
    if config.name == "sgd":
        optimizer = keras.optimizers.SGD(
            lr, momentum=config.momentum, nesterov=config.nesterov, weight_decay=decay
        )
    elif config.name == "adam":
        optimizer = keras.optimizers.Adam(lr, weight_decay=decay)
    elif config.name == "adamw":
        # AdamW refuses None; a decay of 0 changes no weight.
        optimizer = keras.optimizers.AdamW(lr, weight_decay=weight_decay)
    else:
        optimizer = keras.optimizers.RMSprop(lr, momentum=config.momentum, weight_decay=decay)
    if optimizer.weight_decay:
        optimizer.exclude_from_weight_decay(var_names=NOT_DECAYED)
    return optimizer
