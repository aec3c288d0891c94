"""The layer contracts in pyproject.toml `[tool.importlinter]` hold (docs/architecture.md).

`lint-imports` runs in a subprocess, so `make test` (and with it CI) fails on a broken contract.
The second test proves that the contracts bite: a copy of the package with one bad import, on a
`PYTHONPATH` of its own, must break them. The real source tree is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import entegrator

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(entegrator.__file__).resolve().parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(cwd: Path, *, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_layer_contracts_are_kept() -> None:
    result = _lint_imports(ROOT, pythonpath=SRC.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        # The core imports a web framework.
        ("documents/_bad.py", "import fastapi\n", "entegrator.documents._bad -> fastapi"),
        # The core reads the settings.
        (
            "rules/_bad.py",
            "import entegrator.config\n",
            "entegrator.rules._bad -> entegrator.config",
        ),
        # The store reaches up to the lifecycle.
        (
            "store/_bad.py",
            "import entegrator.lifecycle\n",
            "entegrator.store._bad -> entegrator.lifecycle",
        ),
        # One adapter in imports another.
        (
            "workflow/_bad.py",
            "import entegrator.api\n",
            "entegrator.workflow._bad -> entegrator.api",
        ),
        # The client library leans on the server's code.
        (
            "client/_bad.py",
            "import entegrator.documents\n",
            "entegrator.client._bad -> entegrator.documents",
        ),
    ],
)
def test_a_bad_import_breaks_the_contracts(
    tmp_path: Path, module: str, source: str, expected: str
) -> None:
    copy = tmp_path / "src" / "entegrator"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    (copy / module).write_text(source, encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = _lint_imports(tmp_path, pythonpath=copy.parent)
    assert result.returncode != 0, result.stdout
    assert expected in result.stdout
