"""Caffe's layers to a graph of converted nodes: blobs versioned (in-place layers rewrite
their bottom), ReLU, BatchNorm and Scale folded into the conv or dense before them, and every
unsupported layer collected, so one error lists them all."""

from __future__ import annotations

from dataclasses import dataclass, field

from netspec.caffe.converters import (
    CONVERTERS,
    DROPPED,
    FOLDED,
    INPUTS,
    OLD_TYPES,
    Piece,
    Shape,
    Unsupported,
    flag,
    real,
    whole,
)
from netspec.caffe.prototxt import Message, Scalar
from netspec.diagnostics import Diagnostic, NetspecError, error

SUPPORTED = ", ".join([*CONVERTERS, *FOLDED, *INPUTS]) + (
    f"; it drops {', '.join(DROPPED)} (the loss is the trainer's)"
)


@dataclass
class Node:
    index: int
    name: str
    pieces: list[Piece]
    shape: Shape
    inputs: list[int]
    line: int = 0
    # A Concat or an Eltwise: the nodes it joins.
    merge: str | None = None
    # What folded into it last (a BatchNorm waits for its Scale).
    folded: str = ""
    consumers: list[int] = field(default_factory=list)


@dataclass
class Graph:
    nodes: list[Node]
    name: str
    # The blob the network's prediction comes from, and each loss's weight by its input.
    output: int
    loss_weights: dict[int, float]


@dataclass(frozen=True)
class Layer:
    message: Message
    kind: str
    line: int
    # Where its `type:` is written: what an error about the layer points at.
    type_at: tuple[int, int]


def _text(message: Message, name: str) -> str:
    value: Scalar | None = message.get(name, "")
    return str(value)


def _first(message: Message, name: str) -> str:
    values = message.all(name)
    return str(values[0]) if values else ""


def _layers(root: Message, file: str, phase: str) -> list[Layer]:
    layers = []
    for each in root.fields:
        if each.name not in ("layer", "layers") or not isinstance(each.value, Message):
            continue
        kind = _text(each.value, "type")
        kind = OLD_TYPES.get(kind, kind)
        phases = [
            _text(rule, "phase") for rule in each.value.all("include") if isinstance(rule, Message)
        ]
        excluded = [
            _text(rule, "phase") for rule in each.value.all("exclude") if isinstance(rule, Message)
        ]
        if (phases and phase not in phases) or phase in excluded:
            continue
        written = [(f.line, f.column) for f in each.value.fields if f.name == "type"]
        layers.append(
            Layer(each.value, kind, each.line, (written or [(each.line, each.column)])[0])
        )
    return layers


def _input_shape(root: Message, layers: list[Layer], file: str) -> tuple[str, Shape, int]:
    """The data blob and its size: `input:` with `input_dim` or `input_shape`, an Input layer,
    or a Data layer's `crop_size` (three channels)."""
    dims: list[Scalar | Message] = list(root.all("input_dim"))
    shape = root.message("input_shape")
    if not dims and shape.fields:
        dims = shape.all("dim")
    if root.get("input") is not None and len(dims) == 4:
        return _text(root, "input"), _shape(dims, file, 1), -1
    for index, layer in enumerate(layers):
        if layer.kind == "Input":
            dims = layer.message.message("input_param").message("shape").all("dim")
            return _first(layer.message, "top"), _shape(dims, file, layer.line), index
        if layer.kind == "Data":
            crop = layer.message.message("transform_param").get("crop_size")
            if not isinstance(crop, int):
                raise NetspecError(
                    error(
                        "caffe-input",
                        "the Data layer gives no crop_size, so no input size",
                        file,
                        layer.line,
                        1,
                    )
                )
            return _first(layer.message, "top"), Shape(crop, crop, 3), index
    raise NetspecError(
        error(
            "caffe-input",
            "no input: neither `input:` with four `input_dim`s nor an Input or Data layer",
            file,
            1,
            1,
        )
    )


def _shape(dims: list[Scalar | Message], file: str, line: int) -> Shape:
    if len(dims) != 4 or not all(isinstance(each, int) and each > 0 for each in dims):
        raise NetspecError(
            error(
                "caffe-input",
                "the input's shape must be four whole numbers (N, C, H, W)",
                file,
                line,
                1,
            )
        )
    _, channels, height, width = (int(each) for each in dims if isinstance(each, int))
    return Shape(height, width, channels)


