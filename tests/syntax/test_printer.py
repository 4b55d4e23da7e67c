"""The printer: format twice and compare, and the same meaning before and after.

On every shipped spec and on generated ones (the fuzz tests' spec grammar, written messily
and with comments): formatting is idempotent, lowers to the same network, and keeps every
comment. Then the layout rules one by one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netspec.diagnostics import NetspecError
from netspec.formatting import format_text, meaning
from netspec.syntax import ast
from netspec.syntax.parser import parse
from netspec.syntax.printer import number_text, print_spec
from tests.helpers import CLASSIFIER, EVERY_KIND, HEADER, REPO, SMALL_HEADER
from tests.test_fuzz import FUZZ, generated_spec
from tests.third_edition.test_third_edition_words import MBCONV

SHIPPED = sorted([*(REPO / "specs").rglob("*.ns"), *(REPO / "examples").rglob("*.ns")])


def assert_formats_safely(text: str) -> str:
    formatted = format_text(text)
    assert format_text(formatted) == formatted, "formatting twice changed the text"
    before, after = meaning(text), meaning(formatted)
    assert after.comments == before.comments
    assert after.network == before.network
    return formatted


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: str(path.relative_to(REPO)))
def test_every_shipped_spec_is_in_canonical_layout(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert meaning(text).network is not None, "a shipped spec lowers"
    assert assert_formats_safely(text) == text, "run `netspec fmt specs/ examples/`"


@st.composite
def messy(draw: st.DrawFn) -> str:
    """A generated spec as a careless author might write it: its own indentation width,
    extra spaces, blank lines, other number forms, and comments everywhere."""
    width = draw(st.sampled_from([1, 2, 3, 4, 8]))
    out: list[str] = []
    for number, line in enumerate(draw(generated_spec()).splitlines()):
        code = line.lstrip(" ")
        indent = " " * (width * ((len(line) - len(code)) // 2))
        code = code.replace(" ", draw(st.sampled_from([" ", "  "])))
        code = code.replace("0.3", draw(st.sampled_from(["0.3", ".3", "3e-1", "0.30"])))
        code = code.replace("0.001", draw(st.sampled_from(["0.001", "1e-3", "1.0e-3"])))
        computed = draw(st.sampled_from(["w", "w*1", "(w+0)", "(2*w//2)"]))
        code = code.replace("conv 1x1 w", f"conv 1x1 {computed}")
        if draw(st.booleans()):
            spaces = " " * draw(st.integers(0, 12))
            out.append(f"{spaces}# before {number}")
        if draw(st.integers(0, 4)) == 0:
            out.append("")
        trailing = f"{' ' * draw(st.integers(1, 30))}# on {number}" if draw(st.booleans()) else ""
        out.append(indent + code + trailing)
    if draw(st.booleans()):
        out.append("# at the end")
    return "\n".join(out) + "\n"


# Each example lowers four times: fewer than the fuzz tests' 150.
@pytest.mark.slow
@settings(FUZZ, max_examples=60)
@given(messy())
def test_generated_specs_format_safely(text: str) -> None:
    formatted = assert_formats_safely(text)
    assert meaning(text).network is not None
    assert "\n\n\n" not in formatted
    # Chains stay chains (lines would lower the same).
    assert formatted.count("->") == text.count("->")
    assert all(not line.endswith(" ") for line in formatted.splitlines())


@st.composite
def reworked_shipped_spec(draw: st.DrawFn) -> str:
    """A shipped spec with lines deleted, duplicated or indented, and comments and blank
    lines put in anywhere: where it still parses, it must format safely too."""
    lines = draw(st.sampled_from(SHIPPED)).read_text(encoding="utf-8").split("\n")
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(lines) - 1))
        change = draw(st.sampled_from(["delete", "duplicate", "indent", "comment", "blank"]))
        if change == "delete" and len(lines) > 1:
            del lines[at]
        elif change == "duplicate":
            lines.insert(at, lines[at])
        elif change == "indent":
            lines[at] = "  " + lines[at]
        elif change == "comment":
            lines.insert(at, " " * draw(st.integers(0, 10)) + f"# put in at {at}")
        else:
            lines.insert(at, "")
    return "\n".join(lines)


@pytest.mark.slow
@settings(FUZZ, max_examples=100)
@given(reworked_shipped_spec())
def test_reworked_shipped_specs_format_safely(text: str) -> None:
    try:
        parse(text)
    except NetspecError:
        return
    assert_formats_safely(text)


def test_every_layer_kind_formats_safely() -> None:
    assert_formats_safely(SMALL_HEADER + EVERY_KIND)


def body_of(text: str) -> str:
    """The formatted snippet after the standard header."""
    formatted = format_text(HEADER + text + CLASSIFIER)
    assert formatted.startswith(HEADER)
    return formatted[len(HEADER) :].removesuffix(CLASSIFIER)


def test_layout_words_and_indentation() -> None:
    written = "stem:\n    conv   3x3/2  32   valid\n    maxpool 3x3/2\n"
    assert body_of(written) == "\nstem:\n  conv 3x3/2 32 valid\n  maxpool 3x3/2\n\n"


def test_options_follow_the_registry_and_keep_their_order_within_an_attribute() -> None:
    # relu and linear both set the activation: the later wins, so they keep their order.
    assert body_of("conv 3x3 8 relu linear bn valid\n") == "conv 3x3 8 valid bn relu linear\n"
    assert body_of("bn momentum=0.9 scale=false\n") == "bn scale=false momentum=0.9\n"
    written = "defaults:\n  conv relu bn same\n"
    assert format_text(HEADER + written).endswith("defaults:\n  conv same bn relu\n")


def test_a_list_of_numbers_prints_each_in_its_one_form_in_the_registrys_order() -> None:
    written = "normalize variance=4.0e3,.25,1 mean=-1.50,0,2\n"
    assert body_of(written) == "normalize mean=-1.5,0,2 variance=4000.0,0.25,1\n"
    assert_formats_safely(HEADER + written + CLASSIFIER)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (64, "64"),
        (0.875, "0.875"),
        (60.0, "60.0"),
        (0.001, "0.001"),
        (2e-4, "2e-4"),
        (1e-6, "1e-6"),
        (2.5e-5, "2.5e-5"),
        (1e16, "1e16"),
        (float("inf"), "1e999"),
    ],
)
def test_one_form_per_number(value: int | float, text: str) -> None:
    assert number_text(value) == text
    assert float(text) == value


def test_numbers_as_written_print_in_their_one_form() -> None:
    assert body_of("dropout .50\n") == "dropout 0.5\n"
    assert format_text(HEADER + "train:\n  weight_decay 0.0002\n").endswith("weight_decay 2e-4\n")


def test_chains_one_line_blocks_shorthand_and_instances_stay_as_written() -> None:
    written = (
        "module m(w, s=1):\n"
        "  branch: conv 1x1 w->conv 3x3/s w\n"
        "  branch:\n"
        "    maxpool 3x3/s same\n"
        "inception 3a 64/96-128/16-32/32\n"
        "m block1 w=8\n"
        "m s=1 w=4\n"
    )
    assert body_of(written) == (
        "\nmodule m(w, s=1):\n"
        "  branch: conv 1x1 w -> conv 3x3/s w\n"
        "  branch:\n"
        "    maxpool 3x3/s same\n"
        "\n"
        "inception 3a 64/96-128/16-32/32\n"
        "m block1 w=8\n"
        "m s=1 w=4\n"
    )


def test_trailing_comments_stand_in_one_column_and_own_line_ones_keep_their_block() -> None:
    written = (
        "stem:\n  conv 3x3 8 # after the conv\n  # the stem's last word\n# before the classifier\n"
    )
    long_line = "conv 3x3 8 -> conv 3x3 8 -> conv 3x3 8 -> conv 3x3 8"
    assert body_of(written) == (
        "\nstem:\n"
        "  conv 3x3 8" + " " * 26 + "# after the conv\n"
        "  # the stem's last word\n"
        "\n"
        "# before the classifier\n"
    )
    assert body_of(f"{long_line} # note\n") == f"{long_line}  # note\n"


def test_blank_lines_around_top_level_blocks_and_at_most_one_elsewhere() -> None:
    written = "\n\n\nstem:\n\n  conv 3x3 8\n\n\n\n  conv 3x3 8\nhead:\n  gap\n"
    formatted = format_text(HEADER + written + "  dense classes\n")
    assert formatted == HEADER + (
        "\nstem:\n  conv 3x3 8\n\n  conv 3x3 8\n\nhead:\n  gap\n  dense classes\n"
    )


def test_a_tree_built_by_a_program_prints_one_statement_a_line() -> None:
    """Without positions, a generator's tree still prints as a spec that reads back."""
    at = ast.Pos(0, 0)
    conv = ast.LayerStmt(
        "conv",
        ast.Kernel(ast.Number(3, at), ast.Number(3, at), None, at),
        ast.Number(8, at),
        (),
        at,
    )
    relu = ast.InstanceStmt("relu", None, (), at, None, chained=True)
    tree = ast.Spec(
        (
            ast.NetworkStmt("g", at),
            ast.InputStmt(32, 32, 3, at),
            ast.ClassesStmt(ast.Number(10, at), at),
            ast.SectionStmt("stem", None, (conv, relu, conv), at),
            ast.SectionStmt("head", None, (ast.LayerStmt("gap", None, None, (), at),), at),
        )
    )
    text = print_spec(tree)
    assert text == (
        "network g\ninput 32x32x3\nclasses 10\n\n"
        "stem:\n  conv 3x3 8 -> relu\n  conv 3x3 8\n\nhead: gap\n"
    )
    reparsed = parse(text)
    stem = reparsed.statements[3]
    assert isinstance(stem, ast.SectionStmt)
    assert [type(statement) for statement in stem.body] == [
        ast.LayerStmt,
        ast.InstanceStmt,
        ast.LayerStmt,
    ]
    assert stem.body[1].chained


