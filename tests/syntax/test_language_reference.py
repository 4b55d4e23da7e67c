"""Every construct of the language contract parses as written, into the statements it means.

The snippets are the contract's own examples, verbatim (design/language.md).
"""

from __future__ import annotations

import pytest

from netspec.syntax import ast
from netspec.syntax.parser import parse
from tests.helpers import CLASSIFIER, HEADER, spec

CONTRACT_HEADER = """\
network googlenet          # required, first statement
input 224x224x3            # H x W x C, required
classes 1000               # required; `classes` may stand for a width below
"""

CONTRACT_DEFAULTS = """\
defaults:
  conv relu same bias      # attributes applied to every conv unless it says otherwise
  pool same                # padding for max/avg pooling
  bn scale=false           # options for every batch norm (Keras InceptionV3 uses scale=false)
"""

CONTRACT_LAYERS = """\
conv 7x7/2 64              # kernel/stride, filters, then attributes
conv 3x3/2 384 valid
conv 1x7 128
maxpool 3x3/2              # pool window/stride, optional same|valid
avgpool 5x5/3 valid
gap                        # global average pooling
flatten
dense 1024                 # units, optional activation (relu default)
dense classes              # the classifier: logits, one per class
dropout 0.4
bn
lrn                        # local response normalization (GoogLeNet v1 stem)
"""

CONTRACT_INCEPTION = "inception 3a 64/96-128/16-32/32\n"

CONTRACT_BRANCHES = """\
branch: conv 1x1 320
branch:
  conv 1x1 384
  branch: conv 1x3 384     # nested group: fork, then concat
  branch: conv 3x1 384
branch: avgpool 3x3/1 -> conv 1x1 192
"""

CONTRACT_MODULES = """\
module inception_a(pool):
  branch: conv 1x1 64
  branch: conv 1x1 48 -> conv 5x5 64
  branch: conv 1x1 64 -> conv 3x3 96 -> conv 3x3 96
  branch: avgpool 3x3/1 same -> conv 1x1 pool

inception_a mixed0 pool=32      # instance: module, name, arguments
repeat 10:                      # instances named block35_1 .. block35_10
  block35 scale=0.17
"""

CONTRACT_AUX = """\
inception 4a 192/96-208/16-48/64
aux aux1 weight=0.3:
  avgpool 5x5/3 valid
  conv 1x1 128
  flatten
  dense 1024
  dropout 0.7
  dense classes
"""

CONTRACT_HEAD = """\
head:
  gap
  dropout 0.4
  dense classes
"""

CONTRACT_TRAIN = """\
train:
  dataset cifar100           # cifar10 | cifar100 | fashion_mnist | mnist | folder "path" | synthetic
  epochs 200
  batch 128                  # global batch, split across replicas
  optimizer sgd lr=0.1 momentum=0.9 nesterov
  schedule step at=60,120,160 gamma=0.2 warmup=1
  weight_decay 5e-4
  augment crop=4 flip
  label_smoothing 0.1
"""  # noqa: E501 (the contract's example, verbatim)

# The third edition, continued: the modern CNNs and computed arguments.
CONTRACT_THIRD = """\
module mbconv(c_in, c_out, e, k, s=1):
  conv 1x1 (c_in*e) swish bn
  dwconv (k)x(k)/s swish bn            # a kernel side from a parameter: in parentheses
  se squeeze c=(c_in*e) r=(c_in//4)    # arithmetic in arguments: in parentheses;
  conv 1x1 c_out linear bn             # bare `w*4` is also accepted (no other meaning)
  dropout 0.2 per_sample               # drop the whole sample (stochastic depth /
                                       # drop-connect: Keras noise_shape (None,1,1,1))

rescale 1/255                          # Keras Rescaling: x * scale (+ offset=), 0 params
normalize                              # Keras Normalization over channels: mean, variance
                                       # (C each) and count, not trainable: 2C+1
layernorm                              # Keras LayerNormalization over channels: 2C
                                       # (`eps=`); `bn` stays batch norm
pointwise 384 gelu                     # a dense applied at every position of a map (Keras
                                       # Dense on a 4-D tensor): C*F (+F); `dense` on a map
                                       # stays the `dense-needs-flat` error
layerscale 1e-6                        # a learnable per-channel scale (ConvNeXt): C
"""

