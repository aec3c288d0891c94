"""Shared fixtures: the public corpus (read in place) and the independent oracle."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"public corpus not found at {CORPUS} (shared/ sits beside the checkout)")
    return CORPUS


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compiled-rule caches go to a temporary folder, not the user's home."""
    import os

    os.environ["ENTEGRATOR_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
