"""`netspec import caffe`: a Caffe deploy (and train_val) prototxt to a readable spec."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netspec.caffe.converters import Piece
from netspec.caffe.graph import Graph, build_graph
from netspec.caffe.modules import with_modules
from netspec.caffe.prototxt import read_prototxt
from netspec.caffe.structure import HERE, Structurer, name_of
from netspec.lowering.layers import Attributes
from netspec.syntax import ast
from netspec.syntax.printer import print_spec

# What a dense says when the spec says nothing.
DENSE_DEFAULTS = {
    name: getattr(Attributes(), name) for name in ("padding", "activation", "batch_norm")
}


def import_caffe(deploy: Path, train_val: Path | None = None) -> str:
    """The spec, as text: the network of `deploy`, or with `train_val` its training graph
    (the aux heads with their loss weights)."""
    root = read_prototxt(deploy.read_text(encoding="utf-8"), str(deploy))
    graph = build_graph(root, str(deploy), "TEST")
    sources = [deploy.name]
    if train_val is not None:
        graph = build_graph(
            read_prototxt(train_val.read_text(encoding="utf-8"), str(train_val)),
            str(train_val),
            "TRAIN",
        )
        sources.append(train_val.name)
    name = graph.name or deploy.stem
    return print_spec(_spec(graph, name, str(train_val or deploy), " and ".join(sources)))


@dataclass(frozen=True)
class Defaults:
    conv: dict[str, Any]
    # Whether the defaults line names the bias (else a conv has one unless batch norm follows).
    conv_bias: bool | None
    pool_padding: str


def _majority(values: list[Any], fallback: Any) -> Any:
    return Counter(values).most_common(1)[0][0] if values else fallback


def _defaults(graph: Graph) -> Defaults:
    pieces = [piece for node in graph.nodes for piece in node.pieces]
    convs = [piece.attributes for piece in pieces if piece.word == "conv"]
    conv = {
        name: _majority(
            [each[name] for each in convs if each[name] is not None], DENSE_DEFAULTS[name]
        )
        for name in ("padding", "activation", "batch_norm")
    }
    bias = _majority([each["bias"] for each in convs], True)
    pools = [
        piece.attributes["padding"]
        for piece in pieces
        if piece.word.endswith("pool") and piece.attributes["padding"] is not None
    ]
    return Defaults(
        conv, None if bias == (not conv["batch_norm"]) else bias, _majority(pools, "same")
    )


def _flag(name: str) -> ast.Option:
    return ast.Option(name, (), HERE)


def _number(value: int | float) -> ast.Number:
    return ast.Number(value, HERE)


def _attribute_options(
    attributes: dict[str, Any], defaults: dict[str, Any], bias: bool | None
) -> list[ast.Option]:
    options = []
    if attributes["padding"] not in (None, defaults["padding"]):
        options.append(_flag(attributes["padding"]))
    if attributes["batch_norm"] != defaults["batch_norm"]:
        options.append(_flag("bn" if attributes["batch_norm"] else "nobn"))
    expected_bias = (not attributes["batch_norm"]) if bias is None else bias
    if attributes["bias"] != expected_bias:
        options.append(_flag("bias" if attributes["bias"] else "nobias"))
    if attributes["activation"] != defaults["activation"]:
        options.append(_flag(attributes["activation"]))
    if attributes.get("groups", 1) != 1:
        options.append(ast.Option("groups", (_number(attributes["groups"]),), HERE))
    return options


def _renderer(defaults: Defaults) -> Callable[[Piece], ast.LayerStmt]:
    def render(piece: Piece) -> ast.LayerStmt:
        kernel = None
        if piece.kernel is not None:
            height, width, stride = piece.kernel
            # A pool without a stride strides by its window; a conv, by 1.
            written = None if stride == 1 and piece.word == "conv" else _number(stride)
            kernel = ast.Kernel(_number(height), _number(width), written, HERE)
        options: list[ast.Option] = []
        if piece.word == "conv":
            options = _attribute_options(piece.attributes, defaults.conv, defaults.conv_bias)
        elif piece.word == "dense":
            options = _attribute_options(piece.attributes, DENSE_DEFAULTS, None)
        elif piece.word.endswith("pool") and piece.attributes["padding"] not in (
            None,
            defaults.pool_padding,
        ):
            options = [_flag(piece.attributes["padding"])]
        options += [
            ast.Option(name, tuple(_number(value) for value in values), HERE)
            for name, values in piece.options
        ]
        size = None if piece.size is None else _number(piece.size)
        return ast.LayerStmt(
            piece.word,
            kernel,
            size,
            tuple(options),
            HERE,
            values=tuple(_number(value) for value in piece.values),
        )

    return render


def _as_head(statements: list[ast.Statement], classes: int) -> list[ast.Statement]:
    """The dense that ends a head writes `classes` and no activation: the loss takes logits."""
    if not statements or not isinstance(statements[-1], ast.LayerStmt):
        return statements
    last = statements[-1]
    if last.kind != "dense":
        return statements
    size = last.size
    if isinstance(size, ast.Number) and size.value == classes:
        size = ast.Ref("classes", HERE)
    options = tuple(option for option in last.options if option.name != "linear")
    return [*statements[:-1], last._replace(size=size, options=options)]


def _spec(graph: Graph, name: str, file: str, sources: str) -> ast.Spec:
    defaults = _defaults(graph)
    structurer = Structurer(graph, file, _renderer(defaults), defaults.pool_padding)
    walked = structurer.walk(0)
    if walked.merge is not None:
        join = graph.nodes[walked.merge]
        raise structurer.fail(join, "it joins a blob with others that do not branch from it")
    classes = graph.nodes[graph.output].shape.channels
    modules, statements = with_modules(walked.statements, structurer.join_names)
    body = [
        each._replace(body=tuple(_as_head(list(each.body), classes)))
        if isinstance(each, ast.AuxStmt)
        else each
        for each in _as_head(statements, classes)
    ]
    shape = graph.nodes[0].shape
    conv_line = [_flag(defaults.conv["padding"])]
    if defaults.conv["batch_norm"]:
        conv_line.append(_flag("bn"))
    if defaults.conv_bias is not None:
        conv_line.append(_flag("bias" if defaults.conv_bias else "nobias"))
    conv_line.append(_flag(defaults.conv["activation"]))
    settings = ast.SettingsBlock(
        "defaults",
        (
            ast.SettingLine("conv", tuple(conv_line), HERE),
            ast.SettingLine("pool", (_flag(defaults.pool_padding),), HERE),
        ),
        HERE,
    )
    header = ast.Comment(f"# Imported from {sources} by `netspec import caffe`.", HERE, True)
    return ast.Spec(
        (
            ast.NetworkStmt(name_of(name).lower(), HERE),
            ast.InputStmt(shape.height, shape.width, shape.channels, HERE),
            ast.ClassesStmt(_number(classes), HERE),
            settings,
            *modules,
            *body,
        ),
        (header,),
    )
