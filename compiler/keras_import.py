"""`netspec import keras`: a Keras model as a spec.

A .keras file is read as the archive's `config.json` and nothing else: no layer is
deserialized, so no code its config names (a Lambda, a custom class) runs; this is
stricter than `keras.saving.load_model(safe_mode=True)`, which still instantiates every
registered class. A `keras.applications` name is built with `weights=None` and read through
`get_config()`. The graph becomes sequences and `branch:` groups (compiler.keras_graph),
each layer a statement (compiler.keras_layers); a conv or dense followed by batch norm
and an activation becomes one `conv ... bn relu`. Every layer the language cannot write is
listed at once.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from compiler.keras_graph import Graph, GraphError, Group, Node, Sequence, read_graph, structure
from compiler.keras_layers import (
    AT,
    CONVERTERS,
    MERGES,
    Unsupported,
    layer,
    merge_mode,
    number,
    option,
)
from compiler.keras_modules import modules
from netspec.lowering.words import LAYER_WORDS
from netspec.syntax import ast
from netspec.syntax.printer import print_spec

# Statements a following batch norm and activation fold into.
FOLDS_INTO = ("conv", "dwconv", "sepconv")
ACTIVATION_CLASSES = ("Activation", "ReLU")
# A branch of at most this many statements is written as one chain on its `branch:` line.
CHAIN = 3


class ImportFailed(Exception):
    """What stops an import: `problems` lists every layer the language cannot write."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


# The size keras.applications builds at when its input is left open (MobileNetV3, ConvNeXt).
APPLICATION_SIZE = 224


def model_config(source: str) -> dict[str, Any]:
    """The config of a .keras file, or of a keras.applications model built without weights
    (at 224x224 where it leaves its input size open)."""
    if source.endswith(".keras"):
        try:
            with zipfile.ZipFile(source) as archive:
                entry = json.loads(archive.read("config.json"))
        except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise ImportFailed(f"cannot read {source} as a .keras archive: {exc}") from None
        if entry.get("class_name") not in ("Functional", "Sequential", "Model"):
            raise ImportFailed(f"{source} holds a {entry.get('class_name')}, not a model graph")
        config: dict[str, Any] = entry["config"]
        return config
    return application(source).get_config()  # type: ignore[no-any-return]


def application(name: str) -> Any:
    """keras.applications' model `name`, built without weights (at 224x224 where it leaves
    its input size open)."""
    import keras

    constructor = getattr(keras.applications, name, None)
    if not name[:1].isupper() or not callable(constructor):
        raise ImportFailed(f"{name} is neither a .keras file nor a keras.applications model")
    model = constructor(weights=None)
    if None in _input_shape(read_graph(model.get_config()))[1:3]:
        model = constructor(weights=None, input_shape=(APPLICATION_SIZE, APPLICATION_SIZE, 3))
    return model


def _input_shape(graph: Graph) -> tuple[int | None, ...]:
    config = graph.nodes[graph.input].config
    return tuple(config.get("batch_shape") or config["batch_input_shape"])


def import_spec(config: dict[str, Any]) -> ast.Spec:
    """The spec of a model config; the unsupported layers are listed before the graph's
    shape is judged, so a Lambda is named even where the branches do not merge."""
    try:
        graph = read_graph(config)
    except GraphError as exc:
        raise ImportFailed(str(exc)) from None
    except (KeyError, IndexError, TypeError) as exc:
        raise ImportFailed(f"not a model config as Keras writes one: {exc!r}") from None
    _check(graph)
    try:
        items = structure(graph)
    except GraphError as exc:
        raise ImportFailed(str(exc)) from None
    return _Writer(graph).spec(items)


def _check(graph: Graph) -> None:
    """Every layer converts, or ImportFailed names each that does not, with its class."""
    problems: list[str] = []
    covered = _folded(graph)
    for node in graph.nodes.values():
        if node.name == graph.input or node.name in covered:
            continue
        try:
            if node.kind in MERGES:
                merge_mode(node)
                if node.kind == "CustomScaleLayer" and _projection(graph, node) is None:
                    raise Unsupported("not a scaled 1x1 projection of concatenated branches")
            elif node.kind in CONVERTERS:
                CONVERTERS[node.kind](node)
            else:
                raise Unsupported("no word for this class")
        except Unsupported as exc:
            problems.append(f"{node.name} ({node.kind}): {exc}")
    if graph.nodes[graph.input].kind != "InputLayer":
        problems.append(f"{graph.input} ({graph.nodes[graph.input].kind}): not an input")
    if problems:
        raise ImportFailed(
            f"{len(problems)} layer(s) of {graph.name} have no statement in the language",
            tuple(problems),
        )


