"""`netspec graph`: the DOT source and the SVG are parsed, not just found on disk."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netspec.api import check_file
from netspec.cli import app
from netspec.render import compact_rows
from tests.helpers import GOOGLENET

NODE = re.compile(r'^\t+(\S+) \[label="([^"]*)"(.*)\]$', re.MULTILINE)
EDGE = re.compile(r"^\t+(\S+) -> (\S+)", re.MULTILINE)
INSTANCES = ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")


def draw(tmp_path: Path, suffix: str, *options: str) -> Path:
    output = tmp_path / f"g{suffix}"
    result = CliRunner().invoke(app, ["graph", str(GOOGLENET), "-o", str(output), *options])
    assert result.exit_code == 0, result.output
    return output


def nodes(dot: str) -> dict[str, str]:
    """Node id -> its attributes after the label."""
    found = {match.group(1).strip('"'): match.group(3) for match in NODE.finditer(dot)}
    return {name: attributes for name, attributes in found.items() if name != "graph"}


def test_one_box_per_statement_instance_and_aux_head(tmp_path: Path) -> None:
    dot = draw(tmp_path, ".dot").read_text()
    boxes = nodes(dot)
    assert set(INSTANCES) | {"aux1", "aux2", "stem__conv1", "head__dense1"} <= set(boxes)
    assert len(boxes) == len(compact_rows(check_file(GOOGLENET)))
    assert "sees-padding" not in dot
    # the trunk is a chain, and each aux head hangs off the instance it taps
    edges = {(a.strip('"'), b.strip('"')) for a, b in EDGE.findall(dot)}
    assert ("3a", "3b") in edges and ("4a", "aux1") in edges and ("4d", "aux2") in edges
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
    assert len(boxes) == len(check_file(GOOGLENET).layers)
    assert "3a__b2__conv2" in boxes and "3a" in boxes


def test_the_svg_has_a_node_per_box(tmp_path: Path) -> None:
    svg = ElementTree.parse(draw(tmp_path, ".svg"))
    namespace = {"svg": "http://www.w3.org/2000/svg"}
    titles = [
        node.find("svg:title", namespace).text  # type: ignore[union-attr]
        for node in svg.iterfind(".//svg:g[@class='node']", namespace)
    ]
    assert set(INSTANCES) <= set(titles)
    assert len(titles) == len(compact_rows(check_file(GOOGLENET)))


@pytest.mark.parametrize("output", ["g.jpg", "g"])
def test_an_unknown_picture_format_is_a_usage_error(tmp_path: Path, output: str) -> None:
    result = CliRunner().invoke(app, ["graph", str(GOOGLENET), "-o", str(tmp_path / output)])
    assert result.exit_code == 2
