"""One layer statement to its IR nodes, with the spec's `defaults:` applied.

Most statements are one node. A conv, dwconv, sepconv or dense with `bn` is three: the
layer without activation, a batch norm and the activation, named `NAME/conv`, `NAME/bn` and
`NAME` (the statement's own name stays on the node that ends it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from netspec.ir import (
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    BatchNorm,
    BatchNormOptions,
    Conv,
    Dense,
    DepthwiseConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GlobalMaxPool,
    LayerBase,
    LocalResponseNorm,
    MaxPool,
    Padding,
    SeparableConv,
    ZeroPad,
)
from netspec.lowering.values import LARGEST_SIZE, Resolver, unknown_option
from netspec.syntax import ast

# Keras activation names a spec may use, as an option or as a layer of its own.
ACTIVATIONS = (
    "relu", "relu6", "linear", "sigmoid", "tanh", "elu", "selu", "gelu", "silu", "swish",
    "softplus", "mish", "leaky_relu", "hard_sigmoid", "hard_swish", "softmax",
)  # fmt: skip
PADDINGS: tuple[Padding, ...] = ("same", "valid")
# A word from a fixed set of choices (`same`/`valid`).
Choice = TypeVar("Choice", bound=str)
# Layer words with nothing after them, beside `identity` and the activations.
PLAIN_LAYERS = ("gap", "gmp", "flatten", "bn", "lrn")


@dataclass(frozen=True)
class Attributes:
    """What a conv-like or dense statement says about padding, activation, bn and bias."""

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

    conv: Attributes = Attributes()
    pool_padding: Padding = "same"
    dense: Attributes = Attributes()
    batch_norm: BatchNormOptions = field(default_factory=BatchNormOptions.model_construct)
    lrn: Mapping[str, Any] = field(default_factory=dict)


_FLAGS = ("bn", "nobn", "bias", "nobias", *ACTIVATIONS)


def attributes(
    options: tuple[ast.Option, ...],
    base: Attributes,
    resolver: Resolver,
    where: str,
    valued: tuple[str, ...] = (),
) -> Attributes:
    """Read the flag options of `where`; `valued` names its `key=N` options (read elsewhere)
    for the error message. Padding is a conv's only."""
    paddings = PADDINGS if where != "dense" else ()
    known = [*paddings, *_FLAGS, *(f"{name}=N" for name in valued)]
    result = base
    for option in options:
        name = option.name
        if option.values:
            raise unknown_option(resolver, option, where, known)
        if name in paddings:
            result = replace(result, padding=name)
        elif name in ACTIVATIONS:
            result = replace(result, activation=name)
        elif name in ("bn", "nobn"):
            result = replace(result, batch_norm=name == "bn")
        elif name in ("bias", "nobias"):
            result = replace(result, bias=name == "bias")
        else:
            raise unknown_option(resolver, option, where, known)
    return result


def choice_option(
    options: tuple[ast.Option, ...],
    default: Choice,
    choices: tuple[Choice, ...],
    resolver: Resolver,
    where: str,
) -> Choice:
    """The last of `options`, each of which must be a bare flag from `choices`."""
    chosen = default
    for option in options:
        if option.name not in choices or option.values:
            raise unknown_option(resolver, option, where, list(choices))
        chosen = choices[choices.index(option.name)]
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
    if max(kernel.height, kernel.width) > LARGEST_SIZE:
        raise resolver.fail(
            "invalid-value", f"a kernel or stride must be at most {LARGEST_SIZE:,}", kernel.pos
        )
    if kernel.stride is not None:
        # A module parameter may stand for the stride (`3x3/s`).
        stride = resolver.positive_int(kernel.stride, "a stride")
        return (kernel.height, kernel.width), (stride, stride)
    if default_stride is None:
        return (kernel.height, kernel.width), (kernel.height, kernel.width)
    return (kernel.height, kernel.width), (default_stride, default_stride)


def _valued(
    options: tuple[ast.Option, ...], names: tuple[str, ...]
) -> tuple[tuple[ast.Option, ...], dict[str, ast.Option]]:
    """Split `key=N` options named in `names` from the flags."""
    valued = {o.name: o for o in options if o.name in names and o.values}
    return tuple(o for o in options if o.name not in valued), valued


def _counted(options: dict[str, ast.Option], name: str, resolver: Resolver, what: str) -> int:
    """A `key=N` option's whole number, 1 when absent; 0 or less is `invalid-value`."""
    option = options.get(name)
    return 1 if option is None else resolver.positive_int(resolver.single(option), what)


Part = tuple[str, type[LayerBase], dict[str, Any]]


def _chain(common: dict[str, Any], parts: list[Part]) -> list[LayerBase]:
    """One statement's nodes, each reading the one before; the last carries its name."""
    name, inputs = common["name"], common["inputs"]
    written_as = parts[0][0] if len(parts) > 1 else ""
    nodes: list[LayerBase] = []
    for index, (suffix, kind, fields) in enumerate(parts):
        last = index == len(parts) - 1
        node_name = name if last else f"{name}/{suffix}"
        place = {"name": node_name, "inputs": inputs, "part_of": "" if last else name}
        nodes.append(
            kind.model_construct(**{**common, **place, "written_as": written_as}, **fields)
        )
        inputs = (node_name,)
    return nodes


