"""`netspec fit`: the fewest stride and pooling edits that give a spec a real grid.

Every fitted spec is judged by `check --json` on the file fit wrote and by a diff of the
texts computed here, never by fit's own account of what it did.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

from netspec.lowering.words import LAYER_WORDS
from tests.helpers import GOOGLENET, flat
from tests.test_cli import exits, netspec

POOL_WORDS = {word for word, entry in LAYER_WORDS.items() if entry.defaults == "pool"}
STRIDE = re.compile(r"(\d+x\d+)/\d+")

# At 8x8 the stem pool (by its window) and the two stage pools collapse the map before the
# last conv. Dropping the stem pool fixes it, and so would the stage 2 pool at stride 1:
# the stem comes first.
POOLED = """\
# A small net whose stem pool shrinks an 8x8 input by its window alone.
network pooled
input 8x8x3
classes 10

stem:
  conv 3x3 16
  maxpool 5x5/1 valid                 # 8x8 -> 4x4

stage 1:
  conv 3x3 16                         # stays
  maxpool 2x2/2                       # 4x4 -> 2x2

stage 2:
  conv 3x3 16
  maxpool 2x2/2                       # 2x2 -> 1x1
  conv 3x3 16

head:
  gap
  dense classes
"""

# The downsampling is in module instances, which fit keeps: the stem's one stride is all it
# may change, and that is not enough.
DOWN = """\
network down
input 16x16x3
classes 10

module down:
  conv 3x3/2 16

stem:
  conv 3x3/2 16

stage 1:
  down
  down
  down
  down
  conv 3x3 16

head:
  gap
  dense classes
