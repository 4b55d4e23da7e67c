"""Warnings: collapsing feature maps, and the Inception design principles.

The principles are those of Szegedy et al. 2015, "Rethinking the Inception Architecture":
avoid representational bottlenecks (worst early), and factorize n x n into 1 x n and n x 1
only on medium grids. A receptive field that covers the whole input long before the head
means the later stages cannot see anything new.
"""

from __future__ import annotations

import math

from netspec.analysis.rules import Facts, ReceptiveField
from netspec.diagnostics import Diagnostic, warning
from netspec.ir import Concat, Conv, Flatten, GlobalAvgPool, MaxPool, Network, ResidualMerge
from netspec.ir.layers import AvgPool, LayerBase

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


def _window(layer: LayerBase) -> tuple[int, int] | None:
    if isinstance(layer, Conv):
        return layer.kernel
    if isinstance(layer, MaxPool | AvgPool):
        return layer.window
    return None


def _names(layers: list[LayerBase]) -> str:
    shown = ", ".join(layer.name for layer in layers[:LISTED_NAMES])
    more = len(layers) - LISTED_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def _spatial_trunk(network: Network, facts: dict[str, Facts]) -> list[LayerBase]:
    """The main path up to the head: trunk layers that still carry a feature map."""
    return [
        layer
        for layer in network.layers[1:]
        if layer.role == "trunk" and not layer.aux and not facts[layer.name].shape.flat
    ]


def _warn(
    network: Network, layer: LayerBase, code: str, message: str, hint: str | None = None
) -> Diagnostic:
    return warning(code, message, network.file, layer.span.line, layer.span.column, hint)


def collapse_warnings(network: Network, facts: dict[str, Facts]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    main = [layer for layer in network.layers[1:] if not layer.aux]
    too_small = []
    for layer in main:
        window = _window(layer)
        source = facts[layer.inputs[0]].shape
        if (
            window
            and not source.flat
            and (source.height, source.width) != (1, 1)
            and (window[0] > source.height or window[1] > source.width)
        ):
            too_small.append(layer)
    if too_small:
        first = too_small[0]
        source = facts[first.inputs[0]].shape
        window = _window(first)
        assert window is not None
        found.append(
            _warn(
                network,
                first,
                "window-exceeds-map",
                f"{first.name}: a {window[0]}x{window[1]} window on a {source.grid()} map sees "
                f"mostly padding; {len(too_small)} layer(s) are like this: {_names(too_small)}",
                hint="keep the feature map larger: drop a stride or a pooling layer upstream",
            )
        )
    source_grid = (network.input.height, network.input.width)
    for layer in _spatial_trunk(network, facts):
        shape = facts[layer.name].shape
        if (shape.height, shape.width) == (1, 1) and source_grid != (1, 1):
            index = main.index(layer)
            blind = [
                later
                for later in main[index + 1 :]
                if (w := _window(later))
                and w != (1, 1)
                and not facts[later.inputs[0]].shape.flat
                and (facts[later.inputs[0]].shape.height, facts[later.inputs[0]].shape.width)
                == (1, 1)
            ]
            what = (
                f"; after it {len(blind)} layer(s) see only padding: {_names(blind)}"
                if blind
                else ""
            )
            previous = facts[layer.inputs[0]].shape
            found.append(
                _warn(
                    network,
                    layer,
                    "collapse",
                    f"{layer.name}: the feature map collapses to 1x1 here "
                    f"({previous} -> {shape}) before the head{what}",
                    hint="remove a stride or pooling step earlier (for 32x32 inputs: a stride-1 "
                    "stem) so the last stages keep a real grid",
                )
            )
            break
        source_grid = (shape.height, shape.width)
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
                    f"{layer.name}: a representational bottleneck: {previous} = "
                    f"{previous.elements:,} values shrink {ratio:.1f}x to {shape} = "
                    f"{shape.elements:,}" + (" this early in the network" if early else ""),
                    hint="shrink the grid and widen the channels in the same step (a reduction "
                    "block), so no step compresses by more than 4x",
                )
            )
        previous = shape
    return found


def shortcut_fields(network: Network, facts: dict[str, Facts]) -> dict[str, ReceptiveField]:
    """Receptive fields with residual merges counted through their shortcut.

    A residual net's signal mostly takes its short paths (Veit et al. 2016), so the
    theoretical field, which grows with every stacked block, overstates what it sees.
    """
    fields: dict[str, ReceptiveField] = {}
    for layer in network.inference_layers:
        if not layer.inputs:
            fields[layer.name] = facts[layer.name].field
            continue
        first = fields[layer.inputs[0]]
        window = _window(layer)
        if isinstance(layer, ResidualMerge):
            fields[layer.name] = first
        elif isinstance(layer, Concat):
            fields[layer.name] = ReceptiveField.widest([fields[n] for n in layer.inputs])
        elif window is not None:
            stride = layer.stride  # type: ignore[attr-defined]
            fields[layer.name] = first.through(window, stride)
        elif isinstance(layer, GlobalAvgPool | Flatten):
            source = facts[layer.inputs[0]].shape
            fields[layer.name] = first.through((source.height, source.width), (1, 1))
        else:
            fields[layer.name] = first
    return fields


def receptive_field_warnings(network: Network, facts: dict[str, Facts]) -> list[Diagnostic]:
    main = network.inference_layers
    total = sum(facts[layer.name].macs for layer in main)
    height, width = network.input.height, network.input.width
    fields = shortcut_fields(network, facts)
    for index, layer in enumerate(main[1:], start=1):  # the input itself covers a 1x1 input
        size = fields[layer.name].size
        # `gap` and `flatten` see the whole map by definition: they start the head.
        head = facts[layer.name].shape.flat
        if layer.role != "trunk" or head or size[0] < height or size[1] < width:
            continue
        later = sum(facts[after.name].macs for after in main[index + 1 :])
        if total and later / total > LATE_COMPUTE_FRACTION:
            return [
                _warn(
                    network,
                    layer,
                    "receptive-field",
                    f"{layer.name}: the receptive field ({size[0]}x{size[1]}) already covers the "
                    f"whole {height}x{width} input here, and {later / total:.0%} of the "
                    "multiply-adds come after it",
                    hint="the later stages add compute but see nothing new: use a larger input "
                    "or fewer downsampling steps early",
                )
            ]
        return []
    return []


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
        after = consumers.get(layer.name, [])
        follows = (
            len(after) == 1 and isinstance(after[0], Conv) and after[0].kernel == layer.kernel[::-1]
        )
        grid = facts[layer.inputs[0]].shape
        if follows and not (low <= grid.height <= high and low <= grid.width <= high):
            kh, kw = layer.kernel
            found.append(
                _warn(
                    network,
                    layer,
                    "factorization-grid",
                    f"{layer.name}: {kh}x{kw} then {kw}x{kh} factorization on a {grid.grid()} "
                    f"grid; it works on grids of about {low} to {high} (Szegedy et al. 2015)",
                    hint="use a full square kernel here, or factorize later in the network",
                )
            )
    return found


def design_lints(network: Network, facts: dict[str, Facts]) -> list[Diagnostic]:
    return (
        collapse_warnings(network, facts)
        + bottleneck_warnings(network, facts)
        + receptive_field_warnings(network, facts)
        + factorization_warnings(network, facts)
    )
