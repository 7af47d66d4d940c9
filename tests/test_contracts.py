"""The constants the fast front door relies on (the import contracts run as `lint-imports`)."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

from alembic.script import ScriptDirectory

from aggregator.store import db


def test_the_head_revision_constant_is_the_migrations_head() -> None:
    """ensure_schema skips Alembic when the database is at HEAD_REVISION: it must be the scripts' head."""
    script = ScriptDirectory.from_config(db.alembic_config())
    assert script.get_heads() == [db.HEAD_REVISION]
    assert db.head_revision() == db.HEAD_REVISION


# -- files of one purpose -------------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "aggregator"
#: Lines of code a module may have (docstrings, comments and blank lines not counted).
MAX_FILE_LINES = 400
#: Lines a function may span, its docstring included.
MAX_FUNCTION_LINES = 80


def _parse(source: str) -> ast.Module:
    """``ast.parse``, tried again when CPython 3.11's AST constructor reports a recursion depth mismatch
    (python/cpython#106905): its depth counter is the interpreter's, shared by the test process's
    threads, so a sound file failed once in a full run. The file is the same; a real error still raises."""
    for _ in range(3):
        try:
            return ast.parse(source)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc):
                raise
    return ast.parse(source)


def _code_lines(source: str) -> tuple[int, ast.Module]:
    tree = _parse(source)
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            value = first.value if isinstance(first, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    skip = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docstrings)
    return len(lines), tree


def test_modules_and_functions_stay_small() -> None:
    """No module over 400 lines of code and no function over 80 lines, so each keeps one purpose."""
    too_big = []
    for path in sorted(PACKAGE.rglob("*.py")):
        count, tree = _code_lines(path.read_text(encoding="utf-8"))
        name = path.relative_to(PACKAGE.parent)
        if count > MAX_FILE_LINES:
            too_big.append(f"{name}: {count} lines of code")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                span = (node.end_lineno or node.lineno) - node.lineno + 1
                if span > MAX_FUNCTION_LINES:
                    too_big.append(f"{name}:{node.lineno}: {node.name} spans {span} lines")
    assert too_big == []
