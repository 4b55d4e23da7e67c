"""The layer words: one entry per word a layer statement starts with.

An entry holds what the front end knows of its word: the arguments before its options, its
options and how each is read, the function that lowers it, the IR class it lowers to, and
for an activation the Keras name. The lowering, "did you mean", the language server's
completion, the Pygments lexer, the Keras builder's activations and the table in
docs/language.md all read this table; adding a word is adding its entry
(docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from netspec.ir import (
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    BatchNorm,
    Conv,
    Dense,
    DepthwiseConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GlobalMaxPool,
    LayerBase,
    LayerNorm,
    LayerScale,
    LocalResponseNorm,
    MaxPool,
    Normalize,
    Pointwise,
    Rescale,
    SeparableConv,
    ZeroPad,
)
from netspec.lowering import layers as lowering
from netspec.syntax import ast

# How an option's value is read: a bare word, or `name=value` checked as a whole number
# >= 1, a number > 0, a fraction in [0, 1), any number, true/false (bare means true), or
# `name=1,2,3`: any numbers, one or more.
Reading = Literal["flag", "whole", "positive", "fraction", "number", "boolean", "numbers"]


@dataclass(frozen=True)
class Option:
    name: str
    reading: Reading
    # The attribute it sets (`padding`, `activation`, `groups`), and a flag's value for it.
    field: str
    value: object = None
    # The word's own: a `defaults:` line for the word's kind cannot set it (`groups=`).
    own: bool = False

    @property
    def label(self) -> str:
        """As completion offers it: `valid`, `groups=`."""
        return self.name if self.reading == "flag" else f"{self.name}="


@dataclass(frozen=True)
class Argument:
    """A word before the options: a window (`3x3/2`), a whole number (`64`, `classes`), or
    a number its word's lowering reads (`1/255`, `1e-6`)."""

    name: str
    reading: Literal["window", "number", "numbers", "real"]
    # The IR field a number sets (`filters`, `units`).
    field: str = ""


Lowering = Callable[[ast.LayerStmt, "Word", lowering.Site], list[LayerBase]]


@dataclass(frozen=True)
class Word:
    word: str
    meaning: str
    lower: Lowering
    # The IR class it lowers to; None for a word that passes its input on (`identity`).
    layer: type[LayerBase] | None
    arguments: tuple[Argument, ...] = ()
    options: tuple[Option, ...] = ()
    # `maxpool to 4x4`: the class of the pool to a fixed grid.
    adaptive: type[LayerBase] | None = None
    # The `defaults:` line that sets this word's options when it says nothing.
    defaults: str = ""
    # An activation's name in Keras (`keras.activations.get`).
    keras: str = ""

    def option(self, name: str) -> Option | None:
        return next((option for option in self.options if option.name == name), None)

    @property
    def is_activation(self) -> bool:
        return bool(self.keras)


def _activation(word: str, keras: str | None = None) -> Word:
    return Word(
        word,
        "an activation layer",
        lowering.activation,
        Activation,
        keras=keras or word,
    )


# Keras 3 spells two of them otherwise (`swish` and `hard_swish` are its aliases).
ACTIVATION_WORDS = tuple(
    _activation(*names)
    for names in (
        ("relu",), ("relu6",), ("linear",), ("sigmoid",), ("tanh",), ("elu",), ("selu",),
        ("gelu",), ("silu",), ("swish", "silu"), ("softplus",), ("mish",), ("leaky_relu",),
        ("hard_sigmoid",), ("hard_swish", "hard_silu"), ("softmax",),
    )
)  # fmt: skip
ACTIVATIONS = tuple(word.word for word in ACTIVATION_WORDS)

PADDINGS = ("same", "valid")
PADDING = tuple(Option(name, "flag", "padding", name) for name in PADDINGS)
NORM_AND_BIAS = (
    Option("bn", "flag", "batch_norm", True),
    Option("nobn", "flag", "batch_norm", False),
    Option("bias", "flag", "bias", True),
    Option("nobias", "flag", "bias", False),
)
ACTIVATION = tuple(Option(name, "flag", "activation", name) for name in ACTIVATIONS)
DENSE_OPTIONS = (*NORM_AND_BIAS, *ACTIVATION)
CONV_OPTIONS = (*PADDING, *DENSE_OPTIONS)

WINDOW = Argument("KxK/S", "window")

