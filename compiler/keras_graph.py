"""A Keras model's config as a graph, and that graph as series and parallel parts.

Read from the config dict alone (what `model.get_config()` returns, or `config.json` in a
.keras archive): nothing here instantiates a layer, so no code a config names can run.
The spec language writes a network as sequences and `branch:` groups that fork at one
tensor and merge at one layer; `structure` finds them (a fork merges at its immediate
post-dominator) or names the layer where the graph is not of that shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Config = dict[str, Any]
Shape = tuple[int | None, ...]


class GraphError(Exception):
    """The config is not a graph the language can write: a shared layer, several inputs or
    outputs, a fork whose branches do not merge at one layer."""


@dataclass(frozen=True)
class Node:
    name: str
    kind: str
    config: Config
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    # Numbers among the call's arguments: the 3.0 of `x + 3.0` (Keras makes it an Add layer).
    constants: tuple[float, ...] = ()


@dataclass(frozen=True)
class Group:
    """Branches from one tensor, each a sequence (empty: the input itself), merged by `merge`."""

    branches: tuple[Sequence, ...]
    merge: str


Item = str | Group
Sequence = tuple[Item, ...]


@dataclass
class Graph:
    name: str
    nodes: dict[str, Node]
    input: str
    output: str
    consumers: dict[str, list[str]] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.consumers = {name: [] for name in self.nodes}
        for node in self.nodes.values():
            for source in node.inputs:
                self.consumers[source].append(node.name)
        self.order = {name: index for index, name in enumerate(_topological(self))}

    def ancestors(self, name: str) -> set[str]:
        """`name` and every node it depends on."""
        seen = {name}
        stack = [name]
        while stack:
            for source in self.nodes[stack.pop()].inputs:
                if source not in seen:
                    seen.add(source)
                    stack.append(source)
        return seen

    def descendants(self, name: str) -> set[str]:
        seen = {name}
        stack = [name]
        while stack:
            for consumer in self.consumers[stack.pop()]:
                if consumer not in seen:
                    seen.add(consumer)
                    stack.append(consumer)
        return seen


def _topological(graph: Graph) -> list[str]:
    waiting = {name: len(node.inputs) for name, node in graph.nodes.items()}
    ready = [name for name, count in waiting.items() if count == 0]
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for consumer in graph.consumers[name]:
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                ready.append(consumer)
    return order


def _history(value: object) -> Iterator[tuple[str, Shape]]:
    """The (layer, shape) of every Keras tensor in a call's arguments, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            config = value["config"]
            yield config["keras_history"][0], tuple(config["shape"])
        else:
            for item in value.values():
                yield from _history(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _history(item)


def read_graph(model: Config) -> Graph:
    """The graph of a functional or sequential model's config (the `config` of its entry).
    A sequential model inside a functional one (ConvNeXt's stem) is read in line."""
    layers: list[Config] = model["layers"]
    if all("inbound_nodes" not in layer for layer in layers):
        if not layers or layers[0]["class_name"] != "InputLayer":
            raise GraphError("a sequential model without an InputLayer: its input size is unknown")
        nodes = _chain(layers, ())
        return Graph(model["name"], nodes, next(iter(nodes)), next(reversed(nodes)))
    nodes = {}
    # A sequential layer's name stands for its last layer.
    last: dict[str, str] = {}
    for layer in layers:
        name = layer["config"]["name"]
        calls = layer.get("inbound_nodes", [])
        if len(calls) > 1:
            raise GraphError(f"layer {name} is called {len(calls)} times (a shared layer)")
        arguments = calls[0]["args"] if calls else []
        history = list(_history(arguments))
        inputs = tuple(last.get(source, source) for source, _ in history)
        if layer["class_name"] == "Sequential":
            inner = [
                item for item in layer["config"]["layers"] if item["class_name"] != "InputLayer"
            ]
            chained = _chain(inner, inputs)
            nodes.update(chained)
            last[name] = next(reversed(chained))
            continue
        shapes = tuple(shape for _, shape in history)
        nodes[name] = Node(
            name, layer["class_name"], layer["config"], inputs, shapes, _constants(arguments)
        )
    first = _only(model["input_layers"], "input")
    output = _only(model["output_layers"], "output")
    return Graph(model["name"], nodes, first, last.get(output, output))


def _chain(layers: list[Config], inputs: tuple[str, ...]) -> dict[str, Node]:
    """A sequential model's layers, each the input of the next; the first takes `inputs`."""
    nodes: dict[str, Node] = {}
    for layer in layers:
        name = layer["config"]["name"]
        build = (layer.get("build_config") or {}).get("input_shape")
        shapes: tuple[Shape, ...] = () if build is None else (tuple(build),)
        nodes[name] = Node(name, layer["class_name"], layer["config"], inputs, shapes)
        inputs = (name,)
    return nodes


def _constants(arguments: object) -> tuple[float, ...]:
    return tuple(
        float(item)
        for item in _flat(arguments)
        if isinstance(item, int | float) and not isinstance(item, bool)
    )


def _only(layers: object, what: str) -> str:
    """The layer name of a model's one input or output (`[name, 0, 0]` or `[[name, 0, 0]]`)."""
    names = [item for item in _flat(layers) if isinstance(item, str)]
    if len(names) != 1:
        raise GraphError(f"the model has {len(names)} {what}s; a spec has one")
    return names[0]


def _flat(value: object) -> Iterator[object]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def structure(graph: Graph) -> Sequence:
    """The layers from the input to the output as sequences and groups (the input itself
    not included)."""
    region = graph.ancestors(graph.output) & graph.descendants(graph.input)
    return _sequence(graph, graph.input, graph.output, region)


def _sequence(graph: Graph, start: str, stop: str, region: set[str]) -> Sequence:
    dominators = _post_dominators(graph, region, stop)
    items: list[Item] = []
    at = start
    while at != stop:
        following = [name for name in graph.consumers[at] if name in region]
        if len(following) == 1 and len(graph.nodes[following[0]].inputs) == 1:
            at = following[0]
            items.append(at)
            continue
        after = dominators[at] - {at}
        if not after:
            raise GraphError(f"the branches from {at} do not merge at one layer")
        merge = min(after, key=graph.order.__getitem__)
        items.append(_group(graph, at, merge, region))
        at = merge
    return tuple(items)


def _group(graph: Graph, fork: str, merge: str, region: set[str]) -> Group:
    branches: list[Sequence] = []
    taken: set[str] = set()
    for source in graph.nodes[merge].inputs:
        if source == fork:
            branches.append(())
            continue
        inside = (graph.ancestors(source) & graph.descendants(fork) & region) - {fork}
        if inside & taken:
            raise GraphError(f"the inputs of {merge} share layers: not branches of one fork")
        taken |= inside
        branches.append(_sequence(graph, fork, source, inside | {fork}))
    between = (graph.ancestors(merge) & graph.descendants(fork) & region) - {fork, merge}
    if between - taken:
        stray = min(between - taken, key=graph.order.__getitem__)
        raise GraphError(f"layer {stray} leaves the branches from {fork} before {merge}")
    return Group(tuple(branches), merge)


def _post_dominators(graph: Graph, region: set[str], stop: str) -> dict[str, set[str]]:
    """For each node of the region, the nodes every path from it to `stop` passes."""
    dominators: dict[str, set[str]] = {}
    for name in sorted(region, key=graph.order.__getitem__, reverse=True):
        following = [dominators[c] for c in graph.consumers[name] if c in dominators]
        if name == stop or not following:
            dominators[name] = {name} if name == stop else set()
            continue
        dominators[name] = {name} | set.intersection(*following)
    return dominators