def _normalized(
    suffix: str,
    kind: type[LayerBase],
    fields: dict[str, Any],
    chosen: Attributes,
    defaults: Defaults,
) -> list[Part]:
    """The layer alone (its activation inside it), or with `bn`: the layer without
    activation, the batch norm, then the activation unless it is linear."""
    fields = {**fields, "bias": chosen.resolved_bias}
    if not chosen.batch_norm:
        return [(suffix, kind, {**fields, "activation": chosen.activation})]
    parts: list[Part] = [
        (suffix, kind, {**fields, "activation": "linear"}),
        ("bn", BatchNorm, {"options": defaults.batch_norm}),
    ]
    if chosen.activation != "linear":
        parts.append(("activation", Activation, {"function": chosen.activation}))
    return parts


def _conv_like(statement: ast.LayerStmt, defaults: Defaults, resolver: Resolver) -> list[Part]:
    """conv, dwconv and sepconv: a window, the conv options, and their own `key=N` options."""
    kind = statement.kind
    valued_names = {"conv": ("groups",), "dwconv": ("mult",), "sepconv": ()}[kind]
    flags, valued = _valued(statement.options, valued_names)
    chosen = attributes(flags, defaults.conv, resolver, kind, valued_names)
    assert statement.kernel is not None
    kernel, stride = _window(statement.kernel, resolver, default_stride=1)
    fields: dict[str, Any] = {"kernel": kernel, "stride": stride, "padding": chosen.padding}
    layer: type[LayerBase]
    if kind == "conv":
        assert statement.size is not None
        layer = Conv
        fields["filters"] = resolver.positive_int(statement.size, "conv filters")
        fields["groups"] = _counted(valued, "groups", resolver, "groups")
    elif kind == "dwconv":
        layer = DepthwiseConv
        fields["multiplier"] = _counted(valued, "mult", resolver, "mult")
    else:
        assert statement.size is not None
        layer = SeparableConv
        fields["filters"] = resolver.positive_int(statement.size, "sepconv filters")
    return _normalized(kind, layer, fields, chosen, defaults)


def _pad(statement: ast.LayerStmt, resolver: Resolver) -> tuple[int, int, int, int]:
    """`pad 3` on every side, or `pad 0,1,0,1`: top, bottom, left, right."""
    values = statement.values
    if len(values) not in (1, 4):
        raise resolver.fail(
            "invalid-value",
            "pad takes one size, or four: top, bottom, left, right (`pad 0,1,0,1`)",
            statement.pos,
        )
    sizes = []
    for value in values:
        number = resolver.number(value)
        if (isinstance(number, float) and not number.is_integer()) or number < 0:
            raise resolver.fail(
                "invalid-value", f"a pad must be a whole number >= 0, not {number}", value.pos
            )
        sizes.append(int(number))
    top, bottom, left, right = sizes * 4 if len(sizes) == 1 else sizes
    return top, bottom, left, right


def build_layer(
    statement: ast.LayerStmt, common: dict[str, Any], defaults: Defaults, resolver: Resolver
) -> list[LayerBase]:
    """`common` holds name, inputs, span, section, role and aux, the same for every kind."""
    kind, options = statement.kind, statement.options
    if kind in ("conv", "dwconv", "sepconv"):
        return _chain(common, _conv_like(statement, defaults, resolver))
    if kind in ("maxpool", "avgpool") and statement.adaptive:
        assert statement.kernel is not None
        grid = (statement.kernel.height, statement.kernel.width)
        if min(grid) < 1 or statement.kernel.stride is not None:
            raise resolver.fail(
                "invalid-value", "pool to a grid like 4x4, without a stride", statement.kernel.pos
            )
        adaptive = AdaptiveMaxPool if kind == "maxpool" else AdaptiveAvgPool
        return [adaptive.model_construct(**common, grid=grid)]
    if kind in ("maxpool", "avgpool"):
        assert statement.kernel is not None
        # Without `/S` a pool steps by its window, as Keras' pooling layers do.
        window, stride = _window(statement.kernel, resolver, default_stride=None)
        pool = MaxPool if kind == "maxpool" else AvgPool
        padding = choice_option(options, defaults.pool_padding, PADDINGS, resolver, kind)
        return [pool.model_construct(**common, window=window, stride=stride, padding=padding)]
    if kind == "dense":
        assert statement.size is not None
        chosen = attributes(options, defaults.dense, resolver, "dense")
        units = resolver.positive_int(statement.size, "dense units")
        return _chain(common, _normalized("dense", Dense, {"units": units}, chosen, defaults))
    if kind == "dropout":
        assert statement.size is not None
        return [
            Dropout.model_construct(
                **common, rate=resolver.fraction(statement.size, "a dropout rate")
            )
        ]
    if kind == "pad":
        top, bottom, left, right = _pad(statement, resolver)
        return [ZeroPad.model_construct(**common, top=top, bottom=bottom, left=left, right=right)]
    if kind == "bn":
        return [
            BatchNorm.model_construct(
                **common, options=batch_norm_options(options, defaults.batch_norm, resolver)
            )
        ]
    if kind == "lrn":
        return [
            LocalResponseNorm.model_construct(
                **common, **{**defaults.lrn, **lrn_options(options, resolver)}
            )
        ]
    if options:
        raise resolver.fail("unknown-option", f"{kind} takes no options", options[0].pos)
    if kind in ACTIVATIONS:
        return [Activation.model_construct(**common, function=kind)]
    plain: dict[str, type[LayerBase]] = {
        "gap": GlobalAvgPool,
        "gmp": GlobalMaxPool,
        "flatten": Flatten,
    }
    return [plain[kind].model_construct(**common)]
