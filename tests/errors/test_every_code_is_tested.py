"""Every diagnostic code the front end can emit is expected by a test: named in an
assertion or a parametrized expectation, not merely somewhere in a test file."""

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


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _is_parametrize(decorator: ast.expr) -> bool:
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(func, ast.Attribute) and func.attr == "parametrize"


def expected_strings(source: str) -> set[str]:
    """Strings a test expects: inside an `assert`, or among the values of a
    `pytest.mark.parametrize` (directly or through a module-level constant it names).
    A code named only in a spec snippet, a comment or a helper's argument is not tested."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    expected: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            expected |= _strings(node.test)
        if isinstance(node, ast.FunctionDef):
            for decorator in filter(_is_parametrize, node.decorator_list):
                assert isinstance(decorator, ast.Call)
                for argument in decorator.args[1:]:
                    expected |= _strings(argument)
                    names = {n.id for n in ast.walk(argument) if isinstance(n, ast.Name)}
                    for name in names & constants.keys():
                        expected |= _strings(constants[name])
    return expected


def test_a_code_only_in_a_snippet_is_not_expected() -> None:
    source = (
        'def test_x():\n    report = check("conv 3x3 8  # collapse")\n'
        '    assert codes(report) == ["bottleneck"]\n'
    )
    assert expected_strings(source) == {"bottleneck"}


def test_every_emitted_code_is_expected_by_a_test() -> None:
    expected: set[str] = set()
    for path in REPO.joinpath("tests").rglob("test_*.py"):
        if path != Path(__file__):
            expected |= expected_strings(path.read_text(encoding="utf-8"))
    untested = sorted(emitted_codes() - expected)
    assert untested == []