def test_comments_belong_to_the_tree() -> None:
    spec = parse(HEADER + '# alone\ntrain:\n  dataset folder "a#b"  # trailing\n')
    assert [(c.text, c.pos.line, c.alone) for c in spec.comments] == [
        ("# alone", 4, True),
        ("# trailing", 6, False),
    ]


@pytest.mark.parametrize(
    "written",
    ["w*4", "(w*4)", "2*w*3", "(2+3*w)", "((2+3)*w)", "(w//3)", "(w-3-2)", "(w-(3-2))", "(w*0.5)"],
)
def test_arithmetic_prints_in_parentheses_and_keeps_its_value(written: str) -> None:
    text = HEADER + f"module m(w):\n  conv 1x1 {written}\nm a w=8\n" + CLASSIFIER
    assert meaning(text).network is not None
    formatted = assert_formats_safely(text)
    conv = next(line for line in formatted.splitlines() if line.startswith("  conv"))
    assert conv.startswith("  conv 1x1 (") and conv.endswith(")")


def test_the_third_editions_words_and_kernel_sides() -> None:
    assert_formats_safely(SMALL_HEADER + MBCONV + CLASSIFIER)
    written = (
        "module m(k, s):\n"
        "  dwconv (k)x(k)/s swish bn\n"
        "  dwconv (3)x(3)/s\n"
        "  dwconv (3)x(3)/(s*1)\n"
        "m a k=3 s=1\n"
        "rescale 1/127.5 offset=-1\n"
        "layernorm eps=0.000001\n"
        "dropout 0.20 per_sample\n"
    )
    assert body_of(written) == (
        "\nmodule m(k, s):\n"
        "  dwconv (k)x(k)/s bn swish\n"
        "  dwconv 3x3/s\n"
        "  dwconv (3)x(3)/(s*1)\n"
        "\n"
        "m a k=3 s=1\n"
        "rescale 1/127.5 offset=-1\n"
        "layernorm eps=1e-6\n"
        "dropout 0.2 per_sample\n"
    )
    assert meaning(HEADER + written + CLASSIFIER).network is not None
    assert_formats_safely(HEADER + written + CLASSIFIER)


def test_a_comment_after_nested_blocks_stays_in_the_block_its_column_is_in() -> None:
    written = (
        "stage 1:\n"
        "   repeat 2:\n"
        "        conv 3x3 4\n"
        "        # under the conv\n"
        "      # left of the conv, right of the repeat\n"
        "   # under the repeat\n"
        " # left of the repeat\n"
        "stage 2:\n"
        "  gap\n"
    )
    assert body_of(written) == (
        "\nstage 1:\n"
        "  repeat 2:\n"
        "    conv 3x3 4\n"
        "    # under the conv\n"
        "  # left of the conv, right of the repeat\n"
        "  # under the repeat\n"
        "\n"
        "# left of the repeat\n"
        "stage 2:\n"
        "  gap\n"
        "\n"
    )
