"""One layer statement to one IR layer, with the spec's `defaults:` applied."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from netspec.ir import (
    AvgPool,
    BatchNorm,
    BatchNormOptions,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    LocalResponseNorm,
    MaxPool,
)
from netspec.ir.layers import LayerBase
from netspec.lowering.values import LARGEST_SIZE, Resolver, unknown_option
from netspec.syntax import ast

# Keras activation names a spec may use.
ACTIVATIONS = (
    "relu", "relu6", "linear", "sigmoid", "tanh", "elu", "selu", "gelu", "silu", "swish",
    "softplus", "mish", "leaky_relu",
)  # fmt: skip
PADDINGS = ("same", "valid")


@dataclass(frozen=True)
class ConvAttributes:
    padding: str = "same"
    activation: str = "relu"
    batch_norm: bool = False
    bias: bool | None = None  # None: a bias unless batch norm follows

    @property
    def resolved_bias(self) -> bool:
        return (not self.batch_norm) if self.bias is None else self.bias


@dataclass(frozen=True)
class Defaults:
    """What a layer gets when it says nothing: Inception-style `same` padding and relu."""

    conv: ConvAttributes = ConvAttributes()
    pool_padding: str = "same"
    dense_activation: str = "relu"
    batch_norm: BatchNormOptions = field(default_factory=BatchNormOptions)
    lrn: Mapping[str, Any] = field(default_factory=dict)


def conv_attributes(
    options: tuple[ast.Option, ...], base: ConvAttributes, resolver: Resolver
) -> ConvAttributes:
    attributes = base
    for option in options:
        if option.values:
            raise unknown_option(resolver, option, "conv", _CONV_OPTIONS)
        name = option.name
        if name in PADDINGS:
            attributes = replace(attributes, padding=name)
        elif name in ACTIVATIONS:
            attributes = replace(attributes, activation=name)
        elif name in ("bn", "nobn"):
            attributes = replace(attributes, batch_norm=name == "bn")
        elif name in ("bias", "nobias"):
            attributes = replace(attributes, bias=name == "bias")
        else:
            raise unknown_option(resolver, option, "conv", _CONV_OPTIONS)
    return attributes


_CONV_OPTIONS = [*PADDINGS, "bn", "nobn", "bias", "nobias", *ACTIVATIONS]


def choice_option(
    options: tuple[ast.Option, ...],
    default: str,
    choices: tuple[str, ...],
    resolver: Resolver,
    where: str,
) -> str:
    """The last of `options`, each of which must be a bare flag from `choices`."""
    chosen = default
    for option in options:
        if option.name not in choices or option.values:
            raise unknown_option(resolver, option, where, list(choices))
        chosen = option.name
    return chosen


def batch_norm_options(
    options: tuple[ast.Option, ...], base: BatchNormOptions, resolver: Resolver
) -> BatchNormOptions:
    update: dict[str, Any] = {}
    for option in options:
        if option.name in ("scale", "center"):
            update[option.name] = resolver.boolean(option)
        elif option.name == "epsilon":
            update["epsilon"] = resolver.positive(resolver.single(option), "epsilon")
        elif option.name == "momentum":
            update["momentum"] = resolver.fraction(resolver.single(option), "momentum")
        else:
            raise unknown_option(resolver, option, "bn", ["scale", "center", "epsilon", "momentum"])
    return base.model_copy(update=update)


def lrn_options(options: tuple[ast.Option, ...], resolver: Resolver) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for option in options:
        if option.name == "size":
            values["size"] = resolver.positive_int(resolver.single(option), "lrn size")
        elif option.name in ("alpha", "beta", "bias"):
            values[option.name] = resolver.positive(resolver.single(option), option.name)
        else:
            raise unknown_option(resolver, option, "lrn", ["size", "alpha", "beta", "bias"])
    return values


def _window(
    kernel: ast.Kernel, resolver: Resolver, default_stride: int | None
) -> tuple[tuple[int, int], tuple[int, int]]:
    if kernel.height < 1 or kernel.width < 1:
        raise resolver.fail("invalid-value", "a kernel must be at least 1x1", kernel.pos)
    if max(kernel.height, kernel.width, kernel.stride or 1) > LARGEST_SIZE:
        raise resolver.fail(
            "invalid-value", f"a kernel or stride must be at most {LARGEST_SIZE:,}", kernel.pos
        )
    stride = kernel.stride if kernel.stride is not None else default_stride
    if stride is None:
        stride_hw = (kernel.height, kernel.width)
    elif stride < 1:
        raise resolver.fail("invalid-value", "a stride must be at least 1", kernel.pos)
    else:
        stride_hw = (stride, stride)
    return (kernel.height, kernel.width), stride_hw


def build_layer(
    statement: ast.LayerStmt, common: dict[str, Any], defaults: Defaults, resolver: Resolver
) -> LayerBase:
    """`common` holds name, inputs, span, section, role and aux, the same for every kind."""
    kind, options = statement.kind, statement.options
    if kind == "conv":
        assert statement.kernel is not None and statement.size is not None
        kernel, stride = _window(statement.kernel, resolver, default_stride=1)
        attributes = conv_attributes(options, defaults.conv, resolver)
        return Conv(
            **common,
            kernel=kernel,
            stride=stride,
            filters=resolver.positive_int(statement.size, "conv filters"),
            padding=attributes.padding,
            activation=attributes.activation,
            bias=attributes.resolved_bias,
            batch_norm=defaults.batch_norm if attributes.batch_norm else None,
        )
    if kind in ("maxpool", "avgpool"):
        assert statement.kernel is not None
        # Without `/S` a pool steps by its window, as Keras' pooling layers do.
        window, stride = _window(statement.kernel, resolver, default_stride=None)
        pool = MaxPool if kind == "maxpool" else AvgPool
        padding = choice_option(options, defaults.pool_padding, PADDINGS, resolver, kind)
        return pool(**common, window=window, stride=stride, padding=padding)
    if kind == "dense":
        assert statement.size is not None
        return Dense(
            **common,
            units=resolver.positive_int(statement.size, "dense units"),
            activation=choice_option(
                options, defaults.dense_activation, ACTIVATIONS, resolver, "dense"
            ),
        )
    if kind == "dropout":
        assert statement.size is not None
        return Dropout(**common, rate=resolver.fraction(statement.size, "a dropout rate"))
    if kind == "bn":
        return BatchNorm(
            **common, options=batch_norm_options(options, defaults.batch_norm, resolver)
        )
    if kind == "lrn":
        return LocalResponseNorm(**common, **{**defaults.lrn, **lrn_options(options, resolver)})
    if options:
        raise resolver.fail("unknown-option", f"{kind} takes no options", options[0].pos)
    if kind == "gap":
        return GlobalAvgPool(**common)
    if kind == "flatten":
        return Flatten(**common)
    raise AssertionError(f"the grammar produced an unknown layer kind {kind!r}")
