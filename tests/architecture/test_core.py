"""Architecture rules that keep the pure core pure (style.md rules 1, 9, 13, 20)."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import entegrator
from entegrator.errors import EntegratorError

SRC = Path(entegrator.__file__).parent
CORE_PACKAGES = ["entegrator.documents", "entegrator.rules", "entegrator.signing"]
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
        instance = err(
            detail="x",
            detail_tr="x",
            detail_en="x",
            kind="VKN",
            value="1",
            reason_tr="r",
            reason_en="r",
            path="p",
            what="blob",
            ident="1",
            digest="ab",
            role="viewer",
            status="validated",
            errors=1,
            lines=2,
            limit=1,
            retry_after=5,
            number="EFA2026000000002",
            expected="EFA2026000000001",
            series="EFA",
            year=2026,
            direction="out",
            source="validated",
            target="delivered",
        )
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
