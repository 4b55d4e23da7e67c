"""Lowering and analysis build the IR and the report from values they have checked, without
pydantic's validation (`model_construct`: building the validators cost a `check` about 17 ms).
These tests hold what they build to the models' schemas, validators included."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from netspec.api import check_file, check_text, compile_file, compile_text
from tests.helpers import EVERY_KIND, SMALL_HEADER, check


def assert_valid(model: BaseModel) -> None:
    """Validated from its own dump, the model comes back equal: every field has its type."""
    assert type(model).model_validate(model.model_dump()) == model


def test_every_shipped_spec_lowers_and_reports_within_the_schemas(shipped_spec: Path) -> None:
    assert_valid(compile_file(shipped_spec))
    assert_valid(check_file(shipped_spec))


def test_every_layer_kind_lowers_within_the_schema() -> None:
    assert_valid(compile_text(SMALL_HEADER + EVERY_KIND, "t.ns"))
    assert_valid(check_text(SMALL_HEADER + EVERY_KIND, "t.ns"))


def test_reports_with_diagnostics_hold_to_the_schema() -> None:
    report = check("conv 3x3 8 groups=3\ngap\ndense classes\n")
    assert report.has_errors
    assert_valid(report)


def test_the_check_would_catch_a_field_of_the_wrong_type() -> None:
    network = compile_text(SMALL_HEADER + EVERY_KIND, "t.ns")
    wrong = network.model_construct(**{**dict(network), "classes": "three"})
    with pytest.raises(ValidationError), pytest.warns(UserWarning, match="serializ"):
        assert_valid(wrong)
    unordered = network.model_construct(**{**dict(network), "layers": network.layers[::-1]})
    with pytest.raises(ValidationError, match="out of order"):
        assert_valid(unordered)