CONTRACT_BLOCKS = {
    "defaults": CONTRACT_DEFAULTS,
    "layers": CONTRACT_LAYERS,
    "inception": CONTRACT_INCEPTION,
    "branches": CONTRACT_BRANCHES,
    "modules": CONTRACT_MODULES,
    "aux": CONTRACT_AUX,
    "head": CONTRACT_HEAD,
    "train": CONTRACT_TRAIN,
    "third edition": CONTRACT_THIRD,
    "sections": "stem:\n  conv 7x7/2 64\nstage 4:\n  conv 1x1 8\nstage mixed:\n  conv 1x1 8\n",
    "parameterless module": "module reduction_a:\n  branch: maxpool 3x3/2\n"
    "  branch: conv 3x3/2 384 valid\nreduction_a mixed3\n",
    "same-line chain": "branch: conv 1x1 48 -> conv 5x5 64\n",
}


def statements(body: str, header: str = HEADER) -> tuple[ast.Statement, ...]:
    """The top-level statements after the header."""
    return parse(spec(body, header)).statements[3:]


def written(value: ast.Value | None) -> int | float | str | None:
    """A value as the spec wrote it: a number, or the name standing for one."""
    if value is None:
        return None
    return value.value if isinstance(value, ast.Number) else value.name


@pytest.mark.parametrize("block", CONTRACT_BLOCKS.values(), ids=CONTRACT_BLOCKS.keys())
def test_every_contract_example_parses_as_written(block: str) -> None:
    assert statements(block, CONTRACT_HEADER)


def test_header_with_comments() -> None:
    network, shape, classes = parse(CONTRACT_HEADER).statements
    assert network == ast.NetworkStmt("googlenet", ast.Pos(1, 1))
    assert (shape.height, shape.width, shape.channels) == (224, 224, 3)
    assert classes.number.value == 1000


def kernel(layer: ast.LayerStmt) -> tuple[int, int, int | float | str | None] | None:
    if layer.kernel is None:
        return None
    return written(layer.kernel.height), written(layer.kernel.width), written(layer.kernel.stride)


def test_every_layer_form() -> None:
    layers = statements(CONTRACT_LAYERS)
    assert [(s.kind, kernel(s), written(s.size)) for s in layers] == [
        ("conv", (7, 7, 2), 64),
        ("conv", (3, 3, 2), 384),
        ("conv", (1, 7, None), 128),
        ("maxpool", (3, 3, 2), None),
        ("avgpool", (5, 5, 3), None),
        ("gap", None, None),
        ("flatten", None, None),
        ("dense", None, 1024),
        ("dense", None, "classes"),
        ("dropout", None, 0.4),
        ("bn", None, None),
        ("lrn", None, None),
    ]
    assert [o.name for o in layers[1].options] == ["valid"]
    assert [o.name for o in layers[4].options] == ["valid"]


def test_defaults_block_holds_one_setting_per_line() -> None:
    (block,) = statements(CONTRACT_DEFAULTS)
    assert block.kind == "defaults"
    assert [(line.key, [w.name for w in line.words]) for line in block.lines] == [
        ("conv", ["relu", "same", "bias"]),
        ("pool", ["same"]),
        ("bn", ["scale"]),
    ]
    (scale,) = block.lines[2].words
    assert scale.values == (ast.Ref("false", ast.Pos(7, 12)),)


def test_a_same_line_chain_is_the_statements_one_after_another() -> None:
    (group,) = statements("branch: conv 1x1 48 -> conv 5x5 64\n")
    (branch,) = group.branches
    assert [(s.kind, s.kernel.height.value, s.size.value) for s in branch.body] == [
        ("conv", 1, 48),
        ("conv", 5, 64),
    ]
    top_level = statements("conv 1x1 8 -> conv 3x3 16 -> maxpool 3x3/2\n")
    assert [s.kind for s in top_level] == ["conv", "conv", "maxpool"]


