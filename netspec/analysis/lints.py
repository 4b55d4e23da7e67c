"""Warnings: collapsing feature maps, and the Inception design principles.

The principles are those of Szegedy et al. 2015, "Rethinking the Inception Architecture":
avoid representational bottlenecks (worst early), and factorize n x n into 1 x n and n x 1
only on medium grids. A receptive field that covers the whole input long before the head
means the later stages cannot see anything new.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from netspec.diagnostics import Diagnostic, warning
from netspec.ir import Conv, Facts, LayerBase, Network

# Largest compression of H*W*C by one trunk step that does not count as a bottleneck.
BOTTLENECK_RATIO = 4.0
# A bottleneck in the first third of the trunk is "early" (the paper: worst there).
EARLY_FRACTION = 1 / 3
# "Long before the head": more than this share of the inference multiply-adds comes after
# the layer whose receptive field first covers the whole input. Calibrated on the shipped
# specs: the reference nets reach at most 53% (Inception-v4), the ImageNet GoogLeNet run
# on 32x32 CIFAR 62%.
LATE_COMPUTE_FRACTION = 0.55
# Grids on which 1xn then nx1 works (the paper: roughly 12 to 20; Inception-v4 and the
# Inception-ResNets by the same authors factorize 3x3 on 8x8, so the lower bound is 8).
FACTORIZATION_GRID = (8, 20)
LISTED_NAMES = 4
# The warnings about layers that see only padding, which `netspec graph` colours.
COLLAPSE_CODES = ("window-exceeds-map", "collapse")


def label(layer: LayerBase) -> str:
    """The name the user wrote: a batch norm lowered from `conv ... bn` speaks for the conv."""
    return layer.part_of or layer.name


def listed(names: Sequence[str]) -> str:
    """The first few names, and how many more."""
    shown = ", ".join(names[:LISTED_NAMES])
    more = len(names) - LISTED_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def _names(layers: Sequence[LayerBase]) -> str:
    return listed(list(dict.fromkeys(label(layer) for layer in layers)))


def _spatial_trunk(network: Network, facts: dict[str, Facts]) -> list[LayerBase]:
    """The main path up to the head: trunk layers before the first that takes the whole map."""
    trunk: list[LayerBase] = []
    for layer in network.inference_layers[1:]:
        if layer.role != "trunk":
            continue
        if facts[layer.name].whole_map or facts[layer.name].shape.flat:
            break
        trunk.append(layer)
    return trunk


def _grid(facts: Facts) -> tuple[int, int]:
    return facts.shape.height, facts.shape.width


def _warn(
    network: Network,
    layer: LayerBase,
    code: str,
    message: str,
    hint: str | None = None,
    flagged: Sequence[LayerBase] = (),
) -> Diagnostic:
    """A warning at `layer`, naming the layers it flags (`layer` alone unless given)."""
    names = tuple(flagged_layer.name for flagged_layer in flagged or (layer,))
    return warning(code, message, network.file, layer.span.line, layer.span.column, hint, names)


def _sees_padding(layer: LayerBase, facts: dict[str, Facts]) -> bool:
    """A window wider than the map it slides over (a 1x1 map itself is the collapse)."""
    window = facts[layer.name].window
    source = facts[layer.inputs[0]]
    return (
        window is not None
        and not source.shape.flat
        and _grid(source) != (1, 1)
        and (window[0] > source.shape.height or window[1] > source.shape.width)
    )


@dataclass(frozen=True)
class Collapse:
    """What the collapse lints find: layers whose window is wider than their map, the layer
    where the map collapses to 1x1 before the head, and the layers after it that see only
    padding. The warnings below say them and name them."""

    too_small: tuple[LayerBase, ...] = ()
    collapsing: LayerBase | None = None
    blind: tuple[LayerBase, ...] = ()


def find_collapse(network: Network, facts: dict[str, Facts]) -> Collapse:
    main: list[LayerBase] = list(network.inference_layers[1:])
    too_small = tuple(layer for layer in main if _sees_padding(layer, facts))
    source_grid = (network.input.height, network.input.width)
    for layer in _spatial_trunk(network, facts):
        shape = facts[layer.name].shape
        if (shape.height, shape.width) == (1, 1) and source_grid != (1, 1):
            blind = tuple(
                later
                for later in main[main.index(layer) + 1 :]
                if (window := facts[later.name].window)
                and window != (1, 1)
                and not facts[later.inputs[0]].shape.flat
                and _grid(facts[later.inputs[0]]) == (1, 1)
            )
            return Collapse(too_small, layer, blind)
        source_grid = (shape.height, shape.width)
    return Collapse(too_small)


def collapse_warnings(network: Network, facts: dict[str, Facts]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    collapse = find_collapse(network, facts)
    too_small = list(collapse.too_small)
    if too_small:
        first = too_small[0]
        window = facts[first.name].window
        assert window is not None
        found.append(
            _warn(
                network,
                first,
                "window-exceeds-map",
                f"{label(first)}: a {window[0]}x{window[1]} window on a "
                f"{facts[first.inputs[0]].shape.grid()} map sees mostly padding; "
                f"{len(too_small)} layer(s) are like this: {_names(too_small)}",
                hint="keep the feature map larger: drop a stride or a pooling layer upstream",
                flagged=too_small,
            )
        )
    layer = collapse.collapsing
    if layer is not None:
        blind = list(collapse.blind)
        what = (
            f"; after it {len(blind)} layer(s) see only padding: {_names(blind)}" if blind else ""
        )
        found.append(
            _warn(
                network,
                layer,
                "collapse",
                f"{label(layer)}: the feature map collapses to 1x1 here "
                f"({facts[layer.inputs[0]].shape} -> {facts[layer.name].shape}) before the "
                f"head{what}",
                hint="remove a stride or pooling step earlier (for 32x32 inputs: a stride-1 "
                "stem) so the last stages keep a real grid",
                flagged=(layer, *blind),
            )
        )
    return found


def bottleneck_warnings(network: Network, facts: dict[str, Facts]) -> list[Diagnostic]:
    found = []
    trunk = _spatial_trunk(network, facts)
    previous = facts["input"].shape
    for index, layer in enumerate(trunk):
        shape = facts[layer.name].shape
        # Compare against a same-padded step of the same stride, so valid padding's lost
        # border rows do not make a plain stride-2 step look like a bottleneck.
        stride_h = max(1, round(previous.height / shape.height))
        stride_w = max(1, round(previous.width / shape.width))
        ideal = (
            math.ceil(previous.height / stride_h)
            * math.ceil(previous.width / stride_w)
            * shape.channels
        )
        ratio = previous.elements / ideal
        if ratio > BOTTLENECK_RATIO:
            early = index < len(trunk) * EARLY_FRACTION
            found.append(
                _warn(
                    network,
                    layer,
                    "bottleneck",
                    f"{label(layer)}: a representational bottleneck: {previous} = "
                    f"{previous.elements:,} values shrink {ratio:.1f}x to {shape} = "
                    f"{shape.elements:,}" + (" this early in the network" if early else ""),
                    hint="shrink the grid and widen the channels in the same step (a reduction "
                    "block), so no step compresses by more than 4x",
                )
            )
        previous = shape
    return found


def receptive_field_warnings(network: Network, facts: dict[str, Facts]) -> list[Diagnostic]:
    main = network.inference_layers
    total = sum(facts[layer.name].macs for layer in main)
    height, width = network.input.height, network.input.width
    for index, layer in enumerate(main[1:], start=1):  # the input itself covers a 1x1 input
        # Residual merges count through their shortcut (Facts.shortcut_field).
        size = facts[layer.name].shortcut_field.size
        # `gap` and `flatten` see the whole map by definition: they start the head.
        head = facts[layer.name].shape.flat or facts[layer.name].whole_map
        if layer.role != "trunk" or head or size[0] < height or size[1] < width:
            continue
        later = sum(facts[after.name].macs for after in main[index + 1 :])
        if total and later / total > LATE_COMPUTE_FRACTION:
            return [
                _warn(
                    network,
                    layer,
                    "receptive-field",
                    f"{label(layer)}: the receptive field ({size[0]}x{size[1]}) already covers the "
                    f"whole {height}x{width} input here, and {later / total:.0%} of the "
                    "multiply-adds come after it",
                    hint="the later stages add compute but see nothing new: use a larger input "
                    "or fewer downsampling steps early",
                )
            ]
        return []
    return []


def _next_window(
    layer: LayerBase, consumers: dict[str, list[LayerBase]], facts: dict[str, Facts]
) -> LayerBase | None:
    """The one windowed layer that reads `layer`'s output, past batch norms and activations."""
    after = consumers.get(layer.name, [])
    while len(after) == 1:
        (follower,) = after
        fact = facts.get(follower.name)
        if fact is None or fact.window is not None or len(follower.inputs) > 1:
            return follower
        if fact.shape != facts[layer.name].shape:
            return None
        after = consumers.get(follower.name, [])
    return None


