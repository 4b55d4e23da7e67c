"""torchsummary's printout, computed from the IR: the classic PyTorch GoogLeNet's figures
(issue 16) component by component, and the module rule on a small network by hand."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from netspec.analysis.report import Report
from netspec.analysis.torchsummary import (
    AUX_HEAD,
    CONV_BLOCK,
    TorchSummarySizes,
    inference_sizes,
    module_calls,
    training_sizes,
)
from netspec.api import check_file, check_text, compile_file, compile_text
from netspec.render import torchsummary_line
from tests.helpers import spec

CLASSIC = Path("examples/googlenet_82x82.ns")
# What the classic code calls the modules netspec names by kind, function or wrapper.
PYTORCH_CLASS = {
    "conv": "Conv2d",
    "relu": "ReLU",
    CONV_BLOCK: "BasicConv2d",
    "maxpool": "MaxPool2d",
    "inception": "Inception",
    "adaptive_avgpool": "AdaptiveAvgPool2d",
    "gap": "AdaptiveAvgPool2d",
    "dense": "Linear",
    "dropout": "Dropout",
    AUX_HEAD: "InceptionAux",
}


def printed(sizes: TorchSummarySizes | None) -> tuple[str, str, str, str]:
    """The four sizes as torchsummary prints them (`%0.2f`)."""
    assert sizes is not None
    figures = (sizes.input_mb, sizes.forward_backward_mb, sizes.params_mb, sizes.total_mb)
    first, second, third, fourth = (f"{mb:.2f}" for mb in figures)
    return first, second, third, fourth


def outputs_by_class(report: Report, calls: dict[str, tuple[str, ...]]) -> Counter[str]:
    values: Counter[str] = Counter()
    for layer in report.layers:
        for call in calls[layer.name]:
            values[PYTORCH_CLASS[call]] += math.prod(layer.output)
    return values


def test_the_classic_googlenet_prints_what_its_pytorch_code_prints() -> None:
    report = check_file(CLASSIC)
    assert report.totals is not None
    assert (report.totals.params, report.totals.params_with_aux) == (5_975_602, 10_309_430)
    calls = module_calls(compile_file(CLASSIC))
    # Issue 16: the printout lists 210 modules: 59 convs three times (Conv2d, ReLU,
    # BasicConv2d), 13 max pools, 9 Inception blocks, 3 adaptive average pools (the aux
    # heads' 4x4 and the head's), 5 Linear, 2 InceptionAux and the head's Dropout.
    assert Counter(PYTORCH_CLASS[c] for hooked in calls.values() for c in hooked) == {
        "Conv2d": 59,
        "ReLU": 59,
        "BasicConv2d": 59,
        "MaxPool2d": 13,
        "Inception": 9,
        "AdaptiveAvgPool2d": 3,
        "Linear": 5,
        "InceptionAux": 2,
        "Dropout": 1,
    }
    # Their outputs, from the issue; each InceptionAux outputs its 2 class scores.
    assert outputs_by_class(report, calls) == {
        "Conv2d": 427_072,
        "ReLU": 427_072,
        "BasicConv2d": 427_072,
        "MaxPool2d": 187_664,
        "Inception": 162_704,
        "AdaptiveAvgPool2d": 16_640 + 1_024,
        "Linear": 2_054,
        "InceptionAux": 2 * 2,
        "Dropout": 1_024,
    }
    training = training_sizes(report)
    assert training is not None
    assert (training.modules, training.params) == (210, 10_309_430)
    assert training.forward_backward_mb == 2 * 1_652_330 * 4 / 1024**2
    assert printed(training) == ("0.08", "12.61", "39.33", "52.01")


def test_in_eval_mode_the_aux_heads_do_not_run() -> None:
    report = check_file(CLASSIC)
    inference = inference_sizes(report)
    assert inference is not None
    # Without the aux heads' pools (16,640), conv blocks (3 x 2 x 2,048), Linear layers
    # (2 x 1,026) and their own outputs (4): what torchsummary 1.5.1 prints for the classic
    # code after model.eval() (torch 2.13.0, CPU).
    values = 1_652_330 - 16_640 - 3 * 2 * 2_048 - 2 * 1_026 - 4
    assert inference.forward_backward_mb == 2 * values * 4 / 1024**2
    assert (inference.modules, inference.params) == (210 - 14, 5_975_602)
    assert printed(inference) == ("0.08", "12.37", "22.80", "35.24")


def test_the_line_gives_the_training_printout_and_the_inference_total_beside_it() -> None:
    assert torchsummary_line(check_file(CLASSIC)) == (
        "torchsummary   with aux heads: input 0.08, forward/backward pass 12.61, params 39.33, "
        "estimated total 52.01 MB; without: 35.24 MB"
    )
    no_aux = torchsummary_line(check_text(spec("conv 3x3 4\ngap\ndense classes\n")))
    assert no_aux.startswith("torchsummary   input 0.01,") and "without" not in no_aux
    # At 32x32 the aux heads' 4x4 pools cannot be built: the inference model alone.
    small = check_file(CLASSIC, (32, 32, None))
    assert small.totals is not None and small.totals.aux_params is None
    assert torchsummary_line(small).startswith("torchsummary   without aux heads: input 0.01,")


SMALL = """\
network t
input 8x8x1
classes 10

