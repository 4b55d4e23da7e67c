"""`defaults:` and `train:`: settings lines become layer attributes and a TrainConfig."""

from __future__ import annotations

import pytest

from netspec.ir import (
    Activation,
    AugmentConfig,
    BatchNorm,
    BatchNormOptions,
    Conv,
    DatasetConfig,
    OptimizerConfig,
    ScheduleConfig,
    Span,
    TrainConfig,
)
from tests.helpers import CLASSIFIER, clean, compile_spec, statement


def conv_of(body: str) -> tuple[str, str, bool, bool]:
    """(padding, activation, bias, batch norm) of the line `conv1` in a snippet: a conv alone,
    or a conv, a batch norm and an activation."""
    network = compile_spec(body + CLASSIFIER)
    nodes = [node for node in network.layers if "conv1" in (node.name, node.part_of)]
    conv = next(node for node in nodes if isinstance(node, Conv))
    norms = [node for node in nodes if isinstance(node, BatchNorm)]
    activations = [node.function for node in nodes if isinstance(node, Activation)]
    activation = (activations or ["linear"])[0] if norms else conv.activation
    return conv.padding, activation, conv.bias, bool(norms)


def test_built_in_conv_defaults_are_same_relu_and_a_bias() -> None:
    assert conv_of("conv 3x3 8\n") == ("same", "relu", True, False)
    conv = compile_spec("conv 3x3 8\n" + CLASSIFIER).by_name["conv1"]
    assert isinstance(conv, Conv)
    assert (conv.stride, conv.kernel, conv.groups) == ((1, 1), (3, 3), 1)


def test_conv_with_bn_lowers_to_a_conv_a_batch_norm_and_an_activation() -> None:
    network = compile_spec("conv 3x3 8 bn\nconv 3x3 8 bn linear\n" + CLASSIFIER)
    chain = [(node.name, node.kind, node.inputs, node.part_of) for node in network.layers[1:6]]
    assert chain == [
        ("conv1/conv", "conv", ("input",), "conv1"),
        ("conv1/bn", "bn", ("conv1/conv",), "conv1"),
        ("conv1", "activation", ("conv1/bn",), ""),
        ("conv2/conv", "conv", ("conv1",), "conv2"),
        ("conv2", "bn", ("conv2/conv",), ""),  # linear: the batch norm ends the statement
    ]


@pytest.mark.parametrize(
    ("defaults", "line", "expected"),
    [
        ("conv relu same bias", "conv 3x3 8", ("same", "relu", True, False)),
        ("conv valid linear", "conv 3x3 8", ("valid", "linear", True, False)),
        ("conv bn", "conv 3x3 8", ("same", "relu", False, True)),
        ("conv bn", "conv 3x3 8 bias", ("same", "relu", True, True)),
        ("conv bn", "conv 3x3 8 nobn", ("same", "relu", True, False)),
        ("conv nobias", "conv 3x3 8", ("same", "relu", False, False)),
        ("conv valid tanh", "conv 3x3 8 same relu", ("same", "relu", True, False)),
    ],
)
def test_conv_defaults_and_a_layer_overriding_them(
    defaults: str, line: str, expected: tuple[str, str, bool, bool]
) -> None:
    assert conv_of(f"defaults:\n  {defaults}\n{line}\n") == expected


def test_pool_padding_default_applies_to_both_pools() -> None:
    network = compile_spec(
        "defaults:\n  pool valid\nmaxpool 3x3/2\navgpool 3x3/2 same\n" + CLASSIFIER
    )
    assert network.by_name["maxpool1"].padding == "valid"
    assert network.by_name["avgpool1"].padding == "same"


def test_bn_defaults_reach_standalone_and_conv_batch_norms() -> None:
    network = compile_spec(
        "defaults:\n  conv bn\n  bn scale=false epsilon=0.001 momentum=0.9\nconv 1x1 8\nbn\n"
        + CLASSIFIER
    )
    expected = BatchNormOptions(scale=False, center=True, epsilon=1e-3, momentum=0.9)
    assert network.by_name["conv1/bn"].options == expected
    assert network.by_name["bn1"].options == expected


def test_bn_scale_false_drops_gamma_from_the_parameter_count() -> None:
    # a conv 3x3 3->16 without bias (batch norm follows), then gamma, beta, mean, variance
    default = statement(clean("defaults:\n  conv bn\nconv 3x3 16\n" + CLASSIFIER), "conv1")
    no_gamma = statement(
        clean("defaults:\n  conv bn\n  bn scale=false\nconv 3x3 16\n" + CLASSIFIER), "conv1"
    )
    assert default[1] == 3 * 3 * 3 * 16 + 4 * 16
    assert no_gamma[1] == 3 * 3 * 3 * 16 + 3 * 16


