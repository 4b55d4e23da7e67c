"""Shared fixtures: the shipped specs, found by glob so new specs are covered at once."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The Inception family in specs/, the networks beside it in specs/zoo/.
SHIPPED_SPECS = sorted((ROOT / "specs").rglob("*.ns"))


@pytest.fixture(
    params=SHIPPED_SPECS, ids=[str(spec.relative_to(ROOT / "specs")) for spec in SHIPPED_SPECS]
)
def shipped_spec(request: pytest.FixtureRequest) -> Path:
    return request.param
