"""The `train:` section: every setting has a default and a command-line override."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from netspec.ir.base import Frozen, Span

DatasetName = Literal[
    "cifar10", "cifar100", "mnist", "fashion_mnist", "folder", "tfrecord", "synthetic"
]
# Datasets read from disk as a stream of files rather than loaded into memory.
FILE_DATASETS = ("folder", "tfrecord")


class DatasetConfig(Frozen):
    name: DatasetName = "cifar10"
    path: str | None = None
    span: Span | None = None


class OptimizerConfig(Frozen):
    name: Literal["sgd", "adam", "adamw", "rmsprop"] = "sgd"
    lr: float = Field(0.1, gt=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    nesterov: bool = False


class ScheduleConfig(Frozen):
    """Learning-rate schedule by epoch: `step` multiplies by `gamma` at each epoch in `at`;
    `poly` is Caffe's: base * (1 - progress) ** power."""

    name: Literal["constant", "step", "cosine", "poly"] = "constant"
    at: tuple[int, ...] = ()
    gamma: float = Field(0.1, gt=0)
    warmup: int = Field(0, ge=0)
    power: float = Field(1.0, gt=0)


class AugmentConfig(Frozen):
    crop: int = Field(0, ge=0)
    flip: bool = False
    # Random-resized crop (Szegedy et al. 2015, section 6): 8%-100% of the area, aspect
    # 3/4-4/3, resized to the input, mirrored at random.
    inception_crop: bool = False
    # Random brightness, contrast, saturation and hue (TF-slim's Inception preprocessing).
    distort: bool = False


class TrainConfig(Frozen):
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    epochs: int = Field(10, ge=1)
    batch: int = Field(128, ge=1)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    # None: the optimizer's own default (AdamW's 0.004, none for the others); 0: no decay.
    weight_decay: float | None = Field(None, ge=0)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    # Upscale every image to this H x W before the network (the CIFAR-at-224 experiment).
    resize: tuple[int, int] | None = None
    # Evaluation resizes so the input is this fraction of the image, then crops the centre
    # (0.875: 224 of 256, the usual ImageNet protocol); None resizes the whole image.
    eval_crop: float | None = Field(None, gt=0, le=1)
    seed: int = Field(0, ge=0)