def _folded(graph: Graph) -> set[str]:
    """Layers that have no statement alone but fold into a word with their neighbours."""
    covered: set[str] = set()
    for node in graph.nodes.values():
        covered.update(_hard_sigmoid(graph, node))
        squeeze = _squeeze(graph, node)
        if squeeze is not None:
            covered.add(squeeze.name)
    return covered


def _only_consumer(graph: Graph, node: Node) -> Node | None:
    consumers = graph.consumers[node.name]
    return graph.nodes[consumers[0]] if len(consumers) == 1 else None


def _hard_sigmoid(graph: Graph, node: Node) -> tuple[str, ...]:
    """`relu6(x + 3) / 6` written out as three layers (MobileNetV3): Keras' hard_sigmoid."""
    if node.kind != "Add" or len(node.inputs) != 1 or node.constants != (3.0,):
        return ()
    relu = _only_consumer(graph, node)
    if relu is None or relu.kind != "ReLU" or relu.config.get("max_value") != 6:
        return ()
    scale = _only_consumer(graph, relu)
    if scale is None or scale.kind != "Multiply" or len(scale.inputs) != 1:
        return ()
    if len(scale.constants) != 1 or abs(scale.constants[0] - 1 / 6) > 1e-6:
        return ()
    return node.name, relu.name, scale.name


def _squeeze(graph: Graph, node: Node) -> Node | None:
    """The Reshape to 1x1xC after a global average pool: with it, `avgpool to 1x1`."""
    if node.kind != "GlobalAveragePooling2D" or node.config.get("keepdims"):
        return None
    reshape = _only_consumer(graph, node)
    if reshape is None or reshape.kind != "Reshape":
        return None
    return reshape if list(reshape.config["target_shape"])[:2] == [1, 1] else None


def _projection(graph: Graph, node: Node) -> Node | None:
    """The 1x1 conv (bias, linear) of concatenated branches a CustomScaleLayer scales."""
    if len(node.inputs) != 2:
        return None
    conv = graph.nodes[node.inputs[1]]
    config = conv.config
    if conv.kind != "Conv2D" or list(config["kernel_size"]) != [1, 1]:
        return None
    if not config["use_bias"] or config["activation"] != "linear" or len(conv.inputs) != 1:
        return None
    return conv if graph.nodes[conv.inputs[0]].kind == "Concatenate" else None


