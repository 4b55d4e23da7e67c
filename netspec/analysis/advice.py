"""The Inception papers' design advice (bottleneck, receptive field, factorization), said
once per module definition, and with the weight it has for the network at hand.

The advice comes from papers about Inception networks, whose modules concatenate branches of
different kernels; a ResNet, EfficientNet or RegNet follows other rules, so on a network
without such a module the advice is a note, not a warning. A module instanced nine times
makes the same step nine times: one diagnostic names the instances, rather than nine
repeating one module line.
"""

from __future__ import annotations

from collections.abc import Sequence

from netspec.analysis.lints import listed
from netspec.diagnostics import Diagnostic, Severity
from netspec.ir import Concat, Network


def inception_style(network: Network) -> bool:
    """The network uses the `inception` shorthand, or a module whose branches meet in a
    concat (not the concat inside a residual merge, which is part of that merge)."""
    return any(
        isinstance(layer, Concat) and layer.module and not layer.part_of for layer in network.layers
    )


def design_advice(network: Network, found: Sequence[Diagnostic]) -> list[Diagnostic]:
    """`found`, the advice lints' warnings, once per module and code, and notes unless the
    network is Inception-style."""
    severity = Severity.warning if inception_style(network) else Severity.note
    # A diagnostic outside any instance stands alone: its own index keeps it apart.
    said: dict[tuple[str, str, int], list[Diagnostic]] = {}
    for index, diagnostic in enumerate(found):
        module = _module(network, diagnostic)
        said.setdefault((diagnostic.code, module, 0 if module else index), []).append(diagnostic)
    return [_once(network, same, severity) for same in said.values()]


def _module(network: Network, diagnostic: Diagnostic) -> str:
    """The module whose instance wrote the first layer the diagnostic flags; "" if none."""
    return network.by_name[diagnostic.layers[0]].module if diagnostic.layers else ""


def _once(network: Network, same: list[Diagnostic], severity: Severity) -> Diagnostic:
    """The first of a module's diagnostics of one code, naming every instance they flag."""
    first = same[0]
    update: dict[str, object] = {"severity": severity}
    if len(same) > 1:
        flagged = tuple(dict.fromkeys(name for each in same for name in each.layers))
        instances = list(dict.fromkeys(network.by_name[name].instance for name in flagged))
        update["message"] = (
            f"{first.message}; module `{_module(network, first)}` does this {len(same)} "
            f"times, in {listed(instances)}"
        )
        update["layers"] = flagged
    return first.model_copy(update=update)