def test_consecutive_branches_form_one_group_and_groups_nest() -> None:
    (group,) = statements(CONTRACT_BRANCHES)
    assert len(group.branches) == 3  # the nested pair belongs to the second branch
    assert group.merge is None
    nested = group.branches[1].body
    assert [type(s).__name__ for s in nested] == ["LayerStmt", "BranchGroup"]
    assert len(nested[1].branches) == 2


def test_a_merge_line_right_after_a_group_belongs_to_it() -> None:
    body = "branch: conv 1x1 8\nbranch: conv 1x1 8\nmerge residual scale=0.17\n"
    (group,) = statements(body)
    assert group.merge.mode == "residual"
    assert group.merge.options == (
        ast.Option("scale", (ast.Number(0.17, ast.Pos(6, 22)),), ast.Pos(6, 16)),
    )
    (linear,) = statements("branch: conv 1x1 8\nmerge residual scale=1 linear\n")
    assert [o.name for o in linear.merge.options] == ["scale", "linear"]


def test_inception_shorthand_has_six_widths() -> None:
    (inception,) = statements(CONTRACT_INCEPTION)
    assert inception.name == "3a"
    assert [w.value for w in inception.widths] == [64, 96, 128, 16, 32, 32]
    assert inception.name_pos == ast.Pos(4, 11)


def test_modules_instances_and_repeat() -> None:
    module, instance, repeat = statements(CONTRACT_MODULES)
    assert (module.name, [p.name for p in module.params]) == ("inception_a", ["pool"])
    assert len(module.body) == 1 and len(module.body[0].branches) == 4
    assert (instance.module, instance.name) == ("inception_a", "mixed0")
    assert instance.arguments == (
        ast.Argument("pool", ast.Number(32, ast.Pos(10, 25)), ast.Pos(10, 20)),
    )
    assert repeat.times.value == 10
    (block35,) = repeat.body
    assert (block35.module, block35.name, block35.arguments[0].name) == ("block35", None, "scale")


def test_a_module_without_parameters_drops_the_parentheses() -> None:
    module, instance = statements(CONTRACT_BLOCKS["parameterless module"])
    assert (module.name, module.params) == ("reduction_a", ())
    assert (instance.module, instance.name, instance.arguments) == ("reduction_a", "mixed3", ())


def test_aux_head_and_head() -> None:
    _, aux = statements(CONTRACT_AUX)
    (weight,) = aux.options
    assert (aux.name, weight.name, written(weight.values[0])) == ("aux1", "weight", 0.3)
    assert [s.kind for s in aux.body] == ["avgpool", "conv", "flatten", "dense", "dropout", "dense"]
    (head,) = statements(CONTRACT_HEAD)
    assert (head.kind, head.name, [s.kind for s in head.body]) == (
        "head",
        None,
        ["gap", "dropout", "dense"],
    )


def test_sections_stem_stage_and_head() -> None:
    stem, stage4, named = statements(CONTRACT_BLOCKS["sections"])
    assert [(s.kind, s.name) for s in (stem, stage4, named)] == [
        ("stem", None),
        ("stage", "4"),
        ("stage", "mixed"),
    ]


def test_train_block_words() -> None:
    (train,) = statements(CONTRACT_TRAIN)
    assert train.kind == "train"
    assert [line.key for line in train.lines] == [
        "dataset",
        "epochs",
        "batch",
        "optimizer",
        "schedule",
        "weight_decay",
        "augment",
        "label_smoothing",
    ]
    schedule = train.lines[4]
    at = next(word for word in schedule.words if word.name == "at")
    assert [value.value for value in at.values] == [60, 120, 160]
    weight_decay = train.lines[5].words[0]
    assert weight_decay.value == pytest.approx(5e-4)