class _Writer:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        norms = Counter(
            _norm(node) for node in graph.nodes.values() if node.kind == "BatchNormalization"
        )
        # The commonest batch norm goes in `defaults:`; only those fold into a conv.
        self.bn = norms.most_common(1)[0][0] if norms else None

    def spec(self, items: Sequence) -> ast.Spec:
        body = _logits(self.statements(items))
        conv_defaults = _commonest_conv_options(body)
        body = _repeats([_without(statement, conv_defaults) for statement in body])
        definitions, body = modules(body, _lines)
        _, height, width, channels = _input_shape(self.graph)
        if height is None or width is None or channels is None:
            raise ImportFailed("the model's input has no fixed height and width")
        head: list[ast.Statement] = [
            ast.NetworkStmt(_name(self.graph.name), AT),
            ast.InputStmt(height, width, channels, AT),
            ast.ClassesStmt(number(_classes(body)), AT),
        ]
        lines = [ast.SettingLine("conv", conv_defaults, AT)] if conv_defaults else []
        if self.bn is not None:
            lines.append(ast.SettingLine("bn", self.bn, AT))
        if lines:
            head.append(ast.SettingsBlock("defaults", tuple(lines), AT))
        return ast.Spec((*head, *definitions, *body))

    def node(self, item: object) -> Node | None:
        return self.graph.nodes[item] if isinstance(item, str) else None

    def statements(self, items: Sequence) -> list[ast.Statement]:
        out: list[ast.Statement] = []
        index = 0
        while index < len(items):
            item = items[index]
            if isinstance(item, Group):
                statement, used = self.group(item, items[index + 1 :])
            else:
                statement, used = self.layer(items, index)
            out.append(statement)
            index += used
        return _merges_written(out)

    def group(self, group: Group, rest: Sequence) -> tuple[ast.Statement, int]:
        """The group, with the activation after an add or a residual, and items it used."""
        node = self.graph.nodes[group.merge]
        mode = merge_mode(node)
        options: tuple[ast.Option, ...] = ()
        folded = self.activation(rest) if mode in ("add", "residual") else None
        word, used = folded if folded is not None else ("", 0)
        if word:
            options = (ast.Option(word, (), AT),)
        branches = group.branches
        if mode == "residual":
            # The second branch is the concat of the real branches, then the projection.
            inner = branches[1][0]
            assert isinstance(inner, Group)
            branches = inner.branches
            scale = option("scale", node.config["scale"])
            options = (scale, *(options or (ast.Option("linear", (), AT),)))
        written = tuple(ast.Branch(self.branch(body), AT) for body in branches)
        return ast.BranchGroup(written, ast.MergeStmt(mode, options, AT, AT), AT), 1 + used

    def activation(self, items: Sequence) -> tuple[str, int] | None:
        """The activation word the items start with, and how many layers spell it."""
        node = self.node(items[0]) if items else None
        if node is None:
            return None
        if node.kind in ACTIVATION_CLASSES:
            return CONVERTERS[node.kind](node).kind, 1
        if _hard_sigmoid(self.graph, node):
            return "hard_sigmoid", 3
        return None

    def branch(self, body: Sequence) -> tuple[ast.Statement, ...]:
        statements = self.statements(body) or [layer("identity")]
        if len(statements) <= CHAIN and all(isinstance(s, ast.LayerStmt) for s in statements):
            return tuple(
                s._replace(chained=index > 0)
                for index, s in enumerate(statements)
                if isinstance(s, ast.LayerStmt)
            )
        return tuple(statements)

    def layer(self, items: Sequence, index: int) -> tuple[ast.LayerStmt, int]:
        """The statement of items[index], with what folds into it, and how many it used."""
        node = self.graph.nodes[str(items[index])]
        if _squeeze(self.graph, node) is not None:
            kernel = ast.Kernel(number(1), number(1), None, AT)
            return ast.LayerStmt("avgpool", kernel, None, (), AT, adaptive=True), 2
        spelled = self.activation(items[index:])
        if spelled is not None:
            return layer(spelled[0]), spelled[1]
        statement = CONVERTERS[node.kind](node)
        if statement.kind not in FOLDS_INTO or not _linear(statement):
            return statement, 1
        used = 1
        following = self.node(items[index + 1]) if index + 1 < len(items) else None
        if following is not None and self.folds_bn(following):
            statement = _with(statement, "nobn", "bn")
            used = 2
        folded = self.activation(items[index + used :])
        if folded is not None:
            statement = _with(statement, "linear", folded[0])
            used += folded[1]
        return statement, used

    def folds_bn(self, node: Node) -> bool:
        return node.kind == "BatchNormalization" and _norm(node) == self.bn


# The longest run of statements `_repeats` looks for repeating.
REPEATED_RUN = 8


def _repeats(statements: list[ast.Statement]) -> list[ast.Statement]:
    """Runs of the same statements one after another (a stage's identical blocks) as
    `repeat N:`, where that saves lines: the longest saving first, from the start."""
    out: list[ast.Statement] = []
    index = 0
    while index < len(statements):
        best, best_run, best_times = 0, 1, 1
        for run in range(1, REPEATED_RUN + 1):
            window = statements[index : index + run]
            if len(window) < run:
                break
            times = 1
            while statements[index + times * run : index + (times + 1) * run] == window:
                times += 1
            saved = sum(map(_lines, window)) * (times - 1) - 1
            if times > 1 and saved > best:
                best, best_run, best_times = saved, run, times
        if best_times > 1:
            body = tuple(statements[index : index + best_run])
            out.append(ast.RepeatStmt(number(best_times), body, AT))
        else:
            out.extend(statements[index : index + best_run])
        index += best_run * best_times
    return out


