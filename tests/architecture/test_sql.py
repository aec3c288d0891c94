"""No SQL outside the store (docs/architecture.md, style.md rules 2 and 6).

SQL lives in `entegrator/store/`, behind repositories that take a connection and never commit.
Everything else calls them. A module outside the store offends when it

- imports `text`, `select`, `insert`, `update` or `delete` from SQLAlchemy, or calls
  `sqlalchemy.text(...)`;
- holds a string that reads as SQL (`SELECT`, `INSERT INTO`, `UPDATE <table> SET`, `DELETE FROM`).

`entegrator/gibsim/` is left out: the simulator is GİB's own application with its own schema
(today its SQL sits in `gibsim/service.py`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import entegrator

SRC = Path(entegrator.__file__).resolve().parent
EXEMPT = ("store/", "gibsim/")
SQL_NAMES = {"text", "select", "insert", "update", "delete"}
SQL_STRING = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b")

# Modules that hold SQL today, while it moves into `store/`. This set may only shrink: a new
# module with SQL fails the test, and so does a listed module that no longer has any, so that the
# list stays the true to-do list.
KNOWN_OFFENDERS = {
    "cli/demo.py",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants: prose about SQL is not SQL."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def sql_in(source: str) -> list[str]:
    """Where `source` uses SQL, as `line: what` entries.

    >>> sql_in("from sqlalchemy import Connection, text")
    ['1: imports sqlalchemy.text']
    >>> sql_in("import sqlalchemy as sa\\nsa.text('x')")
    ['2: calls sqlalchemy.text']
    >>> sql_in("q = f'DELETE FROM t WHERE id = {i}'")
    ['1: SQL string']
    >>> sql_in('def f():\\n    "SELECT the best one."')
    []
    """
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    modules = {"sqlalchemy"}  # names bound to the sqlalchemy module
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "sqlalchemy"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [
                (node.lineno, f"imports sqlalchemy.{a.name}")
                for a in node.names
                if a.name in SQL_NAMES
            ]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_NAMES
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in modules
        ):
            found.append((node.lineno, f"calls sqlalchemy.{node.func.attr}"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and SQL_STRING.search(node.value)
        ):
            found.append((node.lineno, "SQL string"))
    return [f"{line}: {what}" for line, what in sorted(found)]


def _sql_outside_the_store() -> dict[str, list[str]]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name.startswith(EXEMPT):
            continue
        found = sql_in(path.read_text(encoding="utf-8"))
        if found:
            out[name] = found
    return out


def test_no_new_sql_outside_the_store() -> None:
    offenders = _sql_outside_the_store()
    new = {name: where for name, where in offenders.items() if name not in KNOWN_OFFENDERS}
    assert new == {}, "SQL belongs in entegrator/store/ (a repository function); found in " + str(
        new
    )


def test_the_known_offenders_still_offend() -> None:
    clean = KNOWN_OFFENDERS - set(_sql_outside_the_store())
    assert clean == set(), f"no SQL left in {sorted(clean)}: take them off KNOWN_OFFENDERS"
