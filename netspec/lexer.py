"""A Pygments lexer for `.ns` specs: `pygmentize -l netspec`, code fences, diagnostics.

Registered as the `pygments.lexers` entry point `netspec`; the word lists are the
lowering's, so a new layer word or activation is highlighted as soon as its registry entry
exists.
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexer import RegexLexer, bygroups, default, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from netspec.lowering.graph import MERGES
from netspec.lowering.words import LAYER_WORDS, PADDINGS, STRUCTURE_WORDS

# A word ends where a name character cannot follow (`conv` but not `conv2`).
_END = r"(?![A-Za-z0-9_])"
_NAME = r"[A-Za-z0-9_]+"


class NetspecLexer(RegexLexer):
    name = "netspec"
    aliases: ClassVar[list[str]] = ["netspec", "ns"]
    filenames: ClassVar[list[str]] = ["*.ns"]

    tokens: ClassVar[dict[str, list[object]]] = {
        "root": [
            (r"[ \t]+", Whitespace),
            (r"\r?\n", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"[^"\n]*"', String.Double),
            (
                rf"(module)([ \t]+)({_NAME})",
                bygroups(Keyword.Declaration, Whitespace, Name.Class),
                "params",
            ),
            (rf"(inception|aux)([ \t]+)({_NAME})", bygroups(Keyword, Whitespace, Name.Label)),
            (
                rf"(merge)([ \t]+)({'|'.join(MERGES)}){_END}",
                bygroups(Keyword, Whitespace, Keyword.Constant),
            ),
            (words(STRUCTURE_WORDS, suffix=_END), Keyword),
            (words(tuple(LAYER_WORDS), suffix=_END), Name.Builtin),
            (words(PADDINGS, suffix=_END), Keyword.Constant),
            # Shapes and kernels before numbers: `224x224x3`, `3x3/2`, `3x3/s`.
            (rf"[0-9]+x[0-9]+x[0-9]+{_END}", Number.Other),
            (rf"[0-9]+x[0-9]+(/{_NAME})?{_END}", Number.Other),
            (rf"([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?{_END}", Number.Float),
            (rf"[0-9]+[eE][-+]?[0-9]+{_END}", Number.Float),
            (rf"[0-9]+{_END}", Number.Integer),
            (rf"({_NAME})(=)", bygroups(Name.Attribute, Operator)),
            (_NAME, Name),
            (r"->", Operator),
            # Arithmetic in arguments: `(c_in*e)`, `(c_in//4)`, `w*4`.
            (r"//|[*+]", Operator),
            (r"[:(),/=\-]", Punctuation),
            (r".", Text),
        ],
        # `module block(n1, r3=1):`: the parameters, up to the colon.
        "params": [
            (r"[ \t]+", Whitespace),
            (r"[(,)]", Punctuation),
            (rf"({_NAME})([ \t]*)(=)", bygroups(Name.Variable, Whitespace, Operator)),
            (rf"[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?{_END}", Number),
            (_NAME, Name.Variable),
            default("#pop"),
        ],
    }