def test_dense_and_lrn_defaults() -> None:
    network = compile_spec(
        "defaults:\n  dense tanh\n  lrn size=3 alpha=0.001\n"
        "lrn beta=0.5\ngap\ndense 16\ndense classes\n"
    )
    lrn = network.by_name["lrn1"]
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.bias) == (3, 0.001, 0.5, 1.0)
    assert network.by_name["dense1"].activation == "tanh"
    # the classifier's activation came from the defaults, so it still emits logits
    assert network.by_name["dense2"].activation == "linear"


def test_lrn_defaults_are_caffes_googlenet() -> None:
    lrn = compile_spec("lrn\n" + CLASSIFIER).by_name["lrn1"]
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.bias) == (5, 1e-4, 0.75, 1.0)


CONTRACT_TRAIN = """\
train:
  dataset cifar100
  epochs 200
  batch 128
  optimizer sgd lr=0.1 momentum=0.9 nesterov
  schedule step at=60,120,160 gamma=0.2 warmup=1
  weight_decay 5e-4
  augment crop=4 flip
  label_smoothing 0.1
  resize 224
  seed 7
"""


def test_the_whole_train_section_becomes_a_train_config() -> None:
    train = compile_spec("conv 1x1 8\n" + CLASSIFIER + CONTRACT_TRAIN).train
    assert train == TrainConfig(
        dataset=DatasetConfig(name="cifar100", span=Span(line=8, column=3)),
        epochs=200,
        batch=128,
        optimizer=OptimizerConfig(name="sgd", lr=0.1, momentum=0.9, nesterov=True),
        schedule=ScheduleConfig(name="step", at=(60, 120, 160), gamma=0.2, warmup=1),
        weight_decay=5e-4,
        augment=AugmentConfig(crop=4, flip=True),
        label_smoothing=0.1,
        resize=(224, 224),
        seed=7,
    )


def test_every_setting_has_a_default() -> None:
    assert compile_spec("conv 1x1 8\n" + CLASSIFIER).train == TrainConfig()
    assert TrainConfig().optimizer == OptimizerConfig(name="sgd", lr=0.1, momentum=0.9)
    assert (TrainConfig().epochs, TrainConfig().batch, TrainConfig().dataset.name) == (
        10,
        128,
        "cifar10",
    )


@pytest.mark.parametrize(
    ("line", "dataset"),
    [
        ('dataset folder "data/images"', DatasetConfig(name="folder", path="data/images")),
        ('dataset tfrecord "shards"', DatasetConfig(name="tfrecord", path="shards")),
        ("dataset synthetic", DatasetConfig(name="synthetic")),
        ("dataset fashion_mnist", DatasetConfig(name="fashion_mnist")),
        ("dataset mnist", DatasetConfig(name="mnist")),
        ("dataset cifar10", DatasetConfig(name="cifar10")),
    ],
)
def test_datasets(line: str, dataset: DatasetConfig) -> None:
    train = compile_spec(f"conv 1x1 8\n{CLASSIFIER}train:\n  {line}\n").train
    assert train.dataset.model_copy(update={"span": None}) == dataset


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        ("optimizer adam lr=0.001", "optimizer", OptimizerConfig(name="adam", lr=0.001)),
        ("schedule cosine warmup=5", "schedule", ScheduleConfig(name="cosine", warmup=5)),
        ("augment flip=false crop=2", "augment", AugmentConfig(crop=2, flip=False)),
        (
            "augment inception_crop distort",
            "augment",
            AugmentConfig(inception_crop=True, distort=True),
        ),
        ("eval_crop 0.9", "eval_crop", 0.9),
        ("schedule poly power=0.5", "schedule", ScheduleConfig(name="poly", power=0.5)),
        ("schedule constant", "schedule", ScheduleConfig()),
    ],
)
def test_kinds_and_options(line: str, field: str, value: object) -> None:
    train = compile_spec(f"conv 1x1 8\n{CLASSIFIER}train:\n  {line}\n").train
    assert getattr(train, field) == value


def test_inception_crop_evaluates_on_the_centre_unless_told() -> None:
    def train(lines: str) -> TrainConfig:
        return compile_spec(f"conv 1x1 8\n{CLASSIFIER}train:\n{lines}").train

    assert train("  augment inception_crop\n").eval_crop == 0.875
    assert train("  augment inception_crop\n  eval_crop 1\n").eval_crop == 1
    assert train("  augment flip\n").eval_crop is None
