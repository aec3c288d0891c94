"""The API is an edge: it parses, calls services and renders; SQL lives in the store
(style.md rules 5 and 6)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import entegrator

API = Path(entegrator.__file__).parent / "api"
MODULES = sorted(API.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(API)))
def test_the_api_writes_no_sql(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            # Only its exception classes, to answer a database outage with 503.
            assert node.module == "sqlalchemy.exc", f"{path.name}: from {node.module} import"
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("sqlalchemy") for a in node.names), path.name
        if isinstance(node, ast.Attribute):
            assert node.attr != "DOCUMENT_COLUMNS", f"{path.name}: builds a query"


def test_every_api_module_is_checked() -> None:
    names = {p.relative_to(API).as_posix() for p in MODULES}
    assert {"app.py", "deps.py", "routes/invoices.py", "routes/_documents.py"} <= names
