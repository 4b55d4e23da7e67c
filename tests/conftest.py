"""Shared fixtures: the shipped specs, found by glob so new specs are covered at once."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_SPECS = sorted((ROOT / "specs").glob("*.ns"))


@pytest.fixture(params=SHIPPED_SPECS, ids=[spec.stem for spec in SHIPPED_SPECS])
def shipped_spec(request: pytest.FixtureRequest) -> Path:
    return request.param
