"""Connections: the embedded PostgreSQL, the two engines, tenant-scoped transactions, migrations.

Two engines share one server:

* ``Database.admin`` connects as the configured user (the schema's owner). Only migrations,
  tenant administration and the API key lookup use it.
* ``Database.engine`` switches every new connection to the ``entegrator_app`` role, which
  row-level security binds to the tenant named in the transaction (``Database.tenant``). A
  query that forgets its ``tenant_id`` filter still sees only that tenant's rows; a
  transaction that names no tenant sees none.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

__all__ = [
    "APP_ROLE",
    "Database",
    "clear_stale_pids",
    "embedded_url",
    "is_unavailable",
    "resolve_url",
    "sqlalchemy_url",
]

log = logging.getLogger(__name__)

APP_ROLE = "entegrator_app"
EMBEDDED_DATABASE = "entegrator"


def sqlalchemy_url(url: str) -> str:
    """``postgresql://…`` → ``postgresql+psycopg://…`` (psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The plain libpq form (``postgresql://…``) for psycopg and procrastinate."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def embedded_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL under ``data_dir/pgdata``; its URL.

    The server keeps its data across restarts and stops when the last process using it exits
    (normally, or on SIGINT/SIGTERM, which the commands turn into a normal exit). Processes
    that died without saying so (SIGKILL, a crash) are struck from its lists first, or the
    server would wait for them for ever and never stop.
    """
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver  # the embedded server is optional when a URL is configured

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "pgdata"
    with pgserver.postgres_server.PostgresServer._lock:  # as pgserver edits its lists
        clear_stale_pids(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    exists = server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"  # noqa: S608 - a constant name
    ).strip()
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    _SERVERS.append(server)  # keep a reference: the server lives as long as this process
    return str(server.get_uri(EMBEDDED_DATABASE))


_SERVERS: list[Any] = []

# pgserver's list of the processes using a server, next to the data; the server stops when the
# last of them exits.
_HANDLE_PIDS = ".handle_pids.json"


def clear_stale_pids(pgdata: Path) -> None:
    """Strike processes that are gone from the pid files of the embedded server at ``pgdata``.

    * pgserver's process list: a process that was killed stays listed, so the server never
      finds itself the last one's and is never stopped.
    * PostgreSQL's ``postmaster.pid``: when the process it names is gone, or is no longer a
      postgres (its number reused), pgserver would take the server for running and join it.
    """
    import psutil  # type: ignore[import-untyped]

    listed = pgdata / _HANDLE_PIDS
    if listed.is_file():
        try:
            pids = json.loads(listed.read_text())
        except (OSError, ValueError):
            pids = None
        if not isinstance(pids, list):
            log.warning("unreadable %s: started afresh", listed)
            listed.unlink(missing_ok=True)
        else:
            alive = [p for p in pids if isinstance(p, int) and psutil.pid_exists(p)]
            if alive != pids:
                log.info(
                    "embedded PostgreSQL: %d stale process entries cleared", len(pids) - len(alive)
                )
                listed.write_text(json.dumps(alive))
    postmaster = pgdata / "postmaster.pid"
    try:
        first = postmaster.read_text().split("\n", 1)[0].strip()
    except OSError:
        return
    if not _is_postgres(first, psutil):
        log.info("embedded PostgreSQL: stale postmaster.pid (process %s is gone) removed", first)
        postmaster.unlink(missing_ok=True)


def _is_postgres(pid: str, psutil: Any) -> bool:
    try:
        return bool(psutil.Process(int(pid)).name() in ("postgres", "postmaster"))
    except (ValueError, psutil.Error):
        return False


def resolve_url(database_url: str | None, data_dir: Path) -> str:
    """The configured server, or the embedded one when none is configured."""
    return database_url or embedded_url(data_dir)


# SQLSTATEs of a server that is away rather than a statement that failed: connection
# exceptions (class 08), shutting down (57P01 admin, 57P02 crash), starting up (57P03), and no
# connection slot left (53300).
_AWAY = ("08", "57P01", "57P02", "57P03", "53300")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says PostgreSQL cannot be reached right now.

    True for a refused or lost connection, a server shutting down or starting up, and a pool
    that found no connection in time; False for errors of a statement (a constraint, a
    deadlock, a syntax error), which say nothing of the server being away.
    """
    import psycopg
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    seen: BaseException | None = exc
    for _ in range(8):  # a chain of causes, not a cycle
        if seen is None:
            return False
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, PoolTimeoutError):  # every connection busy waiting for the server
            return True
        if isinstance(seen, psycopg.OperationalError):
            # Errors raised by the client itself (refused, lost, closed, pool timeout) carry
            # no SQLSTATE; the server's own carry one.
            state = seen.sqlstate
            if state is None or state.startswith(_AWAY):
                return True
        seen = seen.__cause__
    return False


def _as_app_role(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET ROLE {APP_ROLE}")
    cursor.close()
    dbapi_connection.commit()


class Database:
    """Engines for one PostgreSQL database."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = libpq_url(url)
        sa_url = sqlalchemy_url(url)
        self.admin: Engine = create_engine(sa_url, pool_size=2, max_overflow=8)
        # The application engine runs in autocommit mode and opens its transactions itself, so
        # that BEGIN and the tenant setting travel in one round trip (``tenant``).
        self.engine: Engine = create_engine(
            sa_url, pool_size=pool_size, max_overflow=pool_size, isolation_level="AUTOCOMMIT"
        )
        event.listen(self.engine, "connect", _as_app_role)

    def dispose(self) -> None:
        self.engine.dispose()
        self.admin.dispose()

    @contextlib.contextmanager
    def tenant(self, tenant_id: uuid.UUID) -> Iterator[Connection]:
        """One transaction as the application role, limited to ``tenant_id``'s rows.

        Committed when the block ends, rolled back when it raises.
        """
        tid = uuid.UUID(str(tenant_id))  # a UUID, hence safe to write into the statement
        with self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None  # noqa: S101 - type narrowing of an invariant
            raw.execute(f"BEGIN; SET LOCAL entegrator.tenant_id = '{tid}'")
            try:
                yield conn
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")

    @contextlib.contextmanager
    def unscoped(self) -> Iterator[Connection]:
        """Single statements as the application role naming no tenant (no tenant rows)."""
        with self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def system(self) -> Iterator[Connection]:
        """One transaction as the schema owner (administration only)."""
        with self.admin.begin() as conn:
            yield conn

    # -- schema ------------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Apply every migration not yet applied (safe to run from several processes)."""
        from alembic import command

        with self.admin.connect() as conn:
            # One migrator at a time: the others wait here, then find nothing left to do.
            conn.execute(text("SELECT pg_advisory_lock(7310642)"))
            conn.commit()
            try:
                config = _alembic_config()
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(7310642)"))
                conn.commit()

    def revision(self) -> str | None:
        """The schema revision applied to this database (None before the first migration)."""
        with self.admin.connect() as conn:
            exists = conn.execute(text("SELECT to_regclass('alembic_version')")).scalar()
            if exists is None:
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    @staticmethod
    def head() -> str:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        assert head is not None  # noqa: S101 - type narrowing of an invariant
        return head

    def ensure_partitions(self, months_ahead: int = 3) -> None:
        with self.system() as conn:
            conn.execute(text("SELECT entegrator_ensure_partitions(:n)"), {"n": months_ahead})


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config