LAYER_WORDS: dict[str, Word] = {
    entry.word: entry
    for entry in (
        Word(
            "conv",
            "convolution; with `bn`, batch norm follows and the conv drops its bias",
            lowering.windowed,
            Conv,
            (WINDOW, Argument("filters", "number", "filters")),
            (*CONV_OPTIONS, Option("groups", "whole", "groups", own=True)),
            defaults="conv",
        ),
        Word(
            "dwconv",
            "depthwise convolution: `mult` filters per input channel",
            lowering.windowed,
            DepthwiseConv,
            (WINDOW,),
            (*CONV_OPTIONS, Option("mult", "whole", "multiplier", own=True)),
            defaults="conv",
        ),
        Word(
            "sepconv",
            "separable convolution: depthwise, then pointwise",
            lowering.windowed,
            SeparableConv,
            (WINDOW, Argument("filters", "number", "filters")),
            CONV_OPTIONS,
            defaults="conv",
        ),
        Word(
            "maxpool",
            "max pooling; `maxpool to 4x4` pools to a fixed grid",
            lowering.pool,
            MaxPool,
            (WINDOW,),
            PADDING,
            adaptive=AdaptiveMaxPool,
            defaults="pool",
        ),
        Word(
            "avgpool",
            "average pooling; `avgpool to 4x4` pools to a fixed grid",
            lowering.pool,
            AvgPool,
            (WINDOW,),
            PADDING,
            adaptive=AdaptiveAvgPool,
            defaults="pool",
        ),
        Word(
            "dense",
            "fully connected, on a vector",
            lowering.dense,
            Dense,
            (Argument("units", "number", "units"),),
            DENSE_OPTIONS,
            defaults="dense",
        ),
        Word(
            "pointwise",
            "a dense at every position of a map (Keras Dense on a 4-D tensor)",
            lowering.dense,
            Pointwise,
            (Argument("units", "number", "units"),),
            DENSE_OPTIONS,
            defaults="dense",
        ),
        Word(
            "dropout",
            "dropout, rate in [0, 1): each value alone, or each example whole (`per_sample`)",
            lowering.dropout,
            Dropout,
            (Argument("rate", "number", "rate"),),
            (Option("per_sample", "flag", "per_sample", True),),
        ),
        Word(
            "pad",
            "zero padding: every side, or top, bottom, left, right",
            lowering.pad,
            ZeroPad,
            (Argument("sizes", "numbers"),),
        ),
        Word("gap", "global average pooling", lowering.plain, GlobalAvgPool),
        Word("gmp", "global max pooling", lowering.plain, GlobalMaxPool),
        Word("flatten", "the map becomes a vector of H*W*C", lowering.plain, Flatten),
        Word(
            "bn",
            "batch normalization",
            lowering.batch_norm,
            BatchNorm,
            options=(
                Option("scale", "boolean", "scale"),
                Option("center", "boolean", "center"),
                Option("epsilon", "positive", "epsilon"),
                Option("momentum", "fraction", "momentum"),
            ),
            defaults="bn",
        ),
        Word(
            "lrn",
            "local response normalization across channels (Caffe's)",
            lowering.lrn,
            LocalResponseNorm,
            options=(
                Option("size", "whole", "size"),
                Option("alpha", "positive", "alpha"),
                Option("beta", "positive", "beta"),
                Option("bias", "positive", "bias"),
            ),
            defaults="lrn",
        ),
        Word(
            "normalize",
            "Keras Normalization over channels: a mean, a variance and a count, not trained; "
            "with `mean=` and `variance=`, those constants",
            lowering.normalize,
            Normalize,
            options=(
                Option("mean", "numbers", "mean"),
                Option("variance", "numbers", "variance"),
            ),
        ),
        Word(
            "layernorm",
            "layer normalization over channels (Keras LayerNormalization)",
            lowering.configured,
            LayerNorm,
            options=(Option("eps", "positive", "epsilon"),),
        ),
        Word(
            "layerscale",
            "a learnt scale per channel, starting at the number (ConvNeXt)",
            lowering.layer_scale,
            LayerScale,
            (Argument("initial", "real"),),
        ),
        Word(
            "rescale",
            "x * scale + offset (Keras Rescaling): `rescale 1/255`",
            lowering.rescale,
            Rescale,
            (Argument("scale", "real"),),
            (Option("offset", "number", "offset"),),
        ),
        Word("identity", "passes its input on: a shortcut branch", lowering.plain, None),
        *ACTIVATION_WORDS,
    )
}

# Where a layer may stand, these words start statements that expand to layers too.
SHORTHAND_WORDS = ("inception",)
# Every word that starts a layer statement: what "did you mean" and completion offer.
STATEMENT_WORDS = (*LAYER_WORDS, *SHORTHAND_WORDS)
# The grammar's own words (netspec.lark) besides the layer words; only the block words
# start a line inside a block.
BLOCK_WORDS = ("branch", "merge", "repeat", "aux")
TOP_LEVEL_WORDS = ("network", "input", "classes", "defaults", "train", "module")
SECTION_WORDS = ("stem", "stage", "head")
STRUCTURE_WORDS = (*TOP_LEVEL_WORDS, *SECTION_WORDS, *BLOCK_WORDS, *SHORTHAND_WORDS, "to")


def keras_activation(word: str) -> str:
    """The Keras name of an activation word the lowering accepted."""
    return LAYER_WORDS[word].keras


def defaults_options(key: str) -> tuple[Option, ...]:
    """The options a `defaults:` line for `key` sets: those its words share."""
    words = [entry for entry in LAYER_WORDS.values() if entry.defaults == key]
    if not words:
        return ()
    shared = set.intersection(*({option.name for option in entry.options} for entry in words))
    return tuple(option for option in words[0].options if option.name in shared and not option.own)


def reference_table() -> str:
    """The table of layer words in docs/language.md, as the registry writes it."""
    rows = ["| word | arguments | options | meaning |", "|---|---|---|---|"]
    for entry in LAYER_WORDS.values():
        if entry.is_activation:
            continue
        arguments = " ".join(f"`{argument.name}`" for argument in entry.arguments) or "none"
        options = _options_text(entry.options)
        rows.append(f"| `{entry.word}` | {arguments} | {options} | {entry.meaning} |")
    return "\n".join(rows)


def _options_text(options: tuple[Option, ...]) -> str:
    parts: list[str] = []
    for option in options:
        if option.field == "activation":
            if "an activation" not in parts:
                parts.append("an activation")
        else:
            parts.append(f"`{option.label}`")
    return ", ".join(parts) or "none"


def activation_table() -> str:
    """The activation words and the Keras activation each builds, for docs/language.md."""
    rows = ["| word | Keras activation |", "|---|---|"]
    rows += [f"| `{entry.word}` | `{entry.keras}` |" for entry in ACTIVATION_WORDS]
    return "\n".join(rows)
