"""`netspec fit`: the fewest stride and pooling edits that give a spec a real grid at an input.

The edits are made on the syntax tree, printed in the canonical layout and checked like any
spec; the search tries every set of one edit, then of two, and so on, each size in the order
of preference (a stem stride before a stem pool before a pool between stages before any
other stride), and keeps the first set whose spec builds with no collapse. Inception blocks,
module instances, aux heads and the head are never edited, and a stride or a dropped pool
never adds a weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from netspec import api
from netspec.analysis.report import Report
from netspec.lowering.words import LAYER_WORDS
from netspec.syntax import ast
from netspec.syntax.printer import print_spec

# The findings fit removes besides every error (window-too-large is an error).
COLLAPSE = "collapse"
# How many edited specs the search checks before it gives up (about 25 ms each for GoogLeNet
# on 2 vCPUs of an AMD EPYC Zen 5): every set of up to 12 candidate edits.
MAX_CHECKS = 4096

# The preference order: the rank of each kind of edit, most preferred first.
STEM_STRIDE = "lower the stride of a stem layer"
STEM_POOL = "drop a stem pooling layer"
STAGE_POOL_STRIDE = "lower the stride of a pooling layer between stages"
OTHER_STRIDE = "lower the stride of a layer in a stage"
STAGE_POOL = "drop a pooling layer between stages"
PREFERENCE = (STEM_STRIDE, STEM_POOL, STAGE_POOL_STRIDE, OTHER_STRIDE, STAGE_POOL)

# A path to a statement: indices into the spec's statements and then into each block's
# body; a branch group takes two (its branch, then the statement in the branch's body).
Path = tuple[int, ...]


@dataclass(frozen=True)
class Edit:
    kind: str
    path: Path
    line: int
    word: str
    # The stride the statement has (written, or a pool's window when none is written).
    stride: int
    # A chain puts other statements on its line, and the line's trailing comment with them.
    shares_line: bool = False

    @property
    def drops(self) -> bool:
        return self.kind in (STEM_POOL, STAGE_POOL)

    def __str__(self) -> str:
        change = f"drop `{self.word}`" if self.drops else f"`{self.word}` stride {self.stride} -> 1"
        return f"line {self.line}: {change} ({self.kind})"


@dataclass(frozen=True)
class Fit:
    """The spec before (as checked and as printed), and the edits and the spec after, or
    why no set of edits within the rules fixes it."""

    before: api.Checked
    original: str
    edits: tuple[Edit, ...] = ()
    after: api.Checked | None = None
    # The spec after, printed; the original when nothing needed fixing.
    fitted: str = ""
    reason: str = ""
    checks: int = 0


@dataclass(frozen=True)
class Bounds:
    max_macs: int | None = None
    min_grid: int | None = None
    # The inference model's parameters the fitted spec may not exceed.
    params: int | None = None


Chainable = ast.LayerStmt | ast.InceptionStmt | ast.InstanceStmt


def _chained(statement: ast.Statement) -> bool:
    """Written after `->` on the line of the statement before it."""
    return isinstance(statement, Chainable) and statement.chained


def _is_pool(statement: ast.LayerStmt) -> bool:
    return (
        LAYER_WORDS[statement.kind].defaults == "pool" if statement.kind in LAYER_WORDS else False
    )


def _stride(statement: ast.LayerStmt) -> int | None:
    """The statement's stride where the tree says it as a number (a pool without one slides
    by its window); None for a stride from a module parameter or arithmetic."""
    kernel = statement.kernel
    if kernel is None or statement.adaptive:
        return None
    if kernel.stride is not None:
        stride = kernel.stride
        return int(stride.value) if isinstance(stride, ast.Number) else None
    if not _is_pool(statement):
        return 1
    sides = (kernel.height, kernel.width)
    if all(isinstance(side, ast.Number) for side in sides):
        return max(int(side.value) for side in sides if isinstance(side, ast.Number))
    return None


def candidates(spec: ast.Spec) -> list[Edit]:
    """Every edit within the rules, in the order of preference."""
    found: list[Edit] = []
    for index, statement in enumerate(spec.statements):
        if isinstance(statement, ast.SectionStmt) and statement.kind in ("stem", "stage"):
            found += _section_edits(statement, (index,))
    return sorted(found, key=lambda edit: PREFERENCE.index(edit.kind))


def _section_edits(section: ast.SectionStmt, path: Path) -> list[Edit]:
    stem = section.kind == "stem"
    found: list[Edit] = []
    for index, statement in enumerate(section.body):
        if not isinstance(statement, ast.LayerStmt):
            found += _nested_edits(statement, (*path, index), STEM_STRIDE if stem else OTHER_STRIDE)
            continue
        stride = _stride(statement)
        pool = _is_pool(statement)
        at = (*path, index)
        line = statement.pos.line
        if stride is not None and stride > 1:
            kind = STEM_STRIDE if stem else STAGE_POOL_STRIDE if pool else OTHER_STRIDE
            found.append(Edit(kind, at, line, statement.kind, stride))
        if pool and not statement.adaptive:
            kind = STEM_POOL if stem else STAGE_POOL
            following = section.body[index + 1 : index + 2]
            shares = statement.chained or any(_chained(after) for after in following)
            found.append(Edit(kind, at, line, statement.kind, 0, shares))
    return found


def _nested_edits(statement: ast.Statement, path: Path, kind: str) -> list[Edit]:
    """Strided layers inside repeats and loose branches of a section, as `kind` (never in
    aux heads, Inception blocks or module instances, which are kept as written)."""
    found: list[Edit] = []
    for at, inner in _children(statement, path):
        if isinstance(inner, ast.LayerStmt):
            stride = _stride(inner)
            if stride is not None and stride > 1:
                found.append(Edit(kind, at, inner.pos.line, inner.kind, stride))
        else:
            found += _nested_edits(inner, at, kind)
    return found


def _children(statement: ast.Statement, path: Path) -> list[tuple[Path, ast.Statement]]:
    if isinstance(statement, ast.RepeatStmt):
        return [((*path, index), inner) for index, inner in enumerate(statement.body)]
    if isinstance(statement, ast.BranchGroup):
        return [
            ((*path, number, index), inner)
            for number, branch in enumerate(statement.branches)
            for index, inner in enumerate(branch.body)
        ]
    return []


# -- applying edits ----------------------------------------------------------------------------


def apply(spec: ast.Spec, edits: tuple[Edit, ...]) -> ast.Spec:
    """The spec with the edits made; a dropped statement's trailing comment goes with it
    unless other statements stay on its line."""
    statements = spec.statements
    comments = spec.comments
    # Deepest and latest first, so a drop never moves a statement another edit points at.
    for edit in sorted(edits, key=lambda edit: edit.path, reverse=True):
        statements = _edit_body(statements, edit.path, _change(edit))
        if edit.drops and not edit.shares_line:
            comments = tuple(
                comment for comment in comments if comment.alone or comment.pos.line != edit.line
            )
    return spec._replace(statements=statements, comments=comments)


Change = Callable[[ast.LayerStmt], ast.LayerStmt | None]


def _change(edit: Edit) -> Change:
    if edit.drops:
        return lambda statement: None

    def lowered(statement: ast.LayerStmt) -> ast.LayerStmt:
        kernel = statement.kernel
        assert kernel is not None  # only a statement with a stride is a candidate
        where = kernel.stride.pos if kernel.stride is not None else kernel.pos
        return statement._replace(kernel=kernel._replace(stride=ast.Number(1, where)))

    return lowered


def _edit_body(
    body: tuple[ast.Statement, ...], path: Path, change: Change
) -> tuple[ast.Statement, ...]:
    index, rest = path[0], path[1:]
    statement = body[index]
    if not rest:
        assert isinstance(statement, ast.LayerStmt)
        changed = change(statement)
        if changed is not None:
            return (*body[:index], changed, *body[index + 1 :])
        after = list(body[index + 1 :])
        follower = after[0] if after else None
        if follower is not None and _chained(follower) and not statement.chained:
            # What was chained to the dropped statement starts its own line.
            assert isinstance(follower, Chainable)
            after[0] = follower._replace(chained=False)
        return (*body[:index], *after)
    if isinstance(statement, ast.BranchGroup):
        branches = list(statement.branches)
        branch = branches[rest[0]]
        branches[rest[0]] = branch._replace(body=_edit_body(branch.body, rest[1:], change))
        inner: ast.Statement = statement._replace(branches=tuple(branches))
    else:
        assert isinstance(statement, ast.SectionStmt | ast.RepeatStmt)
        inner = statement._replace(body=_edit_body(statement.body, rest, change))
    return (*body[:index], inner, *body[index + 1 :])


# -- the search --------------------------------------------------------------------------------


def smallest_grid(report: Report) -> int | None:
    """The shorter side of the grid the head gets; None when the spec did not lower."""
    grid = report.grid_before_head()
    return min(grid) if grid else None


def blocking(report: Report) -> list[str]:
    """What keeps a report from being a fit: its errors and its collapse finding."""
    return [
        f"{d.code}: {d.message}" for d in report.diagnostics if d.is_error or d.code == COLLAPSE
    ]


def within(report: Report, bounds: Bounds) -> bool:
    """Whether a report without errors keeps every bound."""
    totals = report.totals
    assert totals is not None  # a report without errors has its totals
    grid = smallest_grid(report)
    return not (
        (bounds.params is not None and totals.params > bounds.params)
        or (bounds.max_macs is not None and totals.macs > bounds.max_macs)
        or (bounds.min_grid is not None and grid is not None and grid < bounds.min_grid)
    )


def fit(
    text: str,
    file: str,
    input_size: api.InputSize,
    max_macs: int | None = None,
    min_grid: int | None = None,
    fitted_file: str = "<fitted>",
) -> Fit:
    """The fewest edits within the rules that make the spec build with no collapse at
    `input_size` and keep the bounds; or why there are none. A spec that does not parse is
    returned with its diagnostics in `before` and no edits. Edited specs are checked as
    `fitted_file`."""
    before = api.check(text, file, input_size)
    if before.spec is None:
        return Fit(before, text, reason="the spec does not parse")
    original = print_spec(before.spec)
    params = _params(before, text, file)
    bounds = Bounds(max_macs, min_grid, params)
    if not blocking(before.report) and within(before.report, bounds):
        return Fit(before, original, after=before, fitted=original)
    edits = candidates(before.spec)
    if not edits:
        return Fit(
            before,
            original,
            reason="no layer of the stem or the stages outside the Inception blocks, module "
            "instances and aux heads has a stride to lower or is a pool to drop",
        )
    checks = 0
    # Sets whose fix breaks --max-macs: a set with more edits keeps larger maps, which only
    # adds multiply-adds (pools count none), so no set holding one can keep the bound.
    too_costly: list[set[int]] = []
    # Reports of the sets that remove every finding but break a bound.
    outside: list[Report] = []
    for size in range(1, len(edits) + 1):
        for chosen in combinations(range(len(edits)), size):
            paths = [edits[index].path for index in chosen]
            if len(set(paths)) < len(paths) or any(s <= set(chosen) for s in too_costly):
                continue
            if checks == MAX_CHECKS:
                return Fit(
                    before,
                    original,
                    reason=f"no set of up to {size - 1} of the {len(edits)} possible edits "
                    f"fixes it (searched {checks} sets)",
                    checks=checks,
                )
            picked = tuple(edits[index] for index in chosen)
            fitted = print_spec(apply(before.spec, picked))
            after = api.check(fitted, fitted_file, input_size)
            checks += 1
            if blocking(after.report):
                continue
            if within(after.report, bounds):
                return Fit(before, original, picked, after, fitted, checks=checks)
            outside.append(after.report)
            totals = after.report.totals
            if max_macs is not None and totals is not None and totals.macs > max_macs:
                too_costly.append(set(chosen))
    if outside:
        return Fit(
            before, original, reason=_best_outside(outside, bounds, bool(too_costly)), checks=checks
        )
    return Fit(before, original, reason=_still(before.spec, edits, file, input_size), checks=checks)


def _best_outside(reports: list[Report], bounds: Bounds, pruned: bool) -> str:
    """Why the sets that remove every finding do not do: the best each bound gets (the
    largest grid only where no set went unchecked for its multiply-adds)."""
    said = ["edits remove every finding, but none within the bounds"]
    totals = [report.totals for report in reports if report.totals is not None]
    if bounds.params is not None:
        fewest = min(total.params for total in totals)
        if fewest > bounds.params:
            said.append(
                f"the fewest parameters any of them has is {fewest:,}, more than the "
                f"spec's {bounds.params:,}"
            )
    if bounds.max_macs is not None:
        least = min(total.macs for total in totals)
        if least > bounds.max_macs:
            said.append(
                f"the fewest multiply-adds any of them needs is {least:,}, over "
                f"--max-macs {bounds.max_macs:,}"
            )
    if bounds.min_grid is not None and not pruned:
        largest = max(smallest_grid(report) or 0 for report in reports)
        if largest < bounds.min_grid:
            said.append(
                f"the largest grid before the head any of them gives is {largest}, "
                f"under --min-grid {bounds.min_grid}"
            )
    return "; ".join(said)


def _params(before: api.Checked, text: str, file: str) -> int | None:
    """The inference model's parameters at the input fit works at, or, where it does not
    build there, at the spec's own input: the count no edit may raise."""
    totals = before.report.totals or api.check(text, file).report.totals
    return totals.params if totals else None


def _still(spec: ast.Spec, edits: list[Edit], file: str, input_size: api.InputSize) -> str:
    """What remains with every statement edited (the preferred edit of each)."""
    every: dict[Path, Edit] = {}
    for edit in edits:
        every.setdefault(edit.path, edit)
    report = api.check(print_spec(apply(spec, tuple(every.values()))), file, input_size).report
    left = "; ".join(blocking(report))
    return (
        f"with every edit within the rules made (to {len(every)} layer(s) of the stem and "
        f"stages), the spec still has: {left}"
    )
