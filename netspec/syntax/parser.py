"""Text to AST: the Lark parser, its transformer, and Lark's errors turned into diagnostics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import Indenter
from lark.tree import Meta

from netspec.diagnostics import Diagnostic, NetspecError, error
from netspec.syntax import ast

GRAMMAR = Path(__file__).with_name("netspec.lark")

# What a user calls the things the grammar expects.
EXPECTED_IN_WORDS = {
    "KERNEL": "a kernel like 3x3 or 3x3/2",
    "NUMBER": "a number",
    "NAME": "a name",
    "SHAPE": "an input shape like 224x224x3",
    "STRING": 'a quoted path like "data/images"',
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
}
# Where the parser expects all of these, it is at the start of a statement.
STATEMENT_STARTERS = {"CONV", "MAXPOOL", "NAME"}
# Where the parser expects these, a value or a kernel may also start with `(` or `-`.
VALUE_STARTERS = {"NUMBER", "KERNEL"}


class _IndentationError(Exception):
    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


# Deeper nesting than this is a generated or broken spec; the limit keeps expansion well
# inside Python's recursion limit whatever raised or lowered it.
MAX_BLOCK_DEPTH = 50


class _TooDeep(_IndentationError):
    pass


class _Indenter(Indenter):
    NL_type = "_NL"
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    @property
    def OPEN_PAREN_types(self) -> list[str]:
        return ["LPAR"]

    @property
    def CLOSE_PAREN_types(self) -> list[str]:
        return ["RPAR"]

    def handle_NL(self, token: Token) -> Iterator[Token]:
        if self.paren_level > 0:
            return
        yield token
        indent_str = token.rsplit("\n", 1)[1]
        indent = len(indent_str)
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            if len(self.indent_level) > MAX_BLOCK_DEPTH + 1:
                raise _TooDeep(
                    token.end_line or 0,
                    indent + 1,
                    f"blocks nest more than {MAX_BLOCK_DEPTH} deep here",
                )
            yield Token.new_borrow_pos(self.INDENT_type, indent_str, token)
            return
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
        if indent != self.indent_level[-1]:
            raise _IndentationError(
                token.end_line or 0,
                indent + 1,
                f"this line is indented by {indent} spaces, which matches no enclosing block "
                f"(expected {self.indent_level[-1]})",
            )


@cache
def _lark() -> Lark:
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        postlex=_Indenter(),
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,
    )


def _pos(item: Meta | Token) -> ast.Pos:
    return ast.Pos(item.line or 0, item.column or 0)


def _number(token: Token) -> ast.Number:
    text = str(token)
    is_integer = text.isdigit()
    return ast.Number(int(text) if is_integer else float(text), _pos(token))


def _value(item: Token | ast.Value) -> ast.Value:
    """A value the transformer made already (an expression), or a number or name token."""
    if not isinstance(item, Token):
        return item
    return _number(item) if item.type == "NUMBER" else ast.Ref(str(item), _pos(item))


# How tightly each operator binds: what decides where an expression's text needs parentheses.
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2, "/": 2}


def _binary(op: str, left: Token | ast.Value, right: Token | ast.Value) -> ast.Expr:
    first, second = _value(left), _value(right)
    text = _operand(first, op, right=False) + op + _operand(second, op, right=True)
    return ast.Expr(op, first, second, first.pos, text)


def _operand(value: ast.Value, op: str, *, right: bool) -> str:
    """An operand's text, in parentheses where the operator would otherwise take it apart:
    `(a+b)*c`, `a-(b-c)`."""
    text = ast.written(value)
    if isinstance(value, ast.Expr):
        inner, outer = _PRECEDENCE[value.op], _PRECEDENCE[op]
        if inner < outer or (right and inner == outer):
            return f"({text})"
    return text


# What a block's lines transform to before grouping: statements, `branch:` blocks, chains.
_Item = ast.Statement | ast.Branch


def _group_branches(statements: list[_Item]) -> tuple[ast.Statement, ...]:
    """Fold consecutive `branch:` blocks, and a `merge` line right after them, into groups."""
    grouped: list[ast.Statement] = []
    pending: list[ast.Branch] = []

    def close(merge: ast.MergeStmt | None = None) -> None:
        if pending:
            grouped.append(ast.BranchGroup(tuple(pending), merge, pending[0].pos))
            pending.clear()

    for statement in statements:
        if isinstance(statement, ast.Branch):
            pending.append(statement)
        elif isinstance(statement, ast.MergeStmt) and pending:
            close(statement)
        else:
            close()
            grouped.append(statement)
    close()
    return tuple(grouped)


def _flatten_chains(items: list[_Item | list[ast.Statement]]) -> list[_Item]:
    """A chain (`a -> b -> c`, a list) stands for its statements one after another."""
    flat: list[_Item] = []
    for item in items:
        flat.extend(item if isinstance(item, list) else (item,))
    return flat


@v_args(meta=True)
class _ToAst(Transformer[Token, Any]):
    """One method per grammar rule; each returns the AST node the rule stands for."""

    def start(self, meta: Meta, children: list[Any]) -> ast.Spec:
        return ast.Spec(_group_branches(_flatten_chains(children)))

    def network_stmt(self, meta: Meta, children: list[Any]) -> ast.NetworkStmt:
        return ast.NetworkStmt(str(children[0]), _pos(meta))

    def input_stmt(self, meta: Meta, children: list[Any]) -> ast.InputStmt:
        height, width, channels = (int(part) for part in str(children[0]).split("x"))
        return ast.InputStmt(height, width, channels, _pos(children[0]))

    def classes_stmt(self, meta: Meta, children: list[Any]) -> ast.ClassesStmt:
        return ast.ClassesStmt(_number(children[0]), _pos(meta))

    def settings_block(self, meta: Meta, children: list[Any]) -> ast.SettingsBlock:
        return ast.SettingsBlock(str(children[0]), tuple(children[1:]), _pos(meta))

    def setting_line(self, meta: Meta, children: list[Any]) -> ast.SettingLine:
        key, *words = children
        converted: list[ast.Number | ast.Option | ast.Text] = []
        for word in words:
            if isinstance(word, Token):
                if word.type == "STRING":
                    converted.append(ast.Text(str(word)[1:-1], _pos(word)))
                else:
                    converted.append(_number(word))
            else:
                converted.append(word)
        return ast.SettingLine(str(key), tuple(converted), _pos(meta))

    def module_def(self, meta: Meta, children: list[Any]) -> ast.ModuleDef:
        name, *rest = children
        params = rest[0] if len(rest) == 2 else ()
        return ast.ModuleDef(str(name), params, rest[-1], _pos(meta), _pos(name))

    def params(self, meta: Meta, children: list[Any]) -> tuple[ast.Param, ...]:
        return tuple(param for param in children if param)

    def param(self, meta: Meta, children: list[Any]) -> ast.Param:
        name, *default = children
        return ast.Param(str(name), _pos(name), _value(default[0]) if default else None)

    def section_block(self, meta: Meta, children: list[Any]) -> ast.SectionStmt:
        (kind, name), body = children
        return ast.SectionStmt(kind, name, body, _pos(meta))

    def section_head(self, meta: Meta, children: list[Any]) -> tuple[str, str | None]:
        return str(children[0]), (str(children[1]) if len(children) > 1 else None)

    def block_body(self, meta: Meta, children: list[Any]) -> tuple[ast.Statement, ...]:
        return _group_branches(_flatten_chains(children))

    def chain_stmt(self, meta: Meta, children: list[Any]) -> list[ast.Statement]:
        chain: list[ast.Statement] = children[0]
        return chain

    def chain(self, meta: Meta, children: list[Any]) -> list[ast.Statement]:
        first, *links = (child for child in children if not isinstance(child, Token))
        return [first, *(link._replace(chained=True) for link in links)]

    def branch_stmt(self, meta: Meta, children: list[Any]) -> ast.Branch:
        return ast.Branch(children[0], _pos(meta))

    def merge_stmt(self, meta: Meta, children: list[Any]) -> ast.MergeStmt:
        mode, *options = children
        return ast.MergeStmt(str(mode), tuple(options), _pos(meta), _pos(mode))

    def repeat_block(self, meta: Meta, children: list[Any]) -> ast.RepeatStmt:
        return ast.RepeatStmt(_value(children[0]), children[1], _pos(meta))

    def aux_block(self, meta: Meta, children: list[Any]) -> ast.AuxStmt:
        name, *options, body = children
        return ast.AuxStmt(str(name), tuple(options), body, _pos(meta))

    def sized_window(self, meta: Meta, children: list[Any]) -> ast.LayerStmt:
        kind, kernel, size, *options = children
        return ast.LayerStmt(str(kind), kernel, _value(size), tuple(options), _pos(meta))

    def window(self, meta: Meta, children: list[Any]) -> ast.LayerStmt:
        kind, kernel, *options = children
        return ast.LayerStmt(str(kind), kernel, None, tuple(options), _pos(meta))

    def adaptive_pool(self, meta: Meta, children: list[Any]) -> ast.LayerStmt:
        kind, grid = children
        return ast.LayerStmt(str(kind), grid, None, (), _pos(meta), adaptive=True)

    def kernel(self, meta: Meta, children: list[Any]) -> ast.Kernel:
        if len(children) == 1:
            return _kernel(children[0])
        height, width, *stride = (_value(child) for child in children)
        return ast.Kernel(height, width, stride[0] if stride else None, _pos(meta))

    def pad(self, meta: Meta, children: list[Any]) -> ast.LayerStmt:
        sizes = tuple(_value(token) for token in children[1:])
        return ast.LayerStmt("pad", None, sizes[0], (), _pos(meta), values=sizes)

    def sized(self, meta: Meta, children: list[Any]) -> ast.LayerStmt:
        kind, size, *options = children
        return ast.LayerStmt(str(kind), None, _value(size), tuple(options), _pos(meta))

    def dropout(self, meta: Meta, children: list[Any]) -> ast.LayerStmt:
        rate, *options = children
        return ast.LayerStmt("dropout", None, _value(rate), tuple(options), _pos(meta))

    def rescale(self, meta: Meta, children: list[Any]) -> ast.LayerStmt:
        kind, scale, *rest = children
        options = [child for child in rest if isinstance(child, ast.Option)]
        divisor = [child for child in rest if not isinstance(child, ast.Option)]
        if divisor:
            scale = _binary("/", scale, divisor[0])
        return ast.LayerStmt(str(kind), None, _value(scale), tuple(options), _pos(meta))

    def plain_layer(self, meta: Meta, children: list[Any]) -> ast.LayerStmt:
        kind, *options = children
        return ast.LayerStmt(str(kind), None, None, tuple(options), _pos(meta))

    def inception(self, meta: Meta, children: list[Any]) -> ast.InceptionStmt:
        name, widths = children
        return ast.InceptionStmt(str(name), widths, _pos(meta), _pos(name))

    def widths(self, meta: Meta, children: list[Any]) -> tuple[ast.Value, ...]:
        return tuple(_value(token) for token in children)

    def instance(self, meta: Meta, children: list[Any]) -> ast.InstanceStmt:
        module, *rest = children
        named = rest and isinstance(rest[0], Token) and rest[0].type == "NAME"
        name = rest.pop(0) if named else None
        return ast.InstanceStmt(
            str(module),
            str(name) if name else None,
            tuple(word for word in rest if isinstance(word, ast.Argument)),
            _pos(meta),
            _pos(name) if name else None,
            tuple(ast.Text(str(word), _pos(word)) for word in rest if isinstance(word, Token)),
        )

    def argument(self, meta: Meta, children: list[Any]) -> ast.Argument:
        name, value = children
        return ast.Argument(str(name), _value(value), _pos(name))

    def negative(self, meta: Meta, children: list[Any]) -> ast.Number:
        number = _number(children[0])
        return ast.Number(-number.value, _pos(meta))

    def product(self, meta: Meta, children: list[Any]) -> ast.Expr:
        first, *others = children
        expression = _binary("*", first, others[0])
        for other in others[1:]:
            expression = _binary("*", expression, other)
        return expression

    def add(self, meta: Meta, children: list[Any]) -> ast.Expr:
        return _binary("+", *children)

    def subtract(self, meta: Meta, children: list[Any]) -> ast.Expr:
        return _binary("-", *children)

    def multiply(self, meta: Meta, children: list[Any]) -> ast.Expr:
        return _binary("*", *children)

    def floor_divide(self, meta: Meta, children: list[Any]) -> ast.Expr:
        return _binary("//", *children)

    def group(self, meta: Meta, children: list[Any]) -> ast.Value:
        """`(c_in*e)` where a value stands: an expression points at its parenthesis."""
        inner = _value(children[0])
        return inner._replace(pos=_pos(meta)) if isinstance(inner, ast.Expr) else inner

    def option(self, meta: Meta, children: list[Any]) -> ast.Option:
        name, *values = children
        return ast.Option(str(name), tuple(_value(v) for v in values), _pos(name))


def _kernel(token: Token) -> ast.Kernel:
    text = str(token)
    window, _, stride = text.partition("/")
    height_text, width_text = window.split("x")
    pos = _pos(token)
    height = ast.Number(int(height_text), pos)
    width = ast.Number(int(width_text), ast.Pos(pos.line, pos.column + len(height_text) + 1))
    # The stride's own column: after `KxK/`.
    stride_pos = ast.Pos(pos.line, pos.column + len(window) + 1)
    value: ast.Value | None = None
    if stride.isdigit():
        value = ast.Number(int(stride), stride_pos)
    elif stride:
        value = ast.Ref(stride, stride_pos)
    return ast.Kernel(height, width, value, pos)


def parse(text: str, file: str = "<spec>") -> ast.Spec:
    """Parse spec text; raise NetspecError with positioned diagnostics on any syntax error."""
    problem = _lexical_problem(text, file)
    if problem:
        raise NetspecError(problem)
    try:
        tree = _lark().parse(text if text.endswith("\n") else text + "\n")
    except UnexpectedInput as exc:
        raise NetspecError(_empty_block(exc, text, file) or _syntax_diagnostic(exc, file)) from None
    except _TooDeep as exc:
        raise NetspecError(error("too-large", exc.message, file, exc.line, exc.column)) from None
    except _IndentationError as exc:
        raise NetspecError(error("indentation", exc.message, file, exc.line, exc.column)) from None
    statements: tuple[ast.Statement, ...] = _ToAst().transform(tree).statements
    return ast.Spec(statements, *_layout(text))


# A quoted string (which may hold a `#`), or a comment to the end of the line.
_STRING_OR_COMMENT = re.compile(r'"[^"\n]*"|#.*')


def _layout(text: str) -> tuple[tuple[ast.Comment, ...], tuple[int, ...]]:
    """The comments and blank lines the grammar skips (the text has parsed, so every quote on
    a line closes before a `#` that starts a comment)."""
    comments: list[ast.Comment] = []
    blank_lines: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if "#" in line:
            for match in _STRING_OR_COMMENT.finditer(line):
                if match.group().startswith("#"):
                    column = match.start()
                    alone = not line[:column].strip()
                    comments.append(
                        ast.Comment(match.group().rstrip(), ast.Pos(number, column + 1), alone)
                    )
                    break
        elif not line.strip():
            blank_lines.append(number)
    return tuple(comments), tuple(blank_lines)


def _lexical_problem(text: str, file: str) -> Diagnostic | None:
    """Problems Lark would report badly: tabs in indentation, control characters."""
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.rstrip("\r")
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return error(
                "tab-indent",
                "a tab in indentation: indent with spaces only",
                file,
                number,
                indent.index("\t") + 1,
            )
        for column, char in enumerate(line, start=1):
            if not char.isprintable() and char not in "\t\r":
                return error(
                    "bad-character",
                    f"unexpected character {char!r}: a spec is plain text",
                    file,
                    number,
                    column,
                )
    return None


def _empty_block(exc: UnexpectedInput, text: str, file: str) -> Diagnostic | None:
    """A block opener (`branch:`) with nothing under it: Lark trips on the next line, but the
    mistake is the colon's line."""
    if not isinstance(exc, UnexpectedToken) or set(exc.accepts or exc.expected) != {"_INDENT"}:
        return None
    lines = text.split("\n")
    if exc.token.type != "$END" and exc.token.line:
        lines = lines[: exc.token.line - 1]
    for number in range(len(lines), 0, -1):
        code = lines[number - 1].split("#", 1)[0].rstrip()
        if code.endswith(":"):
            return error(
                "syntax",
                f"`{code.strip()}` opens a block with nothing in it",
                file,
                number,
                len(code),
                hint="indent the block's lines under it, or write a chain after the colon",
            )
    return None


