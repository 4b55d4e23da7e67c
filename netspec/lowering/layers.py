"""Lowering one layer statement to its IR nodes, with the spec's `defaults:` applied.

Each layer word's entry (`netspec.lowering.words`) names one of these functions. Most
statements are one node. A conv-like or dense statement with `bn` is three: the layer
without activation, a batch norm and the activation, named `NAME/conv`, `NAME/bn` and
`NAME` (the statement's own name stays on the node that ends it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from netspec.diagnostics import Diagnostic, warning
from netspec.ir import (
    Activation,
    BatchNorm,
    BatchNormOptions,
    Dropout,
    LayerBase,
    LayerScale,
    LocalResponseNorm,
    Normalize,
    Padding,
    Rescale,
    ZeroPad,
)
from netspec.lowering.values import Resolver, unknown_option
from netspec.syntax import ast

if TYPE_CHECKING:
    from netspec.lowering.words import Option, Word


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


ATTRIBUTE_FIELDS = tuple(each.name for each in dataclasses.fields(Attributes))


@dataclass(frozen=True)
class Defaults:
    """What a layer gets when it says nothing: Inception-style `same` padding and relu."""

    conv: Attributes = Attributes()
    pool_padding: Padding = "same"
    dense: Attributes = Attributes()
    batch_norm: BatchNormOptions = field(default_factory=BatchNormOptions.model_construct)
    lrn: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Site:
    """Where a statement is lowered: the fields every node of it shares (name, inputs, span,
    section, role, aux), the spec's defaults, and whether it ends a head (the network's or
    an aux head's), whose output the training loss takes as logits."""

    common: dict[str, Any]
    defaults: Defaults
    resolver: Resolver
    ends_head: bool
    warnings: list[Diagnostic]


def read_options(
    options: tuple[ast.Option, ...], known: tuple[Option, ...], resolver: Resolver, where: str
) -> dict[str, Any]:
    """The attribute each option sets and its value; a later option overrides an earlier."""
    values: dict[str, Any] = {}
    for option in options:
        spec = next((each for each in known if each.name == option.name), None)
        if spec is None or (spec.reading == "flag" and option.values):
            raise unknown_option(resolver, option, where, [each.label for each in known])
        values[spec.field] = _read(option, spec, resolver)
    return values


def _read(option: ast.Option, spec: Option, resolver: Resolver) -> Any:
    if spec.reading == "flag":
        return spec.value
    if spec.reading == "boolean":
        return resolver.boolean(option)
    if spec.reading == "numbers":
        return resolver.numbers(option)
    value = resolver.single(option)
    if spec.reading == "whole":
        return resolver.positive_int(value, spec.name)
    if spec.reading == "fraction":
        return resolver.fraction(value, spec.name)
    if spec.reading == "number":
        return float(resolver.number(value))
    return resolver.positive(value, spec.name)


def with_attributes(base: Attributes, values: dict[str, Any]) -> Attributes:
    return replace(base, **{key: values[key] for key in ATTRIBUTE_FIELDS if key in values})


def _window(
    kernel: ast.Kernel, resolver: Resolver, default_stride: int | None
) -> tuple[tuple[int, int], tuple[int, int]]:
    window = _sides(kernel, resolver, "a kernel side")
    if kernel.stride is not None:
        # A module parameter may stand for the stride (`3x3/s`).
        stride = resolver.positive_int(kernel.stride, "a stride")
        return window, (stride, stride)
    if default_stride is None:
        return window, window
    return window, (default_stride, default_stride)


def _sides(kernel: ast.Kernel, resolver: Resolver, what: str) -> tuple[int, int]:
    """A kernel's or grid's height and width: numbers, or computed (`(k)x(k)`)."""
    return resolver.positive_int(kernel.height, what), resolver.positive_int(kernel.width, what)


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


def _pad(statement: ast.LayerStmt, resolver: Resolver) -> tuple[int, int, int, int]:
    """`pad 3` on every side, or `pad 0,1,0,1`: top, bottom, left, right."""
    values = statement.values
    if len(values) not in (1, 4):
        raise resolver.fail(
            "invalid-value",
            "pad takes one size, or four: top, bottom, left, right (`pad 0,1,0,1`)",
            statement.pos,
        )
    sizes = [resolver.whole(value, "a pad", least=0) for value in values]
    top, bottom, left, right = sizes * 4 if len(sizes) == 1 else sizes
    return top, bottom, left, right


def _numbers(statement: ast.LayerStmt, entry: Word, site: Site) -> dict[str, Any]:
    """The statement's number argument (`64` in `conv 3x3 64`) under the entry's field."""
    fields: dict[str, Any] = {}
    for argument in entry.arguments:
        if argument.reading == "number":
            assert statement.size is not None
            what = f"{entry.word} {argument.name}"
            fields[argument.field] = site.resolver.positive_int(statement.size, what)
    return fields