@pytest.mark.parametrize("word", ["3a", "mixed_5b", "aux1", "x3", "3x3a", "_1", "1x"])
def test_names_are_neither_integers_nor_kernels(word: str) -> None:
    (instance,) = statements(f"module m:\n  conv 1x1 8\nm {word}\n")[1:]
    assert instance.name == word


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.4", 0.4), ("5e-4", 5e-4), ("64", 64), ("1E3", 1000.0), (".5", 0.5)],
)
def test_numbers_are_integers_and_decimals(text: str, value: float) -> None:
    (dropout,) = statements(f"dropout {text}\n")
    assert dropout.size.value == pytest.approx(value)
    assert isinstance(dropout.size.value, int) == text.isdigit()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3x3", (3, 3, None)), ("1x7", (1, 7, None)), ("7x1/2", (7, 1, 2)), ("3x3/2", (3, 3, 2))],
)
def test_kernels_with_optional_stride(text: str, expected: tuple[int, int, int | None]) -> None:
    (conv,) = statements(f"conv {text} 8\n")
    assert kernel(conv) == expected


def test_comments_blank_lines_and_odd_comment_indentation_are_ignored() -> None:
    body = """\
        # a whole-line comment

        stem:   # after the colon
          conv 1x1 8   # after a layer
        # a comment at column 1 inside the block
              # and one indented deeper

          conv 1x1 8
        """
    (stem,) = statements(body)
    assert [s.kind for s in stem.body] == ["conv", "conv"]


def test_windows_line_endings_and_a_missing_final_newline() -> None:
    text = spec("stem:\n  conv 1x1 8\n" + CLASSIFIER).replace("\n", "\r\n").removesuffix("\r\n")
    stem, gap, dense = parse(text).statements[3:]
    assert [s.kind for s in stem.body] == ["conv"]
    assert (gap.kind, dense.kind, dense.pos) == ("gap", "dense", ast.Pos(7, 1))


def test_positions_are_those_of_the_source() -> None:
    (stem,) = statements("stem:\n  conv 3x3/2 64 valid\n")
    (conv,) = stem.body
    assert conv.pos == ast.Pos(5, 3)
    assert conv.kernel.pos == ast.Pos(5, 8)
    assert conv.size.pos == ast.Pos(5, 14)
    assert conv.options[0].pos == ast.Pos(5, 17)


def test_the_third_editions_constructs_parse_into_what_they_mean() -> None:
    module, rescale, normalize, layernorm, pointwise, layerscale = statements(CONTRACT_THIRD)
    expand, depthwise, squeeze, project, dropout = module.body
    assert expand.size == ast.Expr(
        "*", ast.Ref("c_in", ast.Pos(5, 13)), ast.Ref("e", ast.Pos(5, 18)), ast.Pos(5, 12), "c_in*e"
    )
    assert kernel(depthwise) == ("k", "k", "s")
    assert [(a.name, ast.written(a.value)) for a in squeeze.arguments] == [
        ("c", "c_in*e"),
        ("r", "c_in//4"),
    ]
    assert written(project.size) == "c_out"
    assert (dropout.kind, written(dropout.size), [o.name for o in dropout.options]) == (
        "dropout",
        0.2,
        ["per_sample"],
    )
    assert (rescale.kind, rescale.size.op, rescale.size.text) == ("rescale", "/", "1/255")
    # `normalize` is a layer statement of its own, for its lists (`mean=1,2,3`).
    assert (normalize.kind, normalize.options, layernorm.module) == ("normalize", (), "layernorm")
    assert (pointwise.kind, written(pointwise.size), pointwise.options[0].name) == (
        "pointwise",
        384,
        "gelu",
    )
    assert (layerscale.kind, written(layerscale.size)) == ("layerscale", 1e-6)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("w*4", "w*4"),
        ("(a+b*c)", "a+b*c"),
        ("((a+b)*c)", "(a+b)*c"),
        ("(a-(b-c))", "a-(b-c)"),
        ("(a-b-c)", "a-b-c"),
        ("(a//(2*b))", "a//(2*b)"),
    ],
)
def test_an_expression_keeps_its_meaning_in_the_text_it_is_named_by(text: str, shown: str) -> None:
    (conv,) = statements(f"conv 1x1 {text}\n")
    assert ast.written(conv.size) == shown


def test_a_negative_number_is_a_number() -> None:
    (rescale,) = statements("rescale 1/127.5 offset=-1\n")
    assert rescale.options == (
        ast.Option("offset", (ast.Number(-1, ast.Pos(4, 24)),), ast.Pos(4, 17)),
    )
