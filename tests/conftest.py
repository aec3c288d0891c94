"""Shared fixtures: the public corpus (read in place) and the independent oracle."""

from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this test session on ``ENTEGRATOR_DATABASE_URL``'s server (CI:
    127.0.0.1:5432), or on an embedded server when none is set; dropped at the end."""
    import os
    import secrets
    import tempfile

    import psycopg
    from sqlalchemy.engine import make_url

    from entegrator.store.db import embedded_url, libpq_url

    # The embedded server lives outside pytest's temporary folders: pytest prunes the old ones
    # of every session on the machine, and would delete the data of a server still in use by
    # another session. Sessions share the one server, each with a database of its own.
    shared = Path(tempfile.gettempdir()) / f"entegrator-test-pg-{os.getuid()}"
    base = os.environ.get("ENTEGRATOR_DATABASE_URL") or embedded_url(shared)
    name = f"entegrator_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = libpq_url(base)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The platform fixtures (settings, runtime, a served API, tenants, job draining) for every
# test folder: store, lifecycle, services, api and workflow tests use them at their own level.
from tests.testing.gib_packages import gib_packages  # noqa: E402
from tests.testing.platform import (  # noqa: E402 - after the database fixture they depend on
    base_url,
    make_tenant,
    run_jobs,
    runtime,
    settings,
    tenant,
)

__all__ = [
    "base_url",
    "gib_packages",
    "make_tenant",
    "run_jobs",
    "runtime",
    "settings",
    "tenant",
]
