"""Architecture rules that keep the pure core pure (style.md rules 1, 9, 13, 20)."""

from __future__ import annotations

import ast
import importlib
import json
import string
import subprocess
import sys
from pathlib import Path

import pytest

import entegrator
from entegrator.errors import EntegratorError

SRC = Path(entegrator.__file__).parent
CORE_PACKAGES = [
    "entegrator.documents",
    "entegrator.rules",
    "entegrator.signing",
    "entegrator.envelope",
]
ALLOWED_THIRD_PARTY = {
    "lxml",
    "pydantic",
    "pydantic_core",
    "typing_extensions",
    "annotated_types",
    "typing_inspection",
    "cryptography",  # signing
    "cffi",
    "_cffi_backend",
    "_openssl",  # cryptography's Rust extension
}


@pytest.mark.parametrize("package", CORE_PACKAGES)
def test_core_imports_only_the_allow_list(package: str) -> None:
    code = (
        "import sys, json; before = set(sys.modules); "
        f"import {package}; import importlib.util as u; "
        f"u.find_spec('{package}.samples') and __import__('{package}.samples'); "
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    stdlib = set(sys.stdlib_module_names)
    # Runtime internals that lxml's Cython build and sysconfig register are not imports of ours.
    internal = {
        m for m in loaded if m.startswith(("_cython_", "_sysconfigdata_")) or m == "cython_runtime"
    }
    foreign = {m for m in loaded - internal if m not in stdlib and m.lstrip("_") not in stdlib}
    foreign -= ALLOWED_THIRD_PARTY
    assert foreign <= {"entegrator"}, f"{package} imports {sorted(foreign - {'entegrator'})}"


@pytest.mark.parametrize(
    "package",
    [
        "entegrator.documents",
        "entegrator.documents.model",
        "entegrator.documents.identifiers",
        "entegrator.rules",
        "entegrator.signing",
    ],
)
def test_public_names_exist(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    assert len(set(module.__all__)) == len(module.__all__)


def _all_errors(cls: type[EntegratorError]) -> list[type[EntegratorError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += _all_errors(sub)
    return out


def test_error_codes_are_unique_and_messages_render() -> None:
    importlib.import_module("entegrator.documents")
    importlib.import_module("entegrator.rules")
    importlib.import_module("entegrator.signing")
    importlib.import_module("entegrator.api.app")
    importlib.import_module("entegrator.services.invoices")
    importlib.import_module("entegrator.services.trust")
    importlib.import_module("entegrator.lifecycle")
    errors = _all_errors(EntegratorError)
    codes = [e.code for e in errors]
    assert len(codes) == len(set(codes)), codes
    for err in errors:
        assert err.code.isupper() and " " not in err.code
        # Every placeholder in the templates gets a value: a new error field needs no edit here.
        fields: dict[str, object] = {
            name: "1"
            for template in (err.message_tr, err.message_en)
            for _, name, _, _ in string.Formatter().parse(template)
            if name
        }
        data: dict[str, object] = {
            "detail": "x",
            "detail_tr": "x",
            "detail_en": "x",
            "kind": "VKN",
            "value": "1",
            "reason_tr": "r",
            "reason_en": "r",
            "path": "p",
            "what": "blob",
            "ident": "1",
            "digest": "ab",
            "role": "viewer",
            "status": "validated",
            "errors": 1,
        }
        instance = err(**(fields | data))
        assert "{" not in instance.text_tr and "{" not in instance.text_en, err
        assert instance.to_dict()["code"] == err.code


def test_no_float_in_the_core() -> None:
    offenders = []
    for path in (SRC / "documents").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "float":
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_quantize_only_in_rounding() -> None:
    users = [p.name for p in SRC.rglob("*.py") if ".quantize(" in p.read_text(encoding="utf-8")]
    assert users == ["rounding.py"]


# What the core may not read: settings come in as arguments and time as `now` (style.md rules 1,
# 11 and 23). Aliases are resolved, so `import datetime as dt; dt.datetime.now()` counts.
AMBIENT = {
    "os.environ",
    "os.environb",
    "os.getenv",
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.today",
    "datetime.date.today",
    "time.time",
    "time.time_ns",
}

# (module, what it reads) in the core today, while the values move to arguments. This set may
# only shrink: a new read fails the test, and so does a listed one that is gone, so that the list
# stays the true to-do list.
KNOWN_AMBIENT_READS = {
    ("documents/response.py", "datetime.datetime.now"),
    ("envelope/sbdh.py", "datetime.datetime.now"),
    ("rules/identity.py", "datetime.datetime.now"),
    ("rules/schematron.py", "datetime.datetime.now"),
    ("rules/schematron.py", "os.environ"),
    ("rules/xpath.py", "datetime.datetime.now"),
    ("signing/certs.py", "datetime.datetime.now"),
    ("signing/certs.py", "os.environ"),
    ("signing/xades.py", "datetime.datetime.now"),
}


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def ambient_reads(source: str) -> set[tuple[int, str]]:
    """The environment and clock reads in `source`, as (line, canonical name).

    >>> sorted(ambient_reads("import datetime as dt\\nx = dt.datetime.now(dt.UTC)"))
    [(2, 'datetime.datetime.now')]
    >>> sorted(ambient_reads("from os import environ\\nenviron.get('X')"))
    [(2, 'os.environ')]
    >>> sorted(ambient_reads("def f(now):\\n    return now.date()"))
    []
    """
    tree = ast.parse(source)
    names: dict[str, str] = {}  # local name -> what it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute | ast.Name):
            continue
        dotted = _dotted(node)
        if dotted is None:
            continue
        head, _, rest = dotted.partition(".")
        canonical = ".".join(filter(None, [names.get(head, head), rest]))
        if canonical in AMBIENT:
            found.add((node.lineno, canonical))
    return found


def _core_ambient_reads() -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for package in CORE_PACKAGES:
        for path in sorted((SRC / package.split(".")[1]).rglob("*.py")):
            name = path.relative_to(SRC).as_posix()
            for line, what in sorted(ambient_reads(path.read_text(encoding="utf-8"))):
                out.setdefault((name, what), []).append(line)
    return out


def test_the_core_reads_no_environment_and_no_clock() -> None:
    new = {k: v for k, v in _core_ambient_reads().items() if k not in KNOWN_AMBIENT_READS}
    assert new == {}, f"the core takes settings and `now` as arguments; found {new}"


def test_the_known_ambient_reads_are_still_there() -> None:
    gone = KNOWN_AMBIENT_READS - set(_core_ambient_reads())
    assert gone == set(), f"{sorted(gone)} no longer read: take them off KNOWN_AMBIENT_READS"
