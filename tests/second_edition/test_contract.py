"""The second edition's examples (design/language.md, "Second edition") parse and build as
written, verbatim, and mean what the page says."""

from __future__ import annotations

import pytest

from netspec.api import check_text, compile_text
from netspec.ir import (
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    Add,
    BatchNorm,
    Conv,
    Dense,
    DepthwiseConv,
    GlobalMaxPool,
    Multiply,
    Network,
    SeparableConv,
    ZeroPad,
)
from tests.helpers import CLASSIFIER, header

NEW_LAYERS = """\
identity                     # passes its input on (a shortcut branch)
relu                         # an activation name alone is an activation layer
relu6                        # (every name `defaults:` accepts as an activation)
pad 3                        # zero padding, 3 on every side
pad 0,1,0,1                  # top, bottom, left, right (Keras ZeroPadding2D)
dwconv 3x3/2                 # depthwise conv, one filter per channel; `mult=2` multiplies depth
sepconv 3x3 728              # separable conv: depthwise then pointwise (Keras SeparableConv2D)
conv 3x3 256 groups=32       # grouped conv (ResNeXt); groups must divide both widths
avgpool to 4x4               # adaptive pooling to a fixed grid (torchvision's InceptionAux)
maxpool to 1x1
gmp                          # global max pooling
dense 128 nobias bn linear   # dense takes options like conv: activation, bias/nobias, bn
"""

NEW_MERGES = """\
branch: conv 1x1 64
branch: identity
merge add                    # element-wise sum; every branch gives the same H x W x C
branch: conv 1x1 64
branch: identity
merge add relu               # the sum, then an activation
branch: identity
branch: gap -> dense 4 relu -> dense 64 sigmoid
merge mul                    # element-wise product; a branch may give a C-vector or
                             # 1x1xC, broadcast over the grid (squeeze-and-excitation)
"""

NEW_MODULES = """\
module bottleneck(w, out, s=1):                # `s` is optional, default 1
  branch: conv 1x1/s out linear bn             # projection shortcut
  branch: conv 1x1/s w -> conv 3x3 w -> conv 1x1 out linear
  merge add relu

module identity_block(w, out):
  branch: identity
  branch: conv 1x1 w -> conv 3x3 w -> conv 1x1 out linear
  merge add relu

module se(c, r):                               # squeeze-and-excitation
  branch: identity
  branch: gap -> dense r relu -> dense c sigmoid
  merge mul

bottleneck conv3_1 w=128 out=512 s=2
"""


def lowered(body: str, head: str) -> Network:
    return compile_text(head + body, "t.ns")


def test_every_new_layer_parses_and_lowers_in_order() -> None:
    network = lowered(NEW_LAYERS + "flatten\ndense classes\n", header(64, 64, 64))
    kinds = [type(node) for node in network.layers[1:] if not node.part_of]
    # identity adds no node: it hands its input on
    assert kinds[:11] == [
        Activation, Activation, ZeroPad, ZeroPad, DepthwiseConv, SeparableConv, Conv,
        AdaptiveAvgPool, AdaptiveMaxPool, GlobalMaxPool, BatchNorm,
    ]  # fmt: skip
    relu, relu6 = network.layers[1:3]
    assert (relu.function, relu6.function) == ("relu", "relu6")
    every_side, sides = network.by_name["pad1"], network.by_name["pad2"]
    assert (every_side.top, every_side.bottom, every_side.left, every_side.right) == (3, 3, 3, 3)
    assert (sides.top, sides.bottom, sides.left, sides.right) == (0, 1, 0, 1)
    assert network.by_name["dwconv1"].stride == (2, 2)
    assert network.by_name["conv1"].groups == 32
    assert network.by_name["avgpool1"].grid == (4, 4)
    dense = network.by_name["dense1/dense"]
    assert isinstance(dense, Dense)
    assert (dense.units, dense.bias, dense.activation) == (128, False, "linear")
    assert network.by_name["dense1"].kind == "bn"  # linear: the batch norm ends the line


def test_new_merges_sum_activate_and_broadcast() -> None:
    network = lowered(NEW_MERGES + CLASSIFIER, header(8, 8, 64))
    add = network.by_name["g1/add"]
    assert isinstance(add, Add) and add.inputs == ("g1/b1/conv1", "input")
    relu = network.by_name["g2/add"]
    assert isinstance(relu, Activation) and relu.inputs == ("g2/add/add",)
    mul = network.by_name["g3/mul"]
    assert isinstance(mul, Multiply) and mul.inputs == ("g2/add", "g3/b2/dense2")


def test_module_defaults_and_strides_from_parameters() -> None:
    network = lowered(NEW_MODULES + CLASSIFIER, header(56, 56, 256))
    shortcut = network.by_name["conv3_1/b1/conv1/conv"]
    first = network.by_name["conv3_1/b2/conv1"]
    assert isinstance(shortcut, Conv) and isinstance(first, Conv)
    assert (shortcut.stride, first.stride) == ((2, 2), (2, 2))
    default = lowered(NEW_MODULES.replace(" s=2", "") + CLASSIFIER, header(56, 56, 256))
    assert default.by_name["conv3_1/b2/conv1"].stride == (1, 1)


@pytest.mark.parametrize(
    "block",
    [*NEW_LAYERS.splitlines()[:-1], "gap\n" + NEW_LAYERS.splitlines()[-1], NEW_MERGES, NEW_MODULES],
)
def test_the_examples_check_without_errors(block: str) -> None:
    report = check_text(header(64, 64, 64) + block + "\nflatten\ndense classes\n", "t.ns")
    assert [d.message for d in report.diagnostics if d.is_error] == []
