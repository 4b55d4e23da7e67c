"""The issue's acceptance cases: the ImageNet GoogLeNet checked at CIFAR's 32x32."""

from __future__ import annotations

import pytest

from netspec.analysis.report import Report
from netspec.api import check_file
from netspec.diagnostics import Diagnostic, Severity
from netspec.pinpoint import source_line
from tests.helpers import GOOGLENET, layer

TEXT = GOOGLENET.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def at_32() -> Report:
    return check_file(GOOGLENET, (32, 32, 3))


def by_code(report: Report, code: str) -> list[Diagnostic]:
    return [d for d in report.diagnostics if d.code == code]


def test_collapse_is_reported_at_the_maxpool_ending_stage_4(at_32: Report) -> None:
    (collapse,) = by_code(at_32, "collapse")
    assert collapse.severity is Severity.warning
    assert (collapse.file, collapse.line, collapse.column) == (str(GOOGLENET), 48, 3)
    lines = TEXT.split("\n")
    assert lines[48 - 1] == "  maxpool 3x3/2"
    # the last statement of stage 4: the next line that is not indented opens stage 5
    assert [text for text in lines[:47] if text.startswith("stage ")][-1].startswith("stage 4:")
    assert next(text for text in lines[48:] if text.strip()).startswith("stage 5:")
    assert collapse.message.startswith(
        "stage4/maxpool1: the feature map collapses to 1x1 here (2x2x832 -> 1x1x832)"
    )
    assert layer(at_32, "stage4/maxpool1").output == (1, 1, 832)


def test_the_aux_heads_avgpool_on_a_2x2_map_is_an_error(at_32: Report) -> None:
    errors = by_code(at_32, "window-too-large")
    assert [(d.line, d.column, d.severity) for d in errors] == [
        (31, 5, Severity.error),
        (41, 5, Severity.error),
    ]
    assert {source_line(TEXT, d.line).split("#")[0].strip() for d in errors} == {
        "avgpool 5x5/3 valid"
    }
    assert errors[0].message == (
        "aux1/avgpool1: a 5x5 window does not fit the 2x2 map it gets with valid padding"
    )


def test_everything_googlenet_says_at_32x32(at_32: Report) -> None:
    assert [(d.code, d.line, d.column) for d in at_32.diagnostics] == [
        ("receptive-field", 24, 3),
        ("window-exceeds-map", 24, 29),
        ("window-too-large", 31, 5),
        ("window-too-large", 41, 5),
        ("collapse", 48, 3),
    ]
    assert at_32.input == (32, 32, 3)
    assert layer(at_32, "5b").output == (1, 1, 1024)


def test_the_channel_count_can_be_kept_from_the_spec() -> None:
    assert check_file(GOOGLENET, (32, 32, None)).input == (32, 32, 3)