def windowed(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    """A convolution: a window, the conv options, a width if it takes one, its own options."""
    values = read_options(statement.options, entry.options, site.resolver, entry.word)
    chosen = with_attributes(site.defaults.conv, values)
    own = {key: value for key, value in values.items() if key not in ATTRIBUTE_FIELDS}
    assert statement.kernel is not None and entry.layer is not None
    kernel, stride = _window(statement.kernel, site.resolver, default_stride=1)
    fields = {"kernel": kernel, "stride": stride, "padding": chosen.padding}
    fields |= _numbers(statement, entry, site) | own
    return _chain(site.common, _normalized(entry.word, entry.layer, fields, chosen, site.defaults))


def dense(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    """A dense layer (on a vector, or `pointwise` at every position of a map); the one that
    ends a head emits logits whatever `defaults:` says, since training applies softmax in
    the loss."""
    values = read_options(statement.options, entry.options, site.resolver, entry.word)
    chosen = with_attributes(site.defaults.dense, values)
    if site.ends_head:
        named = [
            option
            for option in statement.options
            if (spec := entry.option(option.name)) and spec.field == "activation"
        ]
        if named and chosen.activation != "linear":
            _logits_warning(site, chosen.activation, named[-1].pos)
        else:
            chosen = replace(chosen, activation="linear")
    assert entry.layer is not None
    fields = _numbers(statement, entry, site)
    return _chain(site.common, _normalized(entry.word, entry.layer, fields, chosen, site.defaults))


def activation(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    _no_options(statement, entry, site)
    if site.ends_head and entry.word != "linear":
        _logits_warning(site, entry.word, statement.pos)
    return [Activation.model_construct(**site.common, function=entry.word)]


def _logits_warning(site: Site, function: str, pos: ast.Pos) -> None:
    what = f"aux head '{site.common['aux']}'" if site.common.get("aux") else "the network"
    site.warnings.append(
        warning(
            "logits-activation",
            f"`{function}` acts on the logits that end {what}: training applies softmax to "
            "them in the loss",
            site.resolver.file,
            pos.line,
            pos.column,
            hint=f"drop `{function}`: the head emits logits without it",
        )
    )


def pool(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    """A window pool (`maxpool 3x3/2`), or an adaptive one (`maxpool to 4x4`)."""
    resolver, kernel = site.resolver, statement.kernel
    assert kernel is not None and entry.layer is not None and entry.adaptive is not None
    if statement.adaptive:
        if kernel.stride is not None:
            raise resolver.fail(
                "invalid-value", "pool to a grid like 4x4, without a stride", kernel.pos
            )
        grid = _sides(kernel, resolver, "a grid side")
        return [entry.adaptive.model_construct(**{**site.common, "grid": grid})]
    # Without `/S` a pool steps by its window, as Keras' pooling layers do.
    window, stride = _window(kernel, resolver, default_stride=None)
    values = read_options(statement.options, entry.options, resolver, entry.word)
    padding = values.get("padding", site.defaults.pool_padding)
    fields = {"window": window, "stride": stride, "padding": padding}
    return [entry.layer.model_construct(**site.common, **fields)]


def dropout(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    """Element-wise, or `per_sample`: the whole example at once (stochastic depth)."""
    assert statement.size is not None
    rate = site.resolver.fraction(statement.size, "a dropout rate")
    values = read_options(statement.options, entry.options, site.resolver, entry.word)
    return [Dropout.model_construct(**site.common, rate=rate, **values)]


def rescale(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    """`rescale 1/255 offset=-1`: x * scale + offset, any finite numbers."""
    assert statement.size is not None
    scale = float(site.resolver.number(statement.size))
    values = read_options(statement.options, entry.options, site.resolver, entry.word)
    return [Rescale.model_construct(**site.common, scale=scale, **values)]


def layer_scale(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    """`layerscale 1e-6`: each channel's learnt scale starts at the number."""
    _no_options(statement, entry, site)
    assert statement.size is not None
    initial = site.resolver.positive(statement.size, "a layer scale's initial value")
    return [LayerScale.model_construct(**site.common, initial=initial)]


def normalize(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    """`normalize` alone: Keras' adapted Normalization; with `mean=` and `variance=`, both
    constants (Keras takes both or neither)."""
    resolver = site.resolver
    values = read_options(statement.options, entry.options, resolver, entry.word)
    if ("mean" in values) != ("variance" in values):
        missing = "variance" if "mean" in values else "mean"
        raise resolver.fail(
            "invalid-value",
            f"normalize by constants takes both mean= and variance=, but {missing}= is missing",
            statement.pos,
            hint=f"add `{missing}=`, or drop both: `normalize` alone is adapted by Keras",
        )
    for option in statement.options:
        if option.name == "variance":
            for value in option.values:
                resolver.non_negative(value, "a variance")
    return [Normalize.model_construct(**site.common, **values)]


def configured(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    """A word that takes only options, each an attribute of its node (`layernorm eps=1e-6`)."""
    values = read_options(statement.options, entry.options, site.resolver, entry.word)
    assert entry.layer is not None
    return [entry.layer.model_construct(**site.common, **values)]


def pad(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    top, bottom, left, right = _pad(statement, site.resolver)
    return [ZeroPad.model_construct(**site.common, top=top, bottom=bottom, left=left, right=right)]


def batch_norm(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    values = read_options(statement.options, entry.options, site.resolver, entry.word)
    options = site.defaults.batch_norm.model_copy(update=values)
    return [BatchNorm.model_construct(**site.common, options=options)]


def lrn(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    values = read_options(statement.options, entry.options, site.resolver, entry.word)
    return [LocalResponseNorm.model_construct(**site.common, **{**site.defaults.lrn, **values})]


def plain(statement: ast.LayerStmt, entry: Word, site: Site) -> list[LayerBase]:
    """A word alone (`gap`, `flatten`); `identity` makes no layer."""
    _no_options(statement, entry, site)
    return [entry.layer.model_construct(**site.common)] if entry.layer else []


def _no_options(statement: ast.LayerStmt, entry: Word, site: Site) -> None:
    if statement.options:
        raise site.resolver.fail(
            "unknown-option", f"{entry.word} takes no options", statement.options[0].pos
        )
