"""What torchsummary prints for a network, written as the classic PyTorch GoogLeNet writes it.

torchsummary (sksq96/pytorch-summary) hooks every module but the model itself and its
`Sequential`/`ModuleList` containers. Over one forward pass it adds up the output size of
every hooked call (batch excluded) and the `weight` and `bias` of every hooked module, so
its figures depend on which operations are modules. netspec follows the classic code
(torchvision's GoogLeNet layout, each conv a `BasicConv2d` module holding `nn.Conv2d` and
`nn.ReLU`; `InceptionAux` with `F.relu` and `F.dropout` in its forward):

- a conv statement is a conv block: its conv, its batch norm and its activation are
  modules, and so is the block, whose output counts once more;
- flatten, padding (an argument of the next layer) and the merges' concatenation, sum,
  product and scaling are calls (`torch.flatten`, `torch.cat`, `+`, `*`); every other
  layer is a module (a dense layer and its activation, pools, batch norm, LRN, dropout, a
  merge's activation, a residual's projection conv);
- an instance (`inception` or a module of the spec) is a module: its output counts once
  more (an Inception's `torch.cat` output counts only so);
- an aux head is a module (`InceptionAux`): its scores count once more, and inside it
  dropout and the activations outside conv blocks are calls (`F.relu(self.fc1(x))`).

In training mode (a model's default, and torchsummary's) the aux heads run and count; in
eval mode they do not run, so neither their outputs nor their parameters count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from netspec.analysis.report import BYTES_PER_FLOAT32, Frozen, Report, TorchSummaryCount
from netspec.ir import (
    Activation,
    Add,
    Concat,
    Dropout,
    Facts,
    Flatten,
    InputLayer,
    Layer,
    Multiply,
    Network,
    Projection,
    Scale,
    SlidingWindow,
    ZeroPad,
)

# Written as calls in PyTorch: never hooked.
CALLS = (InputLayer, Flatten, ZeroPad, Concat, Add, Multiply, Scale)
# What `module_calls` names the wrappers.
CONV_BLOCK = "conv block"
AUX_HEAD = "aux head"


@dataclass(frozen=True)
class Statement:
    """The nodes one statement lowered to, in order; the last carries its name."""

    nodes: tuple[Layer, ...]

    @property
    def carrier(self) -> Layer:
        return self.nodes[-1]

    @property
    def word(self) -> str:
        """The statement's word: its parts keep it when an instance renames the carrier's;
        a statement of one node is written with its kind."""
        first = self.nodes[0]
        return first.written_as if len(self.nodes) > 1 else first.kind

    @property
    def conv_block(self) -> bool:
        first = self.nodes[0]
        return isinstance(first, SlidingWindow) and self.word == first.kind

    @property
    def instance(self) -> str:
        """The module an instance of which this statement ends, or ""."""
        written_as = self.carrier.written_as
        return "" if written_as in ("", self.word) else written_as


def statements(network: Network) -> Iterator[Statement]:
    """Group the nodes by the statement that wrote them (`part_of` names the carrier)."""
    parts: dict[str, list[Layer]] = {}
    for layer in network.layers:
        parts.setdefault(layer.part_of or layer.name, []).append(layer)
    for nodes in parts.values():
        yield Statement(tuple(nodes))


def _calls_in_forward(layer: Layer, statement: Statement) -> bool:
    """Whether the layer's activation and dropout are calls: in an aux head, outside its
    conv blocks, as InceptionAux's `F.relu` and `F.dropout` are."""
    return bool(layer.aux) and not statement.conv_block


def module_calls(network: Network) -> dict[str, tuple[str, ...]]:
    """Every layer's hooked calls whose output is that layer's output, innermost first: its
    own module (named by its kind, an activation by its function), its activation, then the
    wrappers (`conv block`, the instance's module, `aux head`). Empty for calls."""
    aux_outputs = {head.output for head in network.aux_heads}
    calls: dict[str, tuple[str, ...]] = {}
    for statement in statements(network):
        for layer in statement.nodes:
            in_forward = _calls_in_forward(layer, statement)
            own: list[str] = []
            if not isinstance(layer, CALLS) and not (
                in_forward and isinstance(layer, (Activation, Dropout))
            ):
                own.append(layer.function if isinstance(layer, Activation) else layer.kind)
            if isinstance(layer, (SlidingWindow, Projection)) and not in_forward:
                own += [layer.activation] if layer.activation != "linear" else []
            calls[layer.name] = tuple(own)
        wrappers = [CONV_BLOCK] if statement.conv_block else []
        wrappers += [statement.instance] if statement.instance else []
        wrappers += [AUX_HEAD] if statement.carrier.name in aux_outputs else []
        calls[statement.carrier.name] += tuple(wrappers)
    return calls


def count(
    layers: Sequence[Layer], facts: dict[str, Facts], calls: dict[str, tuple[str, ...]]
) -> TorchSummaryCount:
    """torchsummary's sums over the layers that run: hooked calls, the values of their
    outputs, and the parameters (every layer with weights is a module; PyTorch keeps batch
    norm's moving statistics as buffers, not parameters)."""
    modules = values = params = 0
    for layer in layers:
        fact = facts[layer.name]
        modules += len(calls[layer.name])
        values += len(calls[layer.name]) * fact.shape.elements
        params += fact.params - fact.non_trainable
    return TorchSummaryCount.model_construct(modules=modules, values=values, params=params)


MEBIBYTE = 1024**2


class TorchSummarySizes(Frozen):
    """The sizes torchsummary prints under its table, by its formulas (4 bytes a number, MB
    of 1024**2 bytes, one example): input; forward/backward pass, twice the values of every
    hooked call (the outputs and their gradients); params; and their sum."""

    input_mb: float
    forward_backward_mb: float
    params_mb: float
    total_mb: float
    # Not sizes, but what the table above them lists: its rows and its "Total params".
    modules: int
    params: int

    @classmethod
    def of(cls, input_shape: tuple[int, int, int], summed: TorchSummaryCount) -> TorchSummarySizes:
        height, width, channels = input_shape
        input_mb = height * width * channels * BYTES_PER_FLOAT32 / MEBIBYTE
        passes_mb = 2 * summed.values * BYTES_PER_FLOAT32 / MEBIBYTE
        params_mb = summed.params * BYTES_PER_FLOAT32 / MEBIBYTE
        return cls.model_construct(
            input_mb=input_mb,
            forward_backward_mb=passes_mb,
            params_mb=params_mb,
            total_mb=input_mb + passes_mb + params_mb,
            modules=summed.modules,
            params=summed.params,
        )


def inference_sizes(report: Report) -> TorchSummarySizes | None:
    """torchsummary of the model in eval mode: the aux heads do not run."""
    totals = report.totals
    return None if totals is None else TorchSummarySizes.of(report.input, totals.torchsummary)


def training_sizes(report: Report) -> TorchSummarySizes | None:
    """torchsummary of the model in training mode, its default: the aux heads run. None
    where an aux head cannot be built."""
    totals = report.totals
    if totals is None or totals.torchsummary_with_aux is None:
        return None
    return TorchSummarySizes.of(report.input, totals.torchsummary_with_aux)
