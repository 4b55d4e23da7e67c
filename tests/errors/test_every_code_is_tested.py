"""Every diagnostic code the front end can emit has a test here that names it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import REPO

REPORTERS = {"error", "warning", "fail", "ShapeError", "_warn"}
CODE = re.compile(r"[a-z]+(-[a-z]+)*")
# Codes built at run time rather than written out at the call.
COMPUTED = {
    "head-classes",  # (code, what, output) tuples in analysis/analyse.py
    "aux-classes",
}


def _reporter(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def emitted_codes() -> set[str]:
    codes = set(COMPUTED)
    for path in (REPO / "netspec").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and _reporter(node) in REPORTERS and node.args):
                continue
            # the code is the first plain-string argument (`_warn` takes the network first)
            written = [a.value for a in node.args if isinstance(a, ast.Constant)]
            codes.update(w for w in written[:1] if isinstance(w, str) and CODE.fullmatch(w))
    return codes


def test_the_code_inventory_is_complete() -> None:
    codes = emitted_codes()
    assert {"syntax", "tab-indent", "too-large", "collapse", "factorization-grid"} <= codes
    assert "unknown-option" in codes  # through values.unknown_option


def test_every_emitted_code_is_named_by_a_test() -> None:
    here = Path(__file__).parent
    tests = "\n".join(
        path.read_text(encoding="utf-8")
        for path in here.glob("test_*.py")
        if path != Path(__file__)
    )
    untested = sorted(code for code in emitted_codes() if f'"{code}"' not in tests)
    assert untested == []
