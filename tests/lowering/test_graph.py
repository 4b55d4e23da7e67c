"""Lowering: each construct becomes the named layer graph the language reference describes."""

from __future__ import annotations

import pytest

from netspec.api import compile_text
from netspec.ir import AuxHead, Concat, Conv, Dense, MaxPool, Network, Scale
from tests.helpers import CLASSIFIER, clean, compile_spec, header, layer, snippet, spec, statement


def graph(network: Network) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, kind, inputs) per layer, the input layer left out."""
    return [(each.name, each.kind, each.inputs) for each in network.layers[1:]]


def names(network: Network) -> list[str]:
    return [each.name for each in network.layers[1:]]


def test_a_spec_without_sections_names_layers_by_kind() -> None:
    network = compile_spec("conv 3x3 8\nconv 3x3 8\nmaxpool 2x2\n" + CLASSIFIER)
    assert graph(network) == [
        ("conv1", "conv", ("input",)),
        ("conv2", "conv", ("conv1",)),
        ("maxpool1", "maxpool", ("conv2",)),
        ("gap1", "gap", ("maxpool1",)),
        ("dense1", "dense", ("gap1",)),
    ]
    assert network.output == "dense1"


def test_sections_name_and_group_layers_without_changing_them() -> None:
    body = snippet("""
        stem:
          conv 7x7/2 64
          maxpool 3x3/2
        stage 4:
          conv 1x1 8
          maxpool 3x3/2
        stage mixed:
          conv 1x1 8
        head:
          gap
          dense classes
        """)
    network = compile_spec(body)
    assert [(each.name, each.section) for each in network.layers[1:]] == [
        ("stem/conv1", "stem"),
        ("stem/maxpool1", "stem"),
        ("stage4/conv1", "stage4"),
        ("stage4/maxpool1", "stage4"),
        ("mixed/conv1", "mixed"),
        ("head/gap1", "head"),
        ("head/dense1", "head"),
    ]
    plain = compile_spec("conv 7x7/2 64\nmaxpool 3x3/2\nconv 1x1 8\nmaxpool 3x3/2\n" + CLASSIFIER)
    strip = ("name", "section", "span", "inputs")
    assert [each.model_dump(exclude=set(strip)) for each in network.layers[1:4]] == [
        each.model_dump(exclude=set(strip)) for each in plain.layers[1:4]
    ]


def test_inception_shorthand_is_four_branches_concatenated() -> None:
    network = compile_spec(
        "stage 4:\n  inception 4a 192/96-208/16-48/64\n" + CLASSIFIER, header(14, 14, 480)
    )
    assert graph(network)[:9] == [
        ("4a/b1/conv1", "conv", ("input",)),
        ("4a/b2/conv1", "conv", ("input",)),
        ("4a/b2/conv2", "conv", ("4a/b2/conv1",)),
        ("4a/b3/conv1", "conv", ("input",)),
        ("4a/b3/conv2", "conv", ("4a/b3/conv1",)),
        ("4a/b4/maxpool1", "maxpool", ("input",)),
        ("4a/b4/conv1", "conv", ("4a/b4/maxpool1",)),
        ("4a", "concat", ("4a/b1/conv1", "4a/b2/conv2", "4a/b3/conv2", "4a/b4/conv1")),
        ("gap1", "gap", ("4a",)),
    ]
    convs = [each for each in network.layers if isinstance(each, Conv)]
    assert [(c.kernel, c.filters) for c in convs] == [
        ((1, 1), 192),
        ((1, 1), 96),
        ((3, 3), 208),
        ((1, 1), 16),
        ((5, 5), 48),
        ((1, 1), 64),
    ]
    pool = network.by_name["4a/b4/maxpool1"]
    assert isinstance(pool, MaxPool)
    assert (pool.window, pool.stride, pool.padding) == ((3, 3), (1, 1), "same")
    assert {each.role for each in network.layers[1:8]} == {"branch"}
    assert network.by_name["4a"].role == "trunk"


def test_inception_3a_gives_256_channels_and_its_exact_parameters() -> None:
    report = clean("inception 3a 64/96-128/16-32/32\n" + CLASSIFIER, header(28, 28, 192))
    assert layer(report, "3a").output == (28, 28, 256)
    # 1x1: 192*64+64; 3x3: 192*96+96 + 9*96*128+128; 5x5: 192*16+16 + 25*16*32+32; pool: 192*32+32
    assert sum(row.params for row in report.layers if row.name.startswith("3a")) == 163_696


def test_nested_groups_fork_then_concatenate() -> None:
    body = snippet("""
        branch: conv 1x1 320
        branch:
          conv 1x1 384
          branch: conv 1x3 384     # nested group: fork, then concat
          branch: conv 3x1 384
        branch: avgpool 3x3/1 -> conv 1x1 192
        """)
    network = compile_spec(body + CLASSIFIER, header(8, 8, 1280))
    assert graph(network)[:9] == [
        ("g1/b1/conv1", "conv", ("input",)),
        ("g1/b2/conv1", "conv", ("input",)),
        ("g1/b2/b1/conv1", "conv", ("g1/b2/conv1",)),
        ("g1/b2/b2/conv1", "conv", ("g1/b2/conv1",)),
        ("g1/b2/concat", "concat", ("g1/b2/b1/conv1", "g1/b2/b2/conv1")),
        ("g1/b3/avgpool1", "avgpool", ("input",)),
        ("g1/b3/conv1", "conv", ("g1/b3/avgpool1",)),
        ("g1/concat", "concat", ("g1/b1/conv1", "g1/b2/concat", "g1/b3/conv1")),
        ("gap1", "gap", ("g1/concat",)),
    ]
    report = clean(body + CLASSIFIER, header(8, 8, 1280))
    assert layer(report, "g1/b2/concat").output == (8, 8, 768)
    assert layer(report, "g1/concat").output == (8, 8, 320 + 768 + 192)


def test_every_group_of_a_scope_gets_its_own_name() -> None:
    body = "branch: conv 1x1 8\nbranch: conv 1x1 8\nconv 1x1 8\nbranch: conv 1x1 4\nbranch: bn\n"
    assert graph(compile_spec(body + CLASSIFIER))[2:7] == [
        ("g1/concat", "concat", ("g1/b1/conv1", "g1/b2/conv1")),
        ("conv1", "conv", ("g1/concat",)),
        ("g2/b1/conv1", "conv", ("conv1",)),
        ("g2/b2/bn1", "bn", ("conv1",)),
        ("g2/concat", "concat", ("g2/b1/conv1", "g2/b2/bn1")),
    ]


def test_a_group_of_one_branch_is_that_branch() -> None:
    network = compile_spec("branch: conv 1x1 8\n" + CLASSIFIER)
    assert graph(network)[0] == ("g1/b1/conv1", "conv", ("input",))
    assert not any(isinstance(each, Concat) for each in network.layers)


def test_merge_concat_is_the_default() -> None:
    group = "branch: conv 1x1 8\nbranch: maxpool 3x3/1\n"
    implicit = compile_spec(group + CLASSIFIER)
    explicit = compile_spec(group + "merge concat\n" + CLASSIFIER)
    assert graph(implicit) == graph(explicit)
    assert graph(explicit)[2] == ("g1/concat", "concat", ("g1/b1/conv1", "g1/b2/maxpool1"))


@pytest.mark.parametrize(
    ("merge", "scale", "activation"),
    [
        ("merge residual scale=0.17", 0.17, "relu"),
        ("merge residual scale=1 linear", 1.0, "linear"),
        ("merge residual", 1.0, "relu"),
    ],
)
def test_residual_merge_lowers_to_concat_projection_scale_add_and_activation(
    merge: str, scale: float, activation: str
) -> None:
    body = f"branch: conv 1x1 16\nbranch: conv 1x1 16 -> conv 3x3 16\n{merge}\n"
    network = compile_spec(body + CLASSIFIER, header(8, 8, 32))
    nodes = [node for node in network.layers if node.name.startswith("g1/residual")]
    added = "g1/residual/add" if activation != "linear" else "g1/residual"
    expected = [
        ("g1/residual/concat", "concat", ("g1/b1/conv1", "g1/b2/conv2")),
        # the projection takes its width from its second input, the shortcut
        ("g1/residual/project", "conv", ("g1/residual/concat", "input")),
        ("g1/residual/scale", "scale", ("g1/residual/project",)),
        (added, "add", ("input", "g1/residual/scale")),
    ]
    if activation != "linear":
        expected.append(("g1/residual", "activation", ("g1/residual/add",)))
    assert [(node.name, node.kind, node.inputs) for node in nodes] == expected
    project = network.by_name["g1/residual/project"]
    assert isinstance(project, Conv)
    assert (project.filters, project.kernel, project.activation, project.bias) == (
        None,
        (1, 1),
        "linear",
        True,
    )
    assert network.by_name["g1/residual/scale"].factor == scale
    assert all(node.part_of == "g1/residual" for node in nodes[:-1])


def test_residual_merge_projection_parameters_and_output_shape() -> None:
    body = "branch: conv 1x1 16\nbranch: conv 1x1 16 -> conv 3x3 16\nmerge residual scale=0.17\n"
    merge = statement(clean(body + CLASSIFIER, header(8, 8, 32)), "g1/residual")
    # concat of 16+16 channels, projected back to 32 by a 1x1 conv with bias
    assert merge == ((8, 8, 32), 32 * 32 + 32, 8 * 8 * 32 * 32)


def test_modules_used_before_definition_with_and_without_parameters() -> None:
    body = snippet("""
        block 3a n=8
        reduction mixed3
        module block(n):
          branch: conv 1x1 n
          branch: conv 1x1 n -> conv 3x3 n
        module reduction:
          branch: maxpool 3x3/2
          branch: conv 3x3/2 16
        """)
    network = compile_spec(body + CLASSIFIER)
    assert graph(network)[:8] == [
        ("3a/b1/conv1", "conv", ("input",)),
        ("3a/b2/conv1", "conv", ("input",)),
        ("3a/b2/conv2", "conv", ("3a/b2/conv1",)),
        ("3a", "concat", ("3a/b1/conv1", "3a/b2/conv2")),
        ("mixed3/b1/maxpool1", "maxpool", ("3a",)),
        ("mixed3/b2/conv1", "conv", ("3a",)),
        ("mixed3", "concat", ("mixed3/b1/maxpool1", "mixed3/b2/conv1")),
        ("gap1", "gap", ("mixed3",)),
    ]
    assert [c.filters for c in network.layers if isinstance(c, Conv)] == [8, 8, 8, 16]


def test_a_module_using_another_module_nests_the_names() -> None:
    body = snippet("""
        module outer(w):
          inner a w=w
          inner b w=w
        module inner(w):
          conv 1x1 w
          conv 3x3 w
        outer x w=4
        """)
    network = compile_spec(body + CLASSIFIER)
    assert graph(network)[:4] == [
        ("x/a/conv1", "conv", ("input",)),
        ("x/a", "conv", ("x/a/conv1",)),
        ("x/b/conv1", "conv", ("x/a",)),
        ("x", "conv", ("x/b/conv1",)),
    ]
    assert {c.filters for c in network.layers if isinstance(c, Conv)} == {4}


def test_a_parameter_stands_wherever_a_number_may() -> None:
    body = snippet("""
        module m(width, units, rate, times, s, w, a, b, c, d, e, f):
          conv 3x3 width
          repeat times: conv 1x1 width
          inception i a/b-c/d-e/f
          branch: conv 1x1 width
          merge residual scale=s
          aux side weight=w:
            gap
            dense units
            dropout rate
            dense classes
        m x width=8 units=32 rate=0.5 times=3 s=0.2 w=0.25 a=1 b=2 c=3 d=4 e=5 f=6
        """)
    network = compile_spec(body + CLASSIFIER)
    convs = [c for c in network.layers if isinstance(c, Conv)]
    written = [c.filters for c in convs if not c.part_of]  # not the residual's projection
    assert written == [8, 8, 8, 8, 1, 2, 3, 4, 5, 6, 8]
    residual = next(each for each in network.layers if isinstance(each, Scale))
    assert residual.factor == 0.2
    (side,) = network.aux_heads
    assert side.weight == 0.25
    assert network.by_name["x/side/dense1"].units == 32
    assert network.by_name["x/side/dropout1"].rate == 0.5


def test_classes_stands_for_a_number() -> None:
    network = compile_spec("conv 1x1 classes\n" + CLASSIFIER, header(classes=7))
    assert network.by_name["conv1"].filters == 7
    assert network.by_name["dense1"].units == 7


def test_unnamed_instances_are_numbered_across_the_spec() -> None:
    body = "module m:\n  conv 1x1 8\nm\nconv 1x1 8\nm\n"
    assert names(compile_spec(body + CLASSIFIER))[:3] == ["m_1", "conv1", "m_2"]


def test_repeat_names_instances_block35_1_to_block35_10() -> None:
    body = snippet("""
        module block35(scale):
          branch: conv 1x1 32
          branch: conv 1x1 32 -> conv 3x3 32
          merge residual scale=scale
        repeat 10:
          block35 scale=0.17
        """)
    network = compile_spec(body + CLASSIFIER, header(35, 35, 320))
    trunk = [each.name for each in network.layers if each.role == "trunk" and not each.part_of]
    assert trunk == ["input", *(f"block35_{i}" for i in range(1, 11)), "gap1", "dense1"]
    assert network.by_name["block35_2/b1/conv1"].inputs == ("block35_1",)
    assert network.by_name["block35_7/b2/conv2"].inputs == ("block35_7/b2/conv1",)


def test_a_named_instance_inside_repeat_gets_a_suffix() -> None:
    body = "module m:\n  conv 1x1 8\nrepeat 3:\n  m unit\n"
    assert names(compile_spec(body + CLASSIFIER))[:3] == ["unit_1", "unit_2", "unit_3"]


def test_repeat_of_loose_layers_chains_them() -> None:
    network = compile_spec("repeat 3:\n  conv 1x1 8 -> bn\n" + CLASSIFIER)
    assert graph(network)[:6] == [
        ("conv1", "conv", ("input",)),
        ("bn1", "bn", ("conv1",)),
        ("conv2", "conv", ("bn1",)),
        ("bn2", "bn", ("conv2",)),
        ("conv3", "conv", ("bn2",)),
        ("bn3", "bn", ("conv3",)),
    ]


AUX_SPEC = """\
inception 4a 192/96-208/16-48/64
aux aux1 weight=0.3:
  avgpool 5x5/3 valid
  conv 1x1 128
  flatten
  dense 1024
  dropout 0.7
  dense classes
