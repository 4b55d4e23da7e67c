"""`netspec graph`: the DOT source and the SVG are parsed, not just found on disk, and
compared with the boxes and edges read off specs/googlenet.ns by hand."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from netspec.api import check_file
from netspec.cli import app
from tests.helpers import GOOGLENET

NODE = re.compile(r'^\t+(\S+) \[label="([^"]*)"(.*)\]$', re.MULTILINE)
EDGE = re.compile(r"^\t+(\S+) -> (\S+)", re.MULTILINE)
INSTANCES = ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")
# GoogLeNet's trunk as the spec writes it: one box per statement outside an instance, one
# per instance, in order (a box's id is its name with '/' as '__').
TRUNK = (
    "input",
    *(f"stem__{name}" for name in ("conv1", "maxpool1", "lrn1", "conv2", "conv3", "lrn2")),
    "stem__maxpool2",
    "3a",
    "3b",
    "stage3__maxpool1",
    "4a",
    "4b",
    "4c",
    "4d",
    "4e",
    "stage4__maxpool1",
    "5a",
    "5b",
    "head__gap1",
    "head__dropout1",
    "head__dense1",
)
# Each aux head is one box, beside the instance it taps.
AUX_TAPS = {"aux1": "4a", "aux2": "4d"}


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["graph", *map(str, args)])


def draw(tmp_path: Path, suffix: str, *options: str) -> Path:
    output = tmp_path / f"g{suffix}"
    result = invoke(GOOGLENET, "-o", output, *options)
    assert result.exit_code == 0, result.output
    return output


def nodes(dot: str) -> dict[str, str]:
    """Node id -> its attributes after the label."""
    found = {match.group(1).strip('"'): match.group(3) for match in NODE.finditer(dot)}
    return {name: attributes for name, attributes in found.items() if name != "graph"}


def edges(dot: str) -> set[tuple[str, str]]:
    return {(a.strip('"'), b.strip('"')) for a, b in EDGE.findall(dot)}


def test_one_box_per_statement_instance_and_aux_head(tmp_path: Path) -> None:
    dot = draw(tmp_path, ".dot").read_text()
    assert set(nodes(dot)) == {*TRUNK, *AUX_TAPS}
    assert "sees-padding" not in dot
    # The trunk is a chain, and each aux head hangs off the instance it taps.
    chain = set(itertools.pairwise(TRUNK))
    assert edges(dot) == chain | {(tap, head) for head, tap in AUX_TAPS.items()}
    assert "subgraph cluster_aux" in dot


def test_at_32x32_the_layers_that_see_only_padding_are_marked(tmp_path: Path) -> None:
    boxes = nodes(draw(tmp_path, ".dot", "--input", "32x32x3").read_text())
    marked = {name for name, attributes in boxes.items() if "sees-padding" in attributes}
    # stage4/maxpool1 collapses the map to 1x1; 5a and 5b then see only padding; 3a .. 4e
    # slide 5x5 windows over 4x4 and 2x2 maps
    assert {"stage4__maxpool1", "5a", "5b", "3a", "4e"} <= marked
    assert not marked & {"stem__conv1", "stem__maxpool1", "head__dense1"}


def test_expand_draws_every_layer(tmp_path: Path) -> None:
    boxes = nodes(draw(tmp_path, ".dot", "--expand").read_text())
    assert set(boxes) == {layer.name.replace("/", "__") for layer in check_file(GOOGLENET).layers}
    assert "3a__b2__conv2" in boxes and "3a" in boxes


def test_the_svg_has_a_node_per_box(tmp_path: Path) -> None:
    svg = ElementTree.parse(draw(tmp_path, ".svg"))
    namespace = {"svg": "http://www.w3.org/2000/svg"}
    titles = [
        node.find("svg:title", namespace).text  # type: ignore[union-attr]
        for node in svg.iterfind(".//svg:g[@class='node']", namespace)
    ]
    assert sorted(titles) == sorted([*TRUNK, *AUX_TAPS])


@pytest.mark.parametrize("output", ["g.jpg", "g"])
def test_an_unknown_picture_format_is_a_usage_error(tmp_path: Path, output: str) -> None:
    result = invoke(GOOGLENET, "-o", tmp_path / output)
    assert result.exit_code == 2, result.output
    assert "Invalid value for --output: use a .svg, .png, .pdf or .dot file" in result.output


def test_a_sweep_of_sizes_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(GOOGLENET, "-o", tmp_path / "g.dot", "--input", "32,64")
    assert result.exit_code == 2, result.output
    assert "Invalid value for --input: draw one input size at a time" in result.output


def test_a_spec_that_does_not_lower_exits_1_with_its_diagnostic(tmp_path: Path) -> None:
    spec = tmp_path / "bad.ns"
    spec.write_text("network t\ninput 32x32x3\nclasses 10\nconv 3x3 0\n", encoding="utf-8")
    result = invoke(spec, "-o", tmp_path / "g.dot")
    assert result.exit_code == 1, result.output
    assert f"{spec}:4:10: error[invalid-value]" in result.output
    assert not (tmp_path / "g.dot").exists()
