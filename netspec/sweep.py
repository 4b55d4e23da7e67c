"""`netspec sweep`: every configuration of a spec's `search:` section checked statically.

The spec is parsed once; each configuration is one lowering and one analysis of that tree
(`api.check_tree`, what `check` runs), on both cores for a space large enough to pay for
the workers. A configuration is valid when it checks without errors, without a `collapse`
warning, and within every budget; otherwise its verdict is the reason: the code of its first
error, `collapse`, or the budget it breaks (`params <= 5M`).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from netspec.analysis.report import Frozen, Report, Totals
from netspec.api import InputSize, check_tree
from netspec.diagnostics import NetspecError, error
from netspec.lowering.search import MEASURES, SearchSpace, Values, concrete, read_space
from netspec.syntax import ast
from netspec.syntax.parser import parse
from netspec.syntax.printer import number_text, print_spec

VALID = "valid"
COLLAPSE = "collapse"
# Below this many configurations the sweep stays in one process: a fraction of a second.
PARALLEL_FROM = 64

# Each budget's measure (netspec/lowering/search.py names them) read from a report's totals.
MEASURED: dict[str, Callable[[Totals], int | None]] = {
    "params": lambda totals: totals.params,
    "macs": lambda totals: totals.macs,
    "activations": lambda totals: totals.training_activation_bytes,
}
assert tuple(MEASURED) == MEASURES


class Configuration(Frozen):
    """One configuration: its values, its verdict, and its totals where it lowered."""

    values: dict[str, int | float]
    verdict: str
    total_params: int | None = None
    total_macs: int | None = None
    activation_bytes: int | None = None
    # The grid the head gets (Report.grid_before_head).
    smallest_grid: tuple[int, int] | None = None

    @property
    def valid(self) -> bool:
        return self.verdict == VALID


class Sweep(Frozen):
    network: str
    file: str
    input: tuple[int, int, int]
    size: int
    valid: int
    # How many configurations each reason rejected, most first.
    rejected: dict[str, int]
    configurations: tuple[Configuration, ...]
    # The valid configurations no other beats on both parameters and multiply-adds, by MACs.
    pareto_front: tuple[dict[str, int | float], ...]

    def valid_by_macs(self) -> list[Configuration]:
        valid = [c for c in self.configurations if c.valid]
        return sorted(valid, key=lambda c: (c.total_macs or 0, c.total_params or 0))


def budget_text(budget: ast.Budget) -> str:
    return f"{budget.measure} <= {budget.limit}"


def verdict(report: Report, space: SearchSpace) -> str:
    errors = [d for d in report.diagnostics if d.is_error]
    if errors:
        return errors[0].code
    if any(d.code == COLLAPSE for d in report.diagnostics):
        return COLLAPSE
    assert report.totals is not None  # no errors: the inference model is whole
    for budget in space.budgets:
        measured = MEASURED[budget.measure](report.totals)
        if measured is not None and measured > budget.value:
            return budget_text(budget)
    return VALID


def judge(
    spec: ast.Spec,
    text: str,
    file: str,
    space: SearchSpace,
    values: Values,
    input_size: InputSize | None,
) -> Configuration:
    report = check_tree(spec, text, file, input_size, values).report
    totals = report.totals
    return Configuration(
        values=values,
        verdict=verdict(report, space),
        total_params=totals.params if totals else None,
        total_macs=totals.macs if totals else None,
        activation_bytes=totals.training_activation_bytes if totals else None,
        smallest_grid=report.grid_before_head() if totals else None,
    )


def pareto_front(configurations: Iterable[Configuration]) -> list[Configuration]:
    """The valid configurations that no other has at most the parameters and multiply-adds
    of, fewer of one: by MACs, each with fewer parameters than every one before it."""
    front: list[Configuration] = []
    ordered = sorted(
        (c for c in configurations if c.valid),
        key=lambda c: (c.total_macs or 0, c.total_params or 0),
    )
    for candidate in ordered:
        if not front or (candidate.total_params or 0) < (front[-1].total_params or 0):
            front.append(candidate)
    return front


# A worker's parsed spec, set once by `_start_worker`, so a task carries values only.
_WORKER: tuple[ast.Spec, str, str, SearchSpace, InputSize | None] | None = None


def _start_worker(text: str, file: str, input_size: InputSize | None) -> None:
    global _WORKER
    spec = parse(text, file)
    space, _ = read_space(spec, file)
    assert space is not None
    _WORKER = (spec, text, file, space, input_size)


def _judge_in_worker(values: Values) -> Configuration:
    assert _WORKER is not None
    spec, text, file, space, input_size = _WORKER
    return judge(spec, text, file, space, values, input_size)


def space_of(text: str, file: str) -> tuple[ast.Spec, SearchSpace]:
    """The spec and its space; a NetspecError if it does not parse, has no `search:`
    section, or the section is wrong (an unused name, an empty range, ...)."""
    spec = parse(text, file)
    space, problems = read_space(spec, file)
    if problems:
        raise NetspecError(problems)
    if space is None:
        raise NetspecError(
            error(
                "no-search",
                "the spec has no `search:` section, so there is nothing to sweep",
                file,
                1,
                1,
                hint="`netspec check` checks a spec without one",
            )
        )
    return spec, space


def sweep(
    text: str, file: str, input_size: InputSize | None = None, workers: int | None = None
) -> Sweep:
    """Check every configuration; `workers` processes (default: one per core, for a space
    of PARALLEL_FROM configurations or more)."""
    spec, space = space_of(text, file)
    configurations = list(space.configurations())
    if workers is None:
        workers = (os.cpu_count() or 1) if len(configurations) >= PARALLEL_FROM else 1
    if workers > 1:
        chunk = max(1, len(configurations) // (workers * 8))
        # Forked workers start with the front end imported already. What this process holds
        # is frozen out of the collector's sight first: a worker's collections would
        # otherwise walk the inherited heap, and writing to it copies every page (1,024
        # GoogLeNet configurations: 5.4 s without, 3.1 s with, benchmarks/sweep_speed.py).
        context = multiprocessing.get_context("fork")
        gc.freeze()
        try:
            with ProcessPoolExecutor(
                workers, context, initializer=_start_worker, initargs=(text, file, input_size)
            ) as pool:
                judged = list(pool.map(_judge_in_worker, configurations, chunksize=chunk))
        finally:
            gc.unfreeze()
    else:
        judged = [judge(spec, text, file, space, values, input_size) for values in configurations]
    reasons = Counter(c.verdict for c in judged if not c.valid)
    network = next((s for s in spec.statements if isinstance(s, ast.NetworkStmt)), None)
    shape = next((s for s in spec.statements if isinstance(s, ast.InputStmt)), None)
    # A spec without its header lines is a space of `missing-header` verdicts.
    written = (shape.height, shape.width, shape.channels) if shape else (0, 0, 0)
    height, width, channels = input_size or written
    return Sweep(
        network=network.name if network else "",
        file=file,
        input=(height, width, channels or written[2]),
        size=len(judged),
        valid=sum(c.valid for c in judged),
        rejected=dict(reasons.most_common()),
        configurations=tuple(judged),
        pareto_front=tuple(c.values for c in pareto_front(judged)),
    )


def file_name(stem: str, values: Mapping[str, int | float]) -> str:
    """`cifar_search_s1_w32_n1.ns`: a configuration's spec named by its values."""
    return "_".join([stem, *(f"{name}{number_text(value)}" for name, value in values.items())])


def write_configurations(
    text: str, file: str, configurations: Iterable[Configuration], folder: Path
) -> list[Path]:
    """Each configuration as a concrete spec (no `search:` section) in `folder`."""
    spec = parse(text, file)
    written = []
    for configuration in configurations:
        path = folder / (file_name(Path(file).stem, configuration.values) + ".ns")
        path.write_text(print_spec(concrete(spec, configuration.values)), encoding="utf-8")
        written.append(path)
    return written