def factorization_warnings(network: Network, facts: dict[str, Facts]) -> list[Diagnostic]:
    low, high = FACTORIZATION_GRID
    consumers: dict[str, list[LayerBase]] = {}
    for layer in network.layers:
        for name in layer.inputs:
            consumers.setdefault(name, []).append(layer)
    found = []
    for layer in network.inference_layers:
        if not isinstance(layer, Conv) or 1 not in layer.kernel or layer.kernel == (1, 1):
            continue
        follower = _next_window(layer, consumers, facts)
        follows = isinstance(follower, Conv) and follower.kernel == layer.kernel[::-1]
        grid = facts[layer.inputs[0]].shape
        if follows and not (low <= grid.height <= high and low <= grid.width <= high):
            kh, kw = layer.kernel
            found.append(
                _warn(
                    network,
                    layer,
                    "factorization-grid",
                    f"{label(layer)}: {kh}x{kw} then {kw}x{kh} factorization on a "
                    f"{grid.grid()} grid; it works on grids of about {low} to {high} "
                    "(Szegedy et al. 2015)",
                    hint="use a full square kernel here, or factorize later in the network",
                )
            )
    return found


def advice_warnings(network: Network, facts: dict[str, Facts]) -> list[Diagnostic]:
    """The Inception papers' design principles, each finding as it is found: `advice` says
    them once per module and weighs them for the network."""
    return (
        bottleneck_warnings(network, facts)
        + receptive_field_warnings(network, facts)
        + factorization_warnings(network, facts)
    )
