"""The graph to the spec's statements: chains, branches that fan out from one blob and meet
in a Concat or Eltwise as a `branch:` group, GoogLeNet's four-branch form as an `inception`
line, and dead-end heads of a train_val file as `aux` heads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from netspec.caffe.converters import Piece
from netspec.caffe.graph import Graph, Node
from netspec.diagnostics import NetspecError, error
from netspec.syntax import ast

HERE = ast.Pos(0, 0)


@dataclass(frozen=True)
class Walked:
    statements: list[ast.Statement]
    end: int
    # The Concat or Eltwise the walk stopped before, if it stopped at one.
    merge: int | None


@dataclass
class Structurer:
    graph: Graph
    file: str
    render: Callable[[Piece], ast.LayerStmt]
    # The spec's pool padding: an `inception` line's pool is `same`.
    pool_padding: str
    # Each branch group's join's name, by the group's id: a module instance's name.
    join_names: dict[int, str] = field(default_factory=dict)

    def fail(self, node: Node, message: str) -> NetspecError:
        return NetspecError(
            error("caffe-structure", f"layer '{node.name}': {message}", self.file, node.line, 1)
        )

    def walk(self, start: int) -> Walked:
        """From the node `start`, on until the graph ends or reaches a node that joins."""
        nodes = self.graph.nodes
        statements: list[ast.Statement] = []
        current = start
        while True:
            consumers = nodes[current].consumers
            if not consumers:
                return Walked(statements, current, None)
            if len(consumers) == 1:
                following = nodes[consumers[0]]
                if following.merge is not None and len(following.inputs) == 1:
                    # A join of one: nothing to write.
                    current = following.index
                    continue
                if following.merge is not None:
                    return Walked(statements, current, following.index)
                statements += self.layers(following)
                current = following.index
                continue
            current = self.fan_out(current, statements)

    def layers(self, node: Node) -> list[ast.Statement]:
        return [self.render(piece) for piece in node.pieces]

    def fan_out(self, source: int, statements: list[ast.Statement]) -> int:
        """The consumers of one blob: aux heads that end nowhere, and branches that meet in
        one join; the statements go after `statements`, and the join's node is returned."""
        nodes = self.graph.nodes
        live: dict[int, list[ast.Statement]] = {}
        joins: set[int] = set()
        main: tuple[list[ast.Statement], int] | None = None
        for consumer in nodes[source].consumers:
            node = nodes[consumer]
            if node.merge is not None:
                live[source] = []
                joins.add(consumer)
                continue
            walked = self.walk(consumer)
            body = self.layers(node) + walked.statements
            if walked.merge is None and walked.end != self.graph.output:
                statements.append(self.aux(node, walked.end, body))
                continue
            if walked.merge is None:
                # The network goes on past its aux heads' taps.
                main = (body, walked.end)
                continue
            live[walked.end] = body
            joins.add(walked.merge)
        if main is not None:
            if live:
                raise self.fail(nodes[source], "its branches meet nowhere")
            statements += main[0]
            return main[1]
        if len(joins) != 1:
            raise self.fail(nodes[source], "its branches meet in more than one place")
        join = nodes[joins.pop()]
        if sorted(join.inputs) != sorted(live):
            raise self.fail(join, "it joins branches that do not all start at one blob")
        branches = tuple(
            ast.Branch(tuple(_chained(live[end])) or (_identity(),), HERE) for end in join.inputs
        )
        if join.merge == "concat":
            # `merge concat` is the default, written so the next group starts a group of its own.
            merge = ast.MergeStmt("concat", (), HERE, HERE)
            inception = _inception(join.name, branches, self.pool_padding)
            group = ast.BranchGroup(branches, merge, HERE)
            statements.append(inception or group)
        else:
            options = (ast.Option("relu", (), HERE),) if join.folded == "relu" else ()
            merge = ast.MergeStmt("add", options, HERE, HERE)
            group = ast.BranchGroup(branches, merge, HERE)
            statements.append(group)
        self.join_names[id(group)] = name_of(join.name.split("/")[0])
        return join.index

    def aux(self, first: Node, end: int, body: list[ast.Statement]) -> ast.AuxStmt:
        weight = self.graph.loss_weights.get(end, 1.0)
        options = (ast.Option("weight", (ast.Number(weight, HERE),), HERE),)
        return ast.AuxStmt(name_of(first.name.split("/")[0]), options, tuple(body), HERE)


def name_of(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text) or "unnamed"


def _identity() -> ast.LayerStmt:
    return ast.LayerStmt("identity", None, None, (), HERE)


def _chained(statements: list[ast.Statement]) -> list[ast.Statement]:
    """A branch of layers only, on one line: `branch: conv 1x1 64 -> conv 3x3 96`."""
    if not all(isinstance(each, ast.LayerStmt) for each in statements):
        return statements
    return [
        each._replace(chained=True) if index and isinstance(each, ast.LayerStmt) else each
        for index, each in enumerate(statements)
    ]


def _inception(
    name: str, branches: tuple[ast.Branch, ...], pool_padding: str
) -> ast.InceptionStmt | None:
    """GoogLeNet's form: 1x1 | 1x1, 3x3 | 1x1, 5x5 | 3x3/1 same max pool, 1x1, every conv
    with the spec's defaults (no options)."""
    shapes = (("conv1",), ("conv1", "conv3"), ("conv1", "conv5"), ("maxpool3", "conv1"))
    if len(branches) != 4:
        return None
    widths: list[ast.Value] = []
    for branch, shape in zip(branches, shapes, strict=True):
        if len(branch.body) != len(shape):
            return None
        for statement, expected in zip(branch.body, shape, strict=True):
            if not isinstance(statement, ast.LayerStmt) or statement.kernel is None:
                return None
            kernel = statement.kernel
            sides = (kernel.height, kernel.width, kernel.stride or ast.Number(1, HERE))
            if not all(isinstance(side, ast.Number) for side in sides):
                return None
            numbers = [side.value for side in sides if isinstance(side, ast.Number)]
            if numbers[0] != numbers[1] or numbers[2] != 1:
                return None
            if f"{statement.kind}{numbers[0]}" != expected:
                return None
            if statement.kind == "maxpool":
                written = [option.name for option in statement.options]
                if (written or [pool_padding]) != ["same"]:
                    return None
            elif statement.options or statement.size is None:
                return None
            else:
                widths.append(statement.size)
    label = name.split("/")[0].removeprefix("inception_")
    return ast.InceptionStmt(name_of(label), tuple(widths), HERE, HERE)