"""


def report(spec: Path, size: str) -> dict[str, Any]:
    """The one report `check --json` prints."""
    output = json.loads(netspec("check", spec, "--json", "--input", size).stdout)
    (checked,) = output["reports"]
    assert isinstance(checked, dict)
    return checked


def codes(checked: dict[str, Any]) -> list[str]:
    return [d["code"] for d in checked["diagnostics"]]


def errors(checked: dict[str, Any]) -> list[str]:
    return [d["code"] for d in checked["diagnostics"] if d["severity"] == "error"]


def changes(before: str, after: str) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """The lines replaced (pairwise), deleted and inserted from `before` to `after`."""
    old, new = before.splitlines(), after.splitlines()
    replaced: list[tuple[str, str]] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if tag == "replace":
            assert i2 - i1 == j2 - j1, (old[i1:i2], new[j1:j2])
            replaced += zip(old[i1:i2], new[j1:j2], strict=True)
        elif tag == "delete":
            deleted += old[i1:i2]
        elif tag == "insert":
            inserted += new[j1:j2]
    return replaced, deleted, inserted


def comments(text: str) -> list[str]:
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


def test_googlenet_at_32_keeps_its_blocks_and_parameters(tmp_path: Path) -> None:
    fitted = tmp_path / "g.ns"
    exits(netspec("fit", GOOGLENET, "--input", "32x32x3", "-o", fitted), 0)
    before = report(GOOGLENET, "32x32x3")
    assert "collapse" in codes(before) and "window-too-large" in errors(before)
    after = report(fitted, "32x32x3")
    assert "collapse" not in codes(after) and not errors(after)
    # The paper's count, and the spec's own at its own input.
    assert after["total_params"] == 6_998_552
    assert after["total_params"] == report(GOOGLENET, "224x224x3")["total_params"]
    original, text = GOOGLENET.read_text(), fitted.read_text()
    inception = [line for line in text.splitlines() if line.strip().startswith("inception ")]
    assert len(inception) == 9
    replaced, deleted, inserted = changes(original, text)
    assert replaced or deleted
    assert not inserted
    for old, new in replaced:
        assert old != new and STRIDE.sub(r"\1", old) == STRIDE.sub(r"\1", new), (old, new)
    assert all(line.split()[0] in POOL_WORDS for line in deleted)
    assert comments(text) == comments(original)


def test_the_stem_pool_goes_before_a_later_pool_stride(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pooled.ns").write_text(POOLED)
    assert "collapse" in codes(report(Path("pooled.ns"), "8x8x3"))
    # The later choice would fix it too, so the stem pool is chosen by preference alone.
    alternative = Path("alternative.ns")
    alternative.write_text(
        POOLED.replace(
            "maxpool 2x2/2                       # 2x2", "maxpool 2x2/1                       # 2x2"
        )
    )
    assert "collapse" not in codes(report(alternative, "8x8x3"))
    output = exits(netspec("fit", "pooled.ns", "--input", "8x8x3", "-o", "out.ns"), 0)
    assert "-  maxpool 5x5/1 valid" in output
    fitted = Path("out.ns").read_text()
    replaced, deleted, inserted = changes(POOLED, fitted)
    assert (replaced, inserted) == ([], [])
    assert [line.split()[:2] for line in deleted] == [["maxpool", "5x5/1"]]
    after = report(Path("out.ns"), "8x8x3")
    assert "collapse" not in codes(after) and not errors(after)
    # Every comment stays but the dropped line's own.
    assert comments(fitted) == [c for c in comments(POOLED) if c != "# 8x8 -> 4x4"]


def test_a_spec_with_nothing_to_change_says_why(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    Path("down.ns").write_text(DOWN)
    result = netspec("fit", "down.ns", "--input", "16x16x3", "-o", "out.ns")
    assert result.exit_code == 1, result.output
    assert "cannot fit down.ns to 16x16x3" in flat(result.output)
    assert "collapse" in flat(result.output) and "every edit within the rules" in flat(
        result.output
    )
    assert not Path("out.ns").exists()
    Path("bare.ns").write_text(DOWN.replace("  conv 3x3/2 16\n\nstage", "  conv 3x3 16\n\nstage"))
    result = netspec("fit", "bare.ns", "--input", "16x16x3")
    assert result.exit_code == 1, result.output
    assert "no layer of the stem or the stages" in flat(result.output)


def test_max_macs_below_every_fix(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pooled.ns").write_text(POOLED)
    # Every fix keeps a larger map somewhere, so it costs more than the spec as written.
    macs = report(Path("pooled.ns"), "8x8x3")["total_macs"]
    result = netspec("fit", "pooled.ns", "--input", "8x8x3", "--max-macs", str(macs), "-o", "o.ns")
    assert result.exit_code == 1, result.output
    assert f"over --max-macs {macs:,}" in flat(result.output)
    assert not Path("o.ns").exists()
    exits(netspec("fit", "pooled.ns", "--input", "8x8x3", "--max-macs", str(2 * macs)), 0)


def test_min_grid_asks_for_more_edits(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pooled.ns").write_text(POOLED)
    exits(netspec("fit", "pooled.ns", "--input", "8x8x3", "--min-grid", "4", "-o", "o.ns"), 0)
    layers = report(Path("o.ns"), "8x8x3")["layers"]
    spatial = [
        layer["output"][:2]
        for layer in layers
        if layer["section"] not in ("", "head") and not layer["flat"]
    ]
    assert min(min(grid) for grid in spatial) >= 4
    result = netspec("fit", "pooled.ns", "--input", "8x8x3", "--min-grid", "16")
    assert result.exit_code == 1, result.output
    assert "the largest grid before the head any of them gives is 8, under --min-grid 16" in flat(
        result.output
    )


def test_nothing_to_fit_and_usage() -> None:
    output = exits(netspec("fit", GOOGLENET, "--input", "224x224x3"), 0)
    assert "nothing to fit" in output
    assert "fit to one input size" in exits(netspec("fit", GOOGLENET, "--input", "32,64"), 2)


def test_a_pool_dropped_from_a_chain_leaves_the_chain_and_its_comment(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    chained = POOLED.replace(
        "  conv 3x3 16\n  maxpool 5x5/1 valid                 # 8x8 -> 4x4\n",
        "  conv 3x3 16 -> maxpool 5x5/1 valid -> conv 3x3 8  # the stem\n",
    )
    assert chained != POOLED
    Path("chained.ns").write_text(chained)
    exits(netspec("fit", "chained.ns", "--input", "8x8x3", "-o", "out.ns"), 0)
    fitted = Path("out.ns").read_text()
    assert ["conv", "3x3", "16", "->", "conv", "3x3", "8", "#", "the", "stem"] in [
        line.split() for line in fitted.splitlines()
    ]
    assert comments(fitted) == comments(chained)
    after = report(Path("out.ns"), "8x8x3")
    assert "collapse" not in codes(after) and not errors(after)


def test_a_spec_that_does_not_parse_is_pointed_at(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    Path("broken.ns").write_text(
        POOLED.replace("  conv 3x3 16                         # stays", "  conv 3x3 16 )")
    )
    result = netspec("fit", "broken.ns", "--input", "8x8x3")
    assert result.exit_code == 1, result.output
    assert "broken.ns:11:" in result.output and "Traceback" not in result.output
    assert "cannot fit broken.ns to 8x8x3: the spec does not parse" in flat(result.output)
    result = netspec("fit", "missing.ns", "--input", "8x8x3")
    assert result.exit_code == 1 and "no such spec file: missing.ns" in result.output
