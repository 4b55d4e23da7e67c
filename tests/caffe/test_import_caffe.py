"""`netspec import caffe` on prototxts written here, each a small piece of a published
network (the published files are measured for the README, not committed): the spec it
writes checks to the counts and sizes Caffe's own arithmetic gives, and bad input stops
with file and line."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netspec import api
from netspec.analysis.report import Report
from netspec.caffe import import_caffe
from netspec.cli import app
from netspec.diagnostics import NetspecError
from netspec.formatting import format_text
from tests.caffe.prototxts import classifier, conv, inception, input_layer, layer, pool


def caffe_pool(size: int, kernel: int, stride: int, pad: int) -> int:
    """Caffe's pooling arithmetic (pooling_layer.cpp), written out independently."""
    out = math.ceil((size + 2 * pad - kernel) / stride) + 1
    return out - 1 if pad and (out - 1) * stride >= size + pad else out


def imported(tmp_path: Path, text: str, name: str = "deploy.prototxt") -> tuple[str, Report]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    spec = import_caffe(path)
    # Written in the canonical layout: `netspec fmt` leaves it as it is.
    assert format_text(spec, "imported.ns") == spec
    report = api.check_text(spec, "imported.ns")
    assert not report.has_errors, [d.message for d in report.diagnostics]
    return spec, report


def test_googlenet_block_becomes_an_inception_line(tmp_path: Path) -> None:
    widths = (64, 96, 128, 16, 32, 32)
    text = (
        input_layer(28, 192)
        + inception("inception_3a", "data", widths)
        + pool("pool", "inception_3a/output", "AVE", 28, 1)
        + classifier("pool")
    )
    spec, report = imported(tmp_path, text)
    assert "inception 3a 64/96-128/16-32/32" in spec
    assert "branch" not in spec
    one, reduce3, three, reduce5, five, proj = widths
    convs = (
        192 * one + one
        + 192 * reduce3 + reduce3 + 9 * reduce3 * three + three
        + 192 * reduce5 + reduce5 + 25 * reduce5 * five + five
        + 192 * proj + proj
    )  # fmt: skip
    assert report.totals is not None
    assert report.totals.params == convs + (one + three + five + proj) * 10 + 10