def _convs(statements: Iterable[ast.Statement]) -> Iterator[ast.LayerStmt]:
    """Every conv, depthwise and separable conv statement, in groups and repeats too."""
    for statement in statements:
        if isinstance(statement, ast.LayerStmt) and statement.kind in FOLDS_INTO:
            yield statement
        elif isinstance(statement, ast.BranchGroup):
            for branch in statement.branches:
                yield from _convs(branch.body)


def _commonest_conv_options(statements: list[ast.Statement]) -> tuple[ast.Option, ...]:
    """The padding and the bias most convs take: a `defaults: conv` line then says them."""
    chosen: list[ast.Option] = []
    for field in ("padding", "bias"):
        counts = Counter(
            option
            for conv in _convs(statements)
            for option in conv.options
            if _field(conv.kind, option.name) == field
        )
        if counts:
            chosen.append(counts.most_common(1)[0][0])
    return tuple(chosen)


def _field(kind: str, name: str) -> str:
    option = LAYER_WORDS[kind].option(name)
    return option.field if option is not None else ""


def _without(statement: ast.Statement, defaults: tuple[ast.Option, ...]) -> ast.Statement:
    """The statement with the conv options `defaults:` already says left unwritten."""
    if isinstance(statement, ast.LayerStmt) and statement.kind in FOLDS_INTO:
        kept = tuple(option for option in statement.options if option not in defaults)
        return statement._replace(options=kept)
    if isinstance(statement, ast.BranchGroup):
        branches = tuple(
            branch._replace(body=tuple(_without(inner, defaults) for inner in branch.body))
            for branch in statement.branches
        )
        return statement._replace(branches=branches)
    return statement


def _lines(statement: ast.Statement) -> int:
    return print_spec(ast.Spec((statement,))).count("\n")


def _merges_written(statements: list[ast.Statement]) -> list[ast.Statement]:
    """`merge concat` is the default, so it goes unwritten; but before another group, where
    without it the two groups would read as one."""
    out: list[ast.Statement] = []
    for statement, following in zip(statements, [*statements[1:], None], strict=False):
        if (
            isinstance(statement, ast.BranchGroup)
            and statement.merge is not None
            and statement.merge.mode == "concat"
            and not isinstance(following, ast.BranchGroup)
        ):
            statement = statement._replace(merge=None)
        out.append(statement)
    return out


def _norm(node: Node) -> tuple[ast.Option, ...]:
    """A batch norm's options (its statement's, as a `defaults:` line would set them)."""
    return CONVERTERS[node.kind](node).options


def _linear(statement: ast.LayerStmt) -> bool:
    return any(option.name == "linear" for option in statement.options)


def _with(statement: ast.LayerStmt, old: str, new: str) -> ast.LayerStmt:
    options = tuple(
        ast.Option(new, (), AT) if option.name == old else option for option in statement.options
    )
    return statement._replace(options=options)


def _logits(body: list[ast.Statement]) -> list[ast.Statement]:
    """A spec's network ends in logits (training applies softmax): a closing softmax goes."""
    last = body[-1] if body else None
    if isinstance(last, ast.LayerStmt) and last.kind == "softmax":
        return body[:-1]
    if isinstance(last, ast.LayerStmt) and any(o.name == "softmax" for o in last.options):
        return [*body[:-1], _with(last, "softmax", "linear")]
    return body


def _classes(body: list[ast.Statement]) -> int | float:
    """The width of the last layer that sets one: the classifier's."""
    for statement in reversed(body):
        if (
            isinstance(statement, ast.LayerStmt)
            and isinstance(statement.size, ast.Number)
            and statement.kind in ("dense", "pointwise", "conv", "sepconv")
        ):
            return statement.size.value
    raise ImportFailed("no classifier: no dense or conv layer ends the network")


def _name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_]", "_", name.lower())
    return cleaned if cleaned[:1].isalpha() else f"n{cleaned}"


def write_spec(source: str, output: Path) -> ast.Spec:
    """The spec of `source` written to `output`, headed by where it came from."""
    spec = import_spec(model_config(source))
    origin = source if source.endswith(".keras") else f"keras.applications.{source}"
    header = ast.Comment(f"# Imported from {origin} by `netspec import keras`.", AT, True)
    spec = spec._replace(comments=(header, *spec.comments))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(print_spec(spec))
    return spec
