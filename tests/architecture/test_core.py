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
    "entegrator.findings",
    "entegrator.documents",
    "entegrator.rules",
    "entegrator.signing",
    "entegrator.envelope",
]
# What a core package may import of ours besides the core: the error base class.
CORE_MAY_IMPORT = {"entegrator.errors"}
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
        "entegrator.envelope",
        "entegrator.findings",
    ],
)
def test_public_names_exist(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    assert len(set(module.__all__)) == len(module.__all__)


def _imported_modules(path: Path) -> set[str]:
    """Every ``entegrator`` module ``path`` imports, at module level or inside functions."""
    package = ".".join(("entegrator", *path.relative_to(SRC).parent.parts))
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return {m for m in found if m == "entegrator" or m.startswith("entegrator.")}


def _package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def core_import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """Package-level import edges between our top-level packages, from each core package."""
    graph: dict[str, set[str]] = {}
    for package in CORE_PACKAGES:
        folder = src / package.split(".")[1]
        edges: set[str] = set()
        for path in folder.rglob("*.py"):
            edges |= {_package_of(m) for m in _imported_modules(path)}
        graph[package] = edges - {package}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt in graph and nxt not in state:
                found = visit(nxt, [*path, nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_core_packages_import_no_cycle() -> None:
    graph = core_import_graph()
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph) or [])


def test_cycle_finder_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_signing_does_not_import_rules() -> None:
    assert "entegrator.rules" not in core_import_graph()["entegrator.signing"]


def test_core_imports_only_the_core() -> None:
    allowed = set(CORE_PACKAGES) | CORE_MAY_IMPORT
    outside = {
        package: sorted(edges - allowed)
        for package, edges in core_import_graph().items()
        if edges - allowed
    }
    assert outside == {}


# Calls that reach outside the arguments: the environment, the user's home, the wall clock.
_AMBIENT = {"getenv": "environment", "expanduser": "home", "home": "home"}
_CLOCK = {"now": "clock", "today": "clock", "utcnow": "clock", "time": "clock"}


def _ambient_reads(names: dict[str, str]) -> list[str]:
    offenders = []
    for package in CORE_PACKAGES:
        for path in (SRC / package.split(".")[1]).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = node.attr if isinstance(node, ast.Attribute) else None
                call = node.func if isinstance(node, ast.Call) else None
                if name == "environ" or (
                    isinstance(call, ast.Attribute)
                    and call.attr in names
                    # ``time.time()``, not ``dt.time(8, 30)``
                    and (call.attr != "time" or ast.unparse(call.value) == "time")
                ):
                    what = names.get(
                        call.attr if isinstance(call, ast.Attribute) else "", "environment"
                    )
                    assert isinstance(node, ast.expr)  # an attribute or a call: it has a line
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno} reads the {what}")
    return offenders


def test_core_reads_no_environment() -> None:
    assert _ambient_reads(_AMBIENT) == []


def test_core_reads_no_clock() -> None:
    """``now``/``today`` come in as arguments, or as the validator's clock (style.md rule 11)."""
    assert _ambient_reads(_CLOCK) == []


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
        # Every field the two templates name gets a value; a template that cannot render with
        # its own fields (an unbalanced brace, a format spec on a string) fails here.
        fields = {
            name
            for template in (err.message_tr, err.message_en)
            for _text, name, _spec, _conv in string.Formatter().parse(template)
            if name
        }
        instance = err(**dict.fromkeys(fields, "1"))
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


def test_the_core_reads_no_environment_and_no_clock_under_any_alias() -> None:
    found = _core_ambient_reads()
    assert found == {}, f"the core takes settings and `now` as arguments; found {found}"