def test_alexnet_stem_grouped_conv_lrn_and_ceil_mode_pools(tmp_path: Path) -> None:
    text = (
        input_layer(227)
        + conv("conv1", "data", 96, 11, "stride: 4")
        + layer(
            "norm1",
            "LRN",
            ["conv1"],
            ["norm1"],
            "lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }",
        )
        + pool("pool1", "norm1", "MAX", 3, 2)
        + conv("conv2", "pool1", 256, 5, "pad: 2 group: 2")
        # 27 -> 13 rounding up; then 13 -> 7 with pad 1: neither `valid` nor `same` gives it.
        + pool("pool2", "conv2", "MAX", 3, 2)
        + pool("pool3", "pool2", "MAX", 3, 2, 1)
        + classifier("pool3")
    )
    spec, report = imported(tmp_path, text)
    assert "groups=2" in spec
    assert "lrn" in spec
    side = caffe_pool(caffe_pool(caffe_pool((227 - 11) // 4 + 1, 3, 2, 0), 3, 2, 0), 3, 2, 1)
    flat = next(each for each in report.layers if each.kind == "flatten")
    assert flat.output[-1] == side * side * 256
    assert report.totals is not None
    conv1 = 11 * 11 * 3 * 96 + 96
    conv2 = 5 * 5 * (96 // 2) * 256 + 256
    assert report.totals.params == conv1 + conv2 + side * side * 256 * 10 + 10


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "pad"),
    [(6, 3, 2, 1), (14, 3, 2, 0), (13, 3, 2, 1), (7, 2, 2, 0), (9, 3, 3, 0)],
)
def test_pools_keep_caffes_rounded_up_size(
    tmp_path: Path, size: int, kernel: int, stride: int, pad: int
) -> None:
    text = (
        input_layer(size, 4) + pool("pool", "data", "AVE", kernel, stride, pad) + classifier("pool")
    )
    _, report = imported(tmp_path, text)
    pooled = [each for each in report.layers if each.kind == "avgpool"]
    assert pooled[-1].output[:2] == (caffe_pool(size, kernel, stride, pad),) * 2


def test_batch_norm_scale_and_eltwise_become_a_residual_group(tmp_path: Path) -> None:
    def conv_bn(name: str, bottom: str, filters: int, kernel: int, relu: bool = True) -> str:
        pad = kernel // 2
        params = f"num_output: {filters} kernel_size: {kernel} pad: {pad} bias_term: false"
        text = layer(name, "Convolution", [bottom], [name], f"convolution_param {{ {params} }}")
        text += layer(f"bn_{name}", "BatchNorm", [name], [name])
        text += layer(f"scale_{name}", "Scale", [name], [name], "scale_param { bias_term: true }")
        return text + (layer(f"{name}_relu", "ReLU", [name], [name]) if relu else "")

    text = (
        input_layer(8, 16)
        + conv_bn("a", "data", 4, 1)
        + conv_bn("b", "a", 16, 3, relu=False)
        + layer("sum", "Eltwise", ["data", "b"], ["sum"])
        + layer("sum_relu", "ReLU", ["sum"], ["sum"])
        + pool("pool", "sum", "AVE", 8, 1)
        + classifier("pool")
    )
    spec, report = imported(tmp_path, text)
    assert "branch: identity" in spec
    assert "merge add relu" in spec
    assert report.totals is not None
    # Keras counts batch norm's four vectors (gamma, beta, moving mean and variance).
    convs = 16 * 4 + 4 * 4 + 9 * 4 * 16 + 4 * 16
    assert report.totals.params == convs + 16 * 10 + 10


def test_old_layers_form_and_input_dims(tmp_path: Path) -> None:
    text = (
        'name: "Tiny"\ninput: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 9\ninput_dim: 9\n'
        'layers { name: "c" type: CONVOLUTION bottom: "data" top: "c" '
        "convolution_param { num_output: 8 kernel_size: 3 } }\n"
        'layers { name: "r" type: RELU bottom: "c" top: "c" }\n'
        'layers { name: "fc" type: INNER_PRODUCT bottom: "c" top: "fc" '
        "inner_product_param { num_output: 5 } }\n"
    )
    spec, report = imported(tmp_path, text)
    assert spec.startswith("# Imported from deploy.prototxt")
    assert "network tiny" in spec
    assert report.totals is not None
    assert report.totals.params == 27 * 8 + 8 + 7 * 7 * 8 * 5 + 5


def test_train_val_aux_heads_keep_their_loss_weights(tmp_path: Path) -> None:
    body = conv("c1", "data", 8, 3, "pad: 1") + conv("c2", "c1", 8, 3, "pad: 1")
    aux = (
        pool("aux/pool", "c1", "AVE", 4, 4)
        + layer(
            "aux/fc",
            "InnerProduct",
            ["aux/pool"],
            ["aux/fc"],
            "inner_product_param { num_output: 10 }",
        )
        + layer(
            "aux/loss", "SoftmaxWithLoss", ["aux/fc", "label"], ["aux/loss"], "loss_weight: 0.3"
        )
    )
    main = (
        pool("pool", "c2", "AVE", 16, 1)
        + layer("fc", "InnerProduct", ["pool"], ["fc"], "inner_product_param { num_output: 10 }")
        + layer("loss", "SoftmaxWithLoss", ["fc", "label"], ["loss"], "loss_weight: 1")
    )
    data = layer(
        "data", "Data", [], ["data", "label"],
        "include { phase: TRAIN } transform_param { crop_size: 16 }",
    )  # fmt: skip
    test_only = layer("acc", "Accuracy", ["fc", "label"], ["acc"], "include { phase: TEST }")
    deploy = tmp_path / "deploy.prototxt"
    deploy.write_text(input_layer(16) + body + main.replace("SoftmaxWithLoss", "Softmax"))
    train_val = tmp_path / "train_val.prototxt"
    train_val.write_text(data + body + aux + main + test_only)
    spec = import_caffe(deploy, train_val)
    assert "aux aux weight=0.3:" in spec
    report = api.check_text(spec, "imported.ns")
    assert report.totals is not None and report.totals.aux_params is not None
    assert report.totals.aux_params == 4 * 4 * 8 * 10 + 10


def test_every_unsupported_layer_is_named_with_its_line(tmp_path: Path) -> None:
    text = (
        input_layer(8)
        + layer("odd", "Swish", ["data"], ["odd"])
        + layer("max", "Eltwise", ["odd", "odd"], ["max"], "eltwise_param { operation: MAX }")
        + classifier("max")
    )
    path = tmp_path / "deploy.prototxt"
    path.write_text(text)
    with pytest.raises(NetspecError) as failure:
        import_caffe(path)
    found = failure.value.diagnostics
    assert [d.code for d in found] == ["caffe-unsupported", "caffe-unsupported"]
    lines = text.splitlines()
    assert [lines[d.line - 1][d.column - 1 :] for d in found] == [
        'type: "Swish"',
        'type: "Eltwise"',
    ]
    assert '"odd"' in lines[found[0].line - 2] and '"max"' in lines[found[1].line - 2]
    assert all(d.file == str(path) for d in found)


def test_a_scale_without_its_bias_is_an_error(tmp_path: Path) -> None:
    text = (
        input_layer(8)
        + layer("c", "Convolution", ["data"], ["c"], "convolution_param { num_output: 4 }")
        + layer("bn", "BatchNorm", ["c"], ["c"])
        + layer("scale", "Scale", ["c"], ["c"])
        + classifier("c")
    )
    path = tmp_path / "deploy.prototxt"
    path.write_text(text)
    with pytest.raises(NetspecError) as failure:
        import_caffe(path)
    (diagnostic,) = failure.value.diagnostics
    assert diagnostic.code == "caffe-unsupported"
    assert "'scale' (Scale)" in diagnostic.message


def test_a_join_of_blobs_that_do_not_branch_from_one_is_an_error(tmp_path: Path) -> None:
    text = (
        input_layer(8, 4)
        + conv("a", "data", 4, 1)
        + layer("loop", "Eltwise", ["a", "a"], ["loop"])
        + classifier("loop")
    )
    path = tmp_path / "deploy.prototxt"
    path.write_text(text)
    with pytest.raises(NetspecError) as failure:
        import_caffe(path)
    assert failure.value.diagnostics[0].code == "caffe-structure"


def test_no_input_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "deploy.prototxt"
    path.write_text(conv("c", "data", 4, 3))
    with pytest.raises(NetspecError) as failure:
        import_caffe(path)
    assert failure.value.diagnostics[0].code == "caffe-input"


def test_branches_that_do_not_meet_in_one_place_are_an_error(tmp_path: Path) -> None:
    text = (
        input_layer(8, 4)
        + conv("a", "data", 4, 1)
        + conv("b", "data", 4, 1)
        + layer("j1", "Concat", ["a", "data"], ["j1"])
        + layer("j2", "Concat", ["b", "j1"], ["j2"])
        + classifier("j2")
    )
    path = tmp_path / "deploy.prototxt"
    path.write_text(text)
    with pytest.raises(NetspecError) as failure:
        import_caffe(path)
    diagnostic = failure.value.diagnostics[0]
    assert diagnostic.code == "caffe-structure"
    assert diagnostic.line > 0


def test_the_command_writes_the_spec_and_reports_syntax_errors(tmp_path: Path) -> None:
    good = tmp_path / "deploy.prototxt"
    good.write_text(input_layer(8) + conv("c", "data", 4, 3) + classifier("c"))
    out = tmp_path / "net.ns"
    result = CliRunner().invoke(app, ["import", "caffe", str(good), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert not api.check_text(out.read_text(), str(out)).has_errors
    bad = tmp_path / "bad.prototxt"
    bad.write_text('layer {\n  name: "x"\n  type: "Input" }}\n')
    result = CliRunner().invoke(app, ["import", "caffe", str(bad), "-o", str(out)])
    assert result.exit_code == 1
    assert f"{bad}:3:" in result.output
    assert "prototxt-syntax" in result.output
    assert '3 |   type: "Input" }}' in result.output  # the line, with a caret under it


def test_blocks_repeated_with_one_shape_become_a_module(tmp_path: Path) -> None:
    def block(name: str, bottom: str, width: int, stride: int) -> str:
        return (
            conv(f"{name}_a", bottom, width, 1, f"stride: {stride}")
            + conv(f"{name}_b", f"{name}_a", width, 3, "pad: 1")
            + conv(f"{name}_c", bottom, width, 1, f"stride: {stride}")
            + layer(name, "Concat", [f"{name}_b", f"{name}_c"], [name])
        )

    text = (
        input_layer(16, 8)
        + block("mix1", "data", 8, 1)
        + block("mix2", "mix1", 16, 2)
        + block("mix3", "mix2", 24, 1)
        + classifier("mix3")
    )
    spec, report = imported(tmp_path, text)
    assert spec.count("module ") == 1
    assert spec.count("branch") == 2
    assert [line.split()[1] for line in spec.splitlines() if line.startswith("block ")] == [
        "mix1",
        "mix2",
        "mix3",
    ]
    assert report.totals is not None

    def params(c_in: int, width: int) -> int:
        return (c_in * width + width) + (9 * width * width + width) + (c_in * width + width)

    side = 8  # 16 halved once by mix2's stride 2
    convs = params(8, 8) + params(16, 16) + params(32, 24)
    assert report.totals.params == convs + side * side * 48 * 10 + 10