def _syntax_diagnostic(exc: UnexpectedInput, file: str) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        char = exc.char if hasattr(exc, "char") else "?"
        return error(
            "syntax",
            f"unexpected character {char!r}",
            file,
            exc.line,
            exc.column,
        )
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        line, column = token.line or 0, token.column or 0
        if token.type in ("_INDENT", "_DEDENT"):
            line, column = token.end_line or line, (token.end_column or 1)
        # `accepts` is what the parser state takes; `expected` also holds what the lexer
        # always accepts (end of line), which would read as a wrong suggestion.
        expected = _describe_expected(exc.accepts or exc.expected)
        return error(
            "syntax",
            f"unexpected {_describe_token(token)}: expected {expected}",
            file,
            line,
            column,
        )
    if isinstance(exc, UnexpectedEOF):
        return error(
            "syntax",
            "unexpected end of file: expected "
            + _describe_expected({str(name) for name in exc.expected}),
            file,
            exc.line if exc.line != -1 else 0,
            exc.column if exc.column != -1 else 0,
        )
    return error("syntax", str(exc), file, exc.line, exc.column)


def _describe_token(token: Token) -> str:
    if token.type == "_NL":
        return "end of line"
    if token.type == "_INDENT":
        return "indentation"
    if token.type == "_DEDENT":
        return "end of block"
    if token.type == "$END":
        return "end of file"
    return repr(str(token))


def _describe_expected(expected: set[str] | frozenset[str]) -> str:
    # After an instance's word anything goes, which says nothing: name what belongs there.
    expected = set(expected) - {"STRAY_MARK"}
    if expected & VALUE_STARTERS:
        # `(` and `-` start an expression or a negative number: "a number" says it.
        expected -= {"LPAR", "MINUS"}
    if "_NL" in expected:
        # A value may go on as a bare product (`w*4`); not what a finished line lacks.
        expected -= {"STAR"}
    if expected >= STATEMENT_STARTERS:
        return "a statement (a layer such as `conv 3x3 64`, `branch:`, or a module instance)"
    words = sorted({_describe_terminal(name) for name in expected})
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _describe_terminal(name: str) -> str:
    if name in EXPECTED_IN_WORDS:
        return EXPECTED_IN_WORDS[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"'{pattern.value}'" if pattern.type == "str" else name.lower()