module res:
  branch: conv 1x1 4 linear
  merge residual scale=0.5

pad 1
conv 3x3 4 bn
res r
branch: conv 1x1 2
branch: maxpool 3x3/1 same -> conv 1x1 2
merge concat
flatten
dense 8
dropout 0.5
aux a:
  dense 6
  dropout 0.5
  dense classes
dense classes
"""


def test_which_layers_are_modules() -> None:
    calls = module_calls(compile_text(SMALL))
    # Padding, a residual's scale and sum, torch.cat and flatten are calls; the block wraps
    # a conv with its batch norm and activation, or a linear conv alone.
    assert {name: hooked for name, hooked in calls.items() if hooked} == {
        "conv1/conv": ("conv",),
        "conv1/bn": ("bn",),
        "conv1": ("relu", CONV_BLOCK),
        "r/b1/conv1": ("conv", CONV_BLOCK),
        "r/project": ("conv",),
        "r": ("relu", "res"),
        "g1/b1/conv1": ("conv", "relu", CONV_BLOCK),
        "g1/b2/maxpool1": ("maxpool",),
        "g1/b2/conv1": ("conv", "relu", CONV_BLOCK),
        "dense1": ("dense", "relu"),
        "dropout1": ("dropout",),
        # In the aux head the dense layer's relu and the dropout are calls.
        "a/dense1": ("dense",),
        "a/dense2": ("dense", AUX_HEAD),
        "dense2": ("dense",),
    }


def test_the_small_network_adds_up_by_hand() -> None:
    report = check_text(SMALL)
    assert report.totals is not None
    map10 = 10 * 10  # every map is 10x10 after `pad 1`
    values = (
        4 * map10 * 4  # conv1: conv, bn, relu, block
        + 2 * map10 * 4  # r/b1/conv1: conv and block
        + map10 * 4  # r/project
        + 2 * map10 * 4  # r: relu and the instance
        + 2 * 3 * map10 * 2  # the branches' conv blocks
        + map10 * 4  # the branch's max pool
        + 2 * 8  # dense1 and its relu
        + 8  # dropout1
        + 10  # dense2
    )
    params = 9 * 4 + 2 * 4 + 2 * (4 * 4 + 4) + 2 * (4 * 2 + 2) + (400 * 8 + 8) + (8 * 10 + 10)
    inference = report.totals.torchsummary
    assert (inference.modules, inference.values, inference.params) == (20, values, params)
    with_aux = report.totals.torchsummary_with_aux
    assert with_aux is not None
    aux_params = (8 * 6 + 6) + (6 * 10 + 10)
    assert (with_aux.modules, with_aux.values, with_aux.params) == (
        20 + 3,
        values + 6 + 2 * 10,
        params + aux_params,
    )
    mb = 4 / 1024**2  # bytes per float32, in MB
    sizes = training_sizes(report)
    assert sizes is not None
    assert sizes.input_mb == pytest.approx(8 * 8 * 1 * mb)
    assert sizes.forward_backward_mb == pytest.approx(2 * (values + 26) * mb)
    assert sizes.params_mb == pytest.approx((params + aux_params) * mb)
    assert sizes.total_mb == pytest.approx((8 * 8 + 2 * (values + 26) + params + aux_params) * mb)