def build_graph(root: Message, file: str, phase: str) -> Graph:
    layers = _layers(root, file, phase)
    data, shape, input_layer = _input_shape(root, layers, file)
    fields = [each.line for each in root.fields if each.name == "input"]
    line = layers[input_layer].line if input_layer >= 0 else (fields or [1])[0]
    nodes = [Node(0, data, [], shape, [], line)]
    blobs = {data: 0}
    problems: list[Diagnostic] = []
    losses: dict[int, float] = {}
    output: int | None = None
    broken: set[str] = set()

    def problem(layer: Layer, message: str, hint: str | None = None) -> None:
        name = _text(layer.message, "name")
        problems.append(
            error(
                "caffe-unsupported",
                f"layer '{name}' ({layer.kind}): {message}",
                file,
                *layer.type_at,
                hint=hint,
            )
        )

    def skip(inputs: list[int], tops: list[str]) -> None:
        """Read on past a layer reported as if it passed its input through, to report
        every layer at once."""
        if inputs:
            blobs.update(dict.fromkeys(tops, inputs[0]))
        else:
            broken.update(tops)

    for index, layer in enumerate(layers):
        if index == input_layer or layer.kind == "Data":
            continue
        bottoms = [str(each) for each in layer.message.all("bottom")]
        tops = [str(each) for each in layer.message.all("top")]
        if layer.kind in DROPPED:
            if bottoms and bottoms[0] in blobs:
                weight = layer.message.get("loss_weight", 1.0)
                source = blobs[bottoms[0]]
                losses[source] = float(weight) if isinstance(weight, int | float) else 1.0
                output = source
            continue
        missing = [each for each in bottoms if each not in blobs]
        if missing:
            # A blob of a layer already reported is not reported again.
            if not broken.intersection(missing):
                problem(layer, f"no layer before it makes '{missing[0]}'")
            broken.update(tops)
            continue
        inputs = [blobs[each] for each in bottoms]
        if layer.kind in FOLDED:
            if not inputs or _fold(layer, nodes[inputs[0]], bottoms, tops):
                continue
            if layer.kind == "Scale":
                problem(
                    layer,
                    "a Scale not right after a BatchNorm, or without `bias_term: true`",
                    hint="netspec's batch norm learns a scale and a shift per channel",
                )
                skip(inputs, tops)
                continue
            word = "relu" if layer.kind == "ReLU" else "bn"
            pieces, out = [Piece(word)], nodes[inputs[0]].shape
        elif layer.kind in CONVERTERS:
            try:
                pieces, out = CONVERTERS[layer.kind](
                    layer.message, [nodes[i].shape for i in inputs]
                )
            except Unsupported as reason:
                problem(layer, str(reason))
                skip(inputs, tops)
                continue
        else:
            problem(layer, "no netspec counterpart", hint=f"netspec imports {SUPPORTED}")
            skip(inputs, tops)
            continue
        node = Node(len(nodes), _text(layer.message, "name"), pieces, out, inputs, layer.line)
        if layer.kind in ("Concat", "Eltwise"):
            node.merge = pieces[0].word
            node.pieces = []
        if pieces[-1].word == "bn" and layer.kind == "BatchNorm":
            node.folded = "BatchNorm"
        nodes.append(node)
        for each in inputs:
            nodes[each].consumers.append(node.index)
        for top in tops:
            blobs[top] = node.index
    if problems:
        raise NetspecError(problems)
    name = _text(root, "name")
    return Graph(nodes, name, output if output is not None else len(nodes) - 1, losses)


def _fold(layer: Layer, node: Node, bottoms: list[str], tops: list[str]) -> bool:
    """ReLU, BatchNorm and Scale computed in place on a conv's or dense's output become its
    options; true when it folded."""
    if bottoms != tops or node.consumers:
        return False
    last = node.pieces[-1] if node.pieces else None
    attributes = last.attributes if last is not None and last.word in ("conv", "dense") else None
    if layer.kind == "ReLU" and (node.merge == "add" or attributes is not None):
        if node.merge == "add":
            if node.folded == "relu":
                return False
            node.folded = "relu"
            return True
        assert attributes is not None
        if attributes["activation"] != "linear":
            return False
        if real(layer.message.message("relu_param"), "negative_slope", 0.0) != 0.0:
            return False
        attributes["activation"] = "relu"
        return True
    if layer.kind == "BatchNorm" and attributes is not None:
        if attributes["batch_norm"] or attributes["activation"] != "linear":
            return False
        attributes["batch_norm"] = True
        node.folded = "BatchNorm"
        return True
    if layer.kind == "Scale" and node.folded == "BatchNorm":
        params = layer.message.message("scale_param")
        # A batch norm here always learns its beta, which a Scale has with its bias only.
        if not flag(params, "bias_term", False) or whole(params, "axis", 1) != 1:
            return False
        node.folded = "Scale"
        return True
    return False
