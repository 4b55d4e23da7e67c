"""One converter per Keras layer class: its config to a spec statement.

A converter raises `Unsupported` with the reason when the config uses something the
language has no word for (a dilation, a 3-D input); a class without a converter is
unsupported as a whole. `MERGES` maps the merge layers to `merge` modes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from compiler.keras_graph import Node
from netspec.lowering.words import ACTIVATION_WORDS
from netspec.syntax import ast

AT = ast.Pos(0, 0)


class Unsupported(Exception):
    pass


def number(value: int | float) -> ast.Number:
    return ast.Number(value, AT)


def option(name: str, *values: int | float) -> ast.Option:
    return ast.Option(name, tuple(number(value) for value in values), AT)


def layer(
    kind: str,
    options: tuple[ast.Option, ...] = (),
    *,
    kernel: ast.Kernel | None = None,
    size: int | float | None = None,
    values: tuple[int, ...] = (),
) -> ast.LayerStmt:
    return ast.LayerStmt(
        kind,
        kernel,
        None if size is None else number(size),
        options,
        AT,
        values=tuple(number(value) for value in values),
    )


# Keras' activation names (and the words themselves) to the language's words.
ACTIVATION_NAMES = {
    **{entry.word: entry.word for entry in ACTIVATION_WORDS},
    **{entry.keras: entry.word for entry in ACTIVATION_WORDS if entry.keras != "silu"},
    "silu": "swish",
}


def activation_word(name: object) -> str:
    if not isinstance(name, str) or name not in ACTIVATION_NAMES:
        raise Unsupported(f"activation {name!r}")
    return ACTIVATION_NAMES[name]


def _pair(value: object) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    assert isinstance(value, list | tuple)
    return int(value[0]), int(value[1])


def _window(node: Node, size_key: str, stride_key: str, *, pool: bool = False) -> ast.Kernel:
    """`3x3/2`; a conv's stride 1 unwritten (a pool's unwritten stride is its window)."""
    config = node.config
    if config.get("data_format", "channels_last") != "channels_last":
        raise Unsupported("channels_first")
    if _pair(config.get("dilation_rate", 1)) != (1, 1):
        raise Unsupported("a dilated window")
    height, width = _pair(config[size_key])
    stride = _pair(config.get(stride_key) or config[size_key])
    if stride[0] != stride[1]:
        raise Unsupported(f"strides {stride}")
    written = number(stride[0]) if pool or stride[0] > 1 else None
    return ast.Kernel(number(height), number(width), written, AT)


def _conv_options(node: Node) -> tuple[ast.Option, ...]:
    config = node.config
    return (
        option(config["padding"]),
        option("bias" if config["use_bias"] else "nobias"),
        option(activation_word(config["activation"])),
    )


def _conv(node: Node) -> ast.LayerStmt:
    groups = node.config.get("groups", 1)
    extra = (option("groups", groups),) if groups != 1 else ()
    return layer(
        "conv",
        (option("nobn"), *_conv_options(node), *extra),
        kernel=_window(node, "kernel_size", "strides"),
        size=node.config["filters"],
    )


def _dwconv(node: Node) -> ast.LayerStmt:
    multiplier = node.config.get("depth_multiplier", 1)
    extra = (option("mult", multiplier),) if multiplier != 1 else ()
    return layer(
        "dwconv",
        (option("nobn"), *_conv_options(node), *extra),
        kernel=_window(node, "kernel_size", "strides"),
    )


def _sepconv(node: Node) -> ast.LayerStmt:
    if node.config.get("depth_multiplier", 1) != 1:
        raise Unsupported("a depth multiplier")
    return layer(
        "sepconv",
        (option("nobn"), *_conv_options(node)),
        kernel=_window(node, "kernel_size", "strides"),
        size=node.config["filters"],
    )


def _pool(kind: str) -> Callable[[Node], ast.LayerStmt]:
    def convert(node: Node) -> ast.LayerStmt:
        window = _window(node, "pool_size", "strides", pool=True)
        return layer(kind, (option(node.config["padding"]),), kernel=window)

    return convert


def _global_pool(kind: str, kept: str) -> Callable[[Node], ast.LayerStmt]:
    def convert(node: Node) -> ast.LayerStmt:
        if node.config.get("keepdims"):
            one = ast.Kernel(number(1), number(1), None, AT)
            return ast.LayerStmt(kept, one, None, (), AT, adaptive=True)
        return layer(kind)

    return convert


def _rank(node: Node) -> int:
    if not node.input_shapes:
        raise Unsupported("its input shape is unknown")
    return len(node.input_shapes[0])


def _dense(node: Node) -> ast.LayerStmt:
    rank = _rank(node)
    if rank not in (2, 4):
        raise Unsupported(f"a {rank - 1}-D input")
    config = node.config
    options = (
        option("bias" if config["use_bias"] else "nobias"),
        option(activation_word(config["activation"])),
    )
    return layer("dense" if rank == 2 else "pointwise", options, size=config["units"])


def _batch_norm(node: Node) -> ast.LayerStmt:
    config = node.config
    if config.get("axis") not in (-1, 3, [3], (3,), [-1]):
        raise Unsupported(f"axis {config.get('axis')}")
    options = [option("epsilon", config["epsilon"]), option("momentum", config["momentum"])]
    for name in ("scale", "center"):
        if not config.get(name, True):
            options.append(ast.Option(name, (ast.Ref("false", AT),), AT))
    return layer("bn", tuple(options))


def _activation(node: Node) -> ast.LayerStmt:
    return layer(activation_word(node.config["activation"]))


def _relu(node: Node) -> ast.LayerStmt:
    config = node.config
    if config.get("negative_slope", 0) or config.get("threshold", 0):
        raise Unsupported("a slope or threshold")
    limit = config.get("max_value")
    if limit is None:
        return layer("relu")
    if limit == 6:
        return layer("relu6")
    raise Unsupported(f"max_value {limit}")


def _dropout(node: Node) -> ast.LayerStmt:
    shape = node.config.get("noise_shape")
    per_sample = shape is not None and list(shape)[1:] == [1] * (len(shape) - 1)
    if shape is not None and not per_sample:
        raise Unsupported(f"noise_shape {shape}")
    return layer("dropout", (option("per_sample"),) if per_sample else (), size=node.config["rate"])


def _pad(node: Node) -> ast.LayerStmt:
    padding = node.config["padding"]
    (top, bottom), (left, right) = (_pair(side) for side in _pair_of_pairs(padding))
    if top == bottom == left == right:
        return layer("pad", size=top)
    return layer("pad", values=(top, bottom, left, right))


def _pair_of_pairs(value: object) -> tuple[object, object]:
    if isinstance(value, int):
        return value, value
    assert isinstance(value, list | tuple)
    return value[0], value[1]


def _flatten(node: Node) -> ast.LayerStmt:
    return layer("flatten")


def _reshape(node: Node) -> ast.LayerStmt:
    """Only a 1x1xC map to its C-vector (a classifier conv's scores) reads as a word."""
    target = list(node.config["target_shape"])
    if node.input_shapes and list(node.input_shapes[0][1:]) == [1, 1, *target]:
        return layer("flatten")
    raise Unsupported(f"target_shape {tuple(target)}")


def _rescale(node: Node) -> ast.LayerStmt:
    offset = node.config.get("offset", 0.0)
    options = (option("offset", offset),) if offset else ()
    return layer("rescale", options, size=node.config["scale"])


def _normalize(node: Node) -> ast.LayerStmt:
    """Adapted (its mean and variance are weights): `normalize`; by constants (ImageNet's, in
    keras.applications' preprocessing): `normalize mean=... variance=...`."""
    config = node.config
    if config.get("invert"):
        raise Unsupported("invert=True (it undoes a normalization)")
    if list(_flat_axis(config.get("axis"))) not in ([3], [-1]):
        raise Unsupported("not over channels")
    if config.get("mean") is None:
        return layer("normalize")
    constants = (
        option("mean", *_float32(config["mean"])),
        option("variance", *_float32(config["variance"])),
    )
    return layer("normalize", constants)


def _float32(values: object) -> tuple[float, ...]:
    """The numbers of a config's list (any shape: [1, 1, 1, C] too), each as the shortest
    decimal of its float32, which is what Keras computes with: 3409.976, not
    3409.9760250000004."""
    return tuple(float(str(np.float32(value))) for value in np.ravel(np.asarray(values, float)))


def _layernorm(node: Node) -> ast.LayerStmt:
    config = node.config
    if list(_flat_axis(config.get("axis"))) not in ([3], [-1]):
        raise Unsupported(f"axis {config.get('axis')}")
    return layer("layernorm", (option("eps", config["epsilon"]),))


def _flat_axis(axis: object) -> list[object]:
    return list(axis) if isinstance(axis, list | tuple) else [axis]


def _layer_scale(node: Node) -> ast.LayerStmt:
    return layer("layerscale", size=node.config["init_values"])


CONVERTERS: dict[str, Callable[[Node], ast.LayerStmt]] = {
    "Conv2D": _conv,
    "DepthwiseConv2D": _dwconv,
    "SeparableConv2D": _sepconv,
    "MaxPooling2D": _pool("maxpool"),
    "AveragePooling2D": _pool("avgpool"),
    "GlobalAveragePooling2D": _global_pool("gap", "avgpool"),
    "GlobalMaxPooling2D": _global_pool("gmp", "maxpool"),
    "Dense": _dense,
    "BatchNormalization": _batch_norm,
    "Activation": _activation,
    "ReLU": _relu,
    "Dropout": _dropout,
    "ZeroPadding2D": _pad,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Rescaling": _rescale,
    "Normalization": _normalize,
    "LayerNormalization": _layernorm,
    "LayerScale": _layer_scale,
}

# Merge layers and the `merge` mode each is; Concatenate only along channels. Inception-
# ResNet's CustomScaleLayer adds a scaled projection of concatenated branches to its input:
# `merge residual` (compiler.keras_import checks the projection).
MERGES = {"Add": "add", "Concatenate": "concat", "Multiply": "mul", "CustomScaleLayer": "residual"}


def merge_mode(node: Node) -> str:
    if len(node.inputs) < 2:
        raise Unsupported(f"combines one tensor with the constant(s) {node.constants}")
    if node.kind == "Concatenate" and node.config.get("axis") not in (-1, 3):
        raise Unsupported(f"concatenates along axis {node.config.get('axis')}")
    return MERGES[node.kind]