conv 1x1 256
gap
dense classes
"""


def test_an_aux_head_taps_where_it_is_written_and_the_trunk_goes_on() -> None:
    network = compile_spec(AUX_SPEC, header(14, 14, 480))
    assert network.aux_heads == (
        AuxHead(
            name="aux1", weight=0.3, tap="4a", output="aux1/dense2", span=dict(line=5, column=1)
        ),
    )
    assert network.by_name["aux1/avgpool1"].inputs == ("4a",)
    assert network.by_name["conv1"].inputs == ("4a",)
    assert network.output == "dense1"
    aux_layers = [each for each in network.layers if each.aux]
    assert [each.name for each in aux_layers] == [
        "aux1/avgpool1",
        "aux1/conv1",
        "aux1/flatten1",
        "aux1/dense1",
        "aux1/dropout1",
        "aux1/dense2",
    ]
    assert {(each.role, each.section, each.aux) for each in aux_layers} == {("aux", "aux1", "aux1")}
    assert not any(each.aux for each in network.inference_layers)


def test_aux_heads_are_excluded_from_the_inference_totals() -> None:
    report = clean(AUX_SPEC, header(14, 14, 480))
    aux_params = sum(row.params for row in report.layers if row.aux)
    # conv 1x1 512->128 with bias; dense 4*4*128 -> 1024; dense 1024 -> 10
    assert aux_params == (512 * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 10 + 10)
    assert report.totals.aux_params == aux_params
    assert report.totals.params == sum(row.params for row in report.layers if not row.aux)
    assert report.totals.params_with_aux == report.totals.params + aux_params
    assert [(head.name, head.weight, head.tap, head.line) for head in report.aux_heads] == [
        ("aux1", 0.3, "4a", 5)
    ]


def test_aux_weight_defaults_to_the_papers_0_3() -> None:
    network = compile_spec("conv 1x1 8\naux side:\n  gap\n  dense classes\n" + CLASSIFIER)
    assert network.aux_heads[0].weight == 0.3


def test_an_aux_head_inside_a_repeated_module_is_one_head_per_instance() -> None:
    body = "module m:\n  conv 1x1 8\n  aux side:\n    gap\n    dense classes\nrepeat 2:\n  m u\n"
    network = compile_spec(body + CLASSIFIER)
    assert [(head.name, head.tap) for head in network.aux_heads] == [
        ("u_1/side", "u_1"),
        ("u_2/side", "u_2"),
    ]


def test_the_last_dense_of_each_head_emits_logits() -> None:
    network = compile_spec(AUX_SPEC, header(14, 14, 480))
    activations = {each.name: each.activation for each in network.layers if isinstance(each, Dense)}
    assert activations == {"aux1/dense1": "relu", "aux1/dense2": "linear", "dense1": "linear"}
    named = compile_spec("gap\ndense classes sigmoid\n")
    assert named.by_name["dense1"].activation == "sigmoid"


def test_head_section() -> None:
    body = "conv 1x1 8\nhead:\n  gap\n  dropout 0.4\n  dense classes\n"
    network = compile_spec(body)
    assert graph(network)[1:] == [
        ("head/gap1", "gap", ("conv1",)),
        ("head/dropout1", "dropout", ("head/gap1",)),
        ("head/dense1", "dense", ("head/dropout1",)),
    ]
    assert network.output == "head/dense1"
    assert network.by_name["head/dropout1"].rate == 0.4


def test_input_override_keeps_or_replaces_the_channels() -> None:
    text = spec("conv 1x1 8\n" + CLASSIFIER)
    kept = compile_text(text, input_size=(64, 48, None)).input
    assert (kept.height, kept.width, kept.channels) == (64, 48, 3)
    replaced = compile_text(text, input_size=(16, 16, 1)).input
    assert (replaced.height, replaced.width, replaced.channels) == (16, 16, 1)
