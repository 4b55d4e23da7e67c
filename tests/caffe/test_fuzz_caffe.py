"""Fuzzing the Caffe importer with token-level mutations of the test prototxts (a token
dropped, doubled or replaced): it writes a spec or stops with diagnostics at a line of the
file, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspec import api
from netspec.caffe import import_caffe
from netspec.diagnostics import NetspecError
from tests.caffe.prototxts import classifier, conv, inception, input_layer, layer, pool

TOKEN = re.compile(r'"[^"]*"|[A-Za-z_][A-Za-z0-9_]*|[-+]?[0-9.]+|[{}:]|\s+|.')
STRAYS = ["{", "}", ":", '"x"', "0", "-1", "1e99", "3.5", "layer", "bottom", "top", "MAX", "#"]

SOURCES = [
    input_layer(28, 16)
    + inception("inception_3a", "data", (8, 4, 8, 4, 8, 8))
    + pool("pool", "inception_3a/output", "MAX", 3, 2, 1)
    + classifier("pool"),
    input_layer(35)
    + conv("conv1", "data", 8, 5, "stride: 2 group: 1")
    + layer("norm1", "LRN", ["conv1"], ["norm1"], "lrn_param { local_size: 3 }")
    + pool("pool1", "norm1", "AVE", 3, 2)
    + layer("drop", "Dropout", ["pool1"], ["pool1"], "dropout_param { dropout_ratio: 0.4 }")
    + conv("conv2", "pool1", 8, 3, "pad: 1")
    + layer("sum", "Eltwise", ["pool1", "conv2"], ["sum"])
    + classifier("sum"),
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    tokens = TOKEN.findall(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(tokens) - 1))
        how = draw(st.sampled_from(["drop", "double", "replace"]))
        if how == "drop":
            del tokens[at]
        elif how == "double":
            tokens.insert(at, tokens[at])
        else:
            tokens[at] = draw(st.sampled_from([*STRAYS, *tokens]))
    return "".join(tokens)


def test_the_unmutated_prototxts_import(tmp_path: Path) -> None:
    for text in SOURCES:
        path = tmp_path / "deploy.prototxt"
        path.write_text(text, encoding="utf-8")
        assert not api.check_text(import_caffe(path), "imported.ns").has_errors


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(text=mutated())
def test_a_mutated_prototxt_imports_or_says_where_it_is_wrong(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deploy.prototxt"
    path.write_text(text, encoding="utf-8")
    try:
        spec = import_caffe(path)
    except NetspecError as failure:
        lines = text.count("\n") + 1
        for diagnostic in failure.diagnostics:
            assert diagnostic.file == str(path), diagnostic
            assert 1 <= diagnostic.line <= lines, diagnostic
            assert diagnostic.code.startswith(("prototxt-", "caffe-")), diagnostic
        return
    assert api.check_text(spec, "imported.ns").file == "imported.ns"
