"""Platform commands: serve, worker, db upgrade, tenant / apikey / seal administration."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec

import typer

from entegrator.cli._errors import USAGE_EXIT, fail
from entegrator.errors import EntegratorError

if TYPE_CHECKING:
    from entegrator.config import Settings
    from entegrator.runtime import Runtime

__all__ = [
    "alias_app",
    "apikey_app",
    "db_app",
    "seal_app",
    "serve",
    "tenant_app",
    "user_app",
    "worker",
]

P = ParamSpec("P")

DEMO_VKN = "8799758740"
DEMO_NAME = "Örnek Yazılım A.Ş."

db_app = typer.Typer(rich_markup_mode=None, help="The PostgreSQL schema.", no_args_is_help=True)
tenant_app = typer.Typer(
    rich_markup_mode=None, help="Tenants (mükellefler served by this installation)."
)
apikey_app = typer.Typer(rich_markup_mode=None, help="API keys.", no_args_is_help=True)
user_app = typer.Typer(rich_markup_mode=None, help="Users of the web portal.", no_args_is_help=True)
seal_app = typer.Typer(
    rich_markup_mode=None, help="Financial seals (mali mühür) of tenants.", no_args_is_help=True
)
alias_app = typer.Typer(
    rich_markup_mode=None, help="Tenants' GİB aliases (etiket).", no_args_is_help=True
)


def _runtime(settings: Settings | None = None) -> Runtime:
    from entegrator.config import Settings
    from entegrator.runtime import Runtime

    rt = Runtime.from_settings(settings or Settings())
    _OPEN.append(rt)
    return rt


# Runtimes of the running command, closed when it ends (its connections with them).
_OPEN: list[Runtime] = []


def _platform_errors(command: Callable[P, None]) -> Callable[P, None]:
    """A platform command whose settings or database fail ends with exit code 2 and a
    message naming the setting at fault, never a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        from pydantic import ValidationError
        from sqlalchemy.exc import ArgumentError, ProgrammingError

        from entegrator.store import is_unavailable

        try:
            command(*args, **kwargs)
        except ValidationError as exc:
            if exc.title != "Settings":
                raise
            _setting_invalid(exc)
        except ArgumentError:
            fail(
                "SETTING_INVALID",
                "ENTEGRATOR_DATABASE_URL bir PostgreSQL adresi değil "
                "(postgresql://kullanıcı@sunucu:5432/veritabanı)",
                "ENTEGRATOR_DATABASE_URL is not a PostgreSQL URL "
                "(postgresql://user@host:5432/database)",
                where="ENTEGRATOR_DATABASE_URL",
            )
        except ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) != "42P01":  # undefined_table
                raise
            fail(
                "SCHEMA_MISSING",
                "Veritabanında entegrator şeması yok; önce `entegrator db upgrade` çalıştırın",
                "The database has no entegrator schema; run `entegrator db upgrade` first",
                where="ENTEGRATOR_DATABASE_URL",
            )
        except subprocess.SubprocessError as exc:  # pgserver's pg_ctl, psql
            fail(
                "DATABASE_UNAVAILABLE",
                f"Gömülü PostgreSQL başlatılamadı ({type(exc).__name__}); günlüğü: "
                "ENTEGRATOR_DATA_DIR/pgdata/log",
                f"The embedded PostgreSQL could not start ({type(exc).__name__}); its log: "
                "ENTEGRATOR_DATA_DIR/pgdata/log",
                where="ENTEGRATOR_DATA_DIR",
            )
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            fail(
                "DATABASE_UNAVAILABLE",
                "PostgreSQL'e bağlanılamadı; sunucu çalışıyor mu, ENTEGRATOR_DATABASE_URL "
                "doğru mu?",
                "Cannot connect to PostgreSQL; is the server running, is "
                "ENTEGRATOR_DATABASE_URL right?",
                where="ENTEGRATOR_DATABASE_URL",
            )
        finally:
            while _OPEN:
                _OPEN.pop().close()

    return run


def _setting_invalid(exc: Any) -> NoReturn:
    first = exc.errors()[0]
    name = f"ENTEGRATOR_{str(first['loc'][0]).upper()}" if first["loc"] else "ENTEGRATOR_*"
    fail(
        "SETTING_INVALID",
        f"{name} geçersiz: {first['msg']}",
        f"{name} is invalid: {first['msg']}",
        where=name,
    )


_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format=_FORMAT)
    for noisy in ("procrastinate", "pgserver", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _queue_access_log()


def _queue_access_log() -> None:
    """The access log is written by a thread of its own; the event loop only hands it the
    record (a write on the loop releases the GIL to the busy request threads and then waits for
    it back, once per request)."""
    import atexit
    import queue
    from logging.handlers import QueueHandler, QueueListener

    from entegrator.config import settings

    access = logging.getLogger("entegrator.access")
    if not settings().access_log:
        access.setLevel(logging.WARNING)  # off: the middleware then does nothing per request
        return
    if any(isinstance(h, QueueHandler) for h in access.handlers):
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = QueueListener(records, *logging.getLogger().handlers, respect_handler_level=True)
    listener.start()
    atexit.register(listener.stop)
    access.addHandler(QueueHandler(records))
    access.propagate = False


def _uvicorn_logging() -> dict[str, Any]:
    """uvicorn's logging, plus ours (the ``entegrator.access`` log included) in the API
    processes of ``serve --workers``, which start with logging unconfigured."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "formatters": {**LOGGING_CONFIG["formatters"], "entegrator": {"format": _FORMAT}},
        "handlers": {
            **LOGGING_CONFIG["handlers"],
            "entegrator": {
                "class": "logging.StreamHandler",
                "formatter": "entegrator",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            **LOGGING_CONFIG["loggers"],
            "entegrator": {"handlers": ["entegrator"], "level": "INFO", "propagate": False},
        },
    }
    return config


class _StopSignals:
    """SIGINT and SIGTERM end a long-running command the same way: as a normal exit.

    Python's default for SIGTERM kills the process on the spot, skipping the clean-up at exit
    that stops the embedded PostgreSQL, which then runs on for ever. Until the server loop
    takes over (uvicorn, the worker's loop), a signal raises KeyboardInterrupt, so the
    command unwinds and exits; once ``serving`` is set, the loop has the signal and shuts down
    gracefully, and the signal it raises again afterwards is only noted.
    """

    def __init__(self) -> None:
        self.serving = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if not self.serving:
            raise KeyboardInterrupt


@db_app.command("upgrade")
@_platform_errors
def db_upgrade() -> None:
    """Apply the schema migrations (also done by serve and worker on start)."""
    rt = _runtime()
    rt.db.upgrade()
    rt.db.ensure_partitions(rt.settings.partitions_ahead)
    typer.echo(f"schema at revision {rt.db.revision()}")


def _create_tenant(
    rt: Runtime,
    vkn: str,
    name: str,
    *,
    series: str,
    earsiv_series: str,
    internet_series: str = "INT",
    test_seal: bool,
) -> tuple[uuid.UUID, str]:
    from entegrator.services.seals import install_test_seal
    from entegrator.store import repo

    with rt.db.system() as conn:
        tenant_id = repo.create_tenant(
            conn,
            vkn=vkn,
            name=name,
            default_series=series,
            earsiv_series=earsiv_series,
            internet_series=internet_series,
        )
        token, key = repo.create_api_key(conn, tenant_id, role="owner", name="initial")
        if test_seal:
            install_test_seal(conn, tenant_id, vkn, name, rt.settings.key_bytes(), rt.test_ca)
        repo.append_audit(
            conn,
            tenant_id,
            actor="cli",
            action="tenant.create",
            data={"vkn": vkn, "key": key.prefix},
        )
    return tenant_id, token


@tenant_app.command("create")
@_platform_errors
def tenant_create(  # noqa: PLR0917 - one parameter per option
    vkn: Annotated[
        str, typer.Option(metavar="VKN", help="The tenant's VKN (10 digits) or TCKN (11).")
    ],
    name: Annotated[str, typer.Option(metavar="NAME", help="Title (unvan) or name.")],
    series: Annotated[
        str, typer.Option(metavar="SERIES", help="Default e-Fatura series (3 of A-Z0-9).")
    ] = "EFA",
    earsiv_series: Annotated[
        str, typer.Option(metavar="SERIES", help="Default e-Arşiv series.")
    ] = "EAR",
    internet_series: Annotated[
        str, typer.Option(metavar="SERIES", help="Default e-Arşiv internet-sale series.")
    ] = "INT",
    test_seal: Annotated[
        bool,
        typer.Option(help="Install a development seal from a test CA (not for production)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a tenant and its first (owner) API key; the key is shown only now."""
    from sqlalchemy.exc import IntegrityError

    from entegrator.documents.identifiers import numbering
    from entegrator.documents.identifiers import tckn as tckn_ids
    from entegrator.documents.identifiers import vkn as vkn_ids

    valid = vkn_ids.is_valid(vkn) if len(vkn) == 10 else tckn_ids.is_valid(vkn)
    if not (vkn.isdigit() and len(vkn) in (10, 11) and valid):
        fail(
            "INVALID_VKN",
            "VKN 10, TCKN 11 haneli ve kontrol hanesi doğru olmalı",
            "A VKN has 10 digits, a TCKN 11, with a correct check digit",
            where="--vkn",
            as_json=as_json,
        )
        raise typer.Exit(USAGE_EXIT)
    for option, value in (
        ("--series", series),
        ("--earsiv-series", earsiv_series),
        ("--internet-series", internet_series),
    ):
        if not numbering._SERIES.match(value):
            fail(
                "INVALID_SERIES",
                "Seri 3 karakter olmalı (A-Z, 0-9)",
                "A series is 3 characters of A-Z and 0-9",
                where=option,
                as_json=as_json,
            )
            raise typer.Exit(USAGE_EXIT)
    rt = _runtime()
    rt.db.upgrade()
    try:
        tenant_id, token = _create_tenant(
            rt,
            vkn,
            name,
            series=series,
            earsiv_series=earsiv_series,
            internet_series=internet_series,
            test_seal=test_seal,
        )
    except IntegrityError:
        fail(
            "TENANT_EXISTS",
            f"{vkn} için zaten bir hesap var",
            f"A tenant for {vkn} already exists",
            where="--vkn",
            as_json=as_json,
        )
        raise typer.Exit(USAGE_EXIT) from None
    if as_json:
        typer.echo(json.dumps({"tenant_id": str(tenant_id), "api_key": token}))
    else:
        typer.echo(f"tenant  {tenant_id}  {vkn}  {name}")
        typer.echo(f"api key {token}  (shown once; store it now)")


@tenant_app.command("mail-from")
@_platform_errors
def tenant_mail_from(
    tenant: Annotated[str, typer.Option(metavar="TENANT", help="Tenant id (or its VKN/TCKN).")],
    address: Annotated[
        str | None,
        typer.Argument(
            metavar="ADDRESS",
            help="The sender of the tenant's invoice e-mails; left out: ENTEGRATOR_MAIL_FROM.",
        ),
    ] = None,
) -> None:
    """Set the address the tenant's invoices are e-mailed from (none: the installation's)."""
    from entegrator.services.deliveries import is_email
    from entegrator.store import repo, tenants

    if address is not None and not is_email(address):
        fail(
            "INVALID_EMAIL",
            "Geçerli bir e-posta adresi değil",
            "Not a valid e-mail address",
            where="ADDRESS",
        )
        raise typer.Exit(USAGE_EXIT)
    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, False)
    with rt.db.system() as conn:
        tenants.set_mail_from(conn, tenant_id, address)
        repo.append_audit(
            conn, tenant_id, actor="cli", action="tenant.mail_from", data={"address": address}
        )
    typer.echo(f"mail from {address or rt.settings.mail_from}")


@apikey_app.command("create")
@_platform_errors
def apikey_create(
    tenant: Annotated[str, typer.Option(metavar="TENANT", help="Tenant id (or its VKN/TCKN).")],
    role: Annotated[
        str, typer.Option(metavar="ROLE", help="owner, accountant, viewer or api.")
    ] = "api",
    name: Annotated[str, typer.Option(metavar="NAME", help="A label for the key.")] = "api",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API key for a tenant; the key is shown only now."""
    from entegrator.store import repo

    if role not in repo.ROLES:
        fail(
            "INVALID_ROLE",
            f"Rol şunlardan biri olmalı: {', '.join(repo.ROLES)}",
            f"The role must be one of {', '.join(repo.ROLES)}",
            where="--role",
            as_json=as_json,
        )
        raise typer.Exit(USAGE_EXIT)
    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, as_json)
    with rt.db.system() as conn:
        token, key = repo.create_api_key(conn, tenant_id, role=role, name=name)
        repo.append_audit(
            conn, tenant_id, actor="cli", action="apikey.create", data={"key": key.prefix}
        )
    if as_json:
        typer.echo(json.dumps({"tenant_id": str(tenant_id), "api_key": token, "role": role}))
    else:
        typer.echo(f"api key {token}  role {role}  (shown once; store it now)")


@user_app.command("create")
@_platform_errors
def user_create(
    tenant: Annotated[str, typer.Option(metavar="VKN", help="Tenant VKN/TCKN (or its id).")],
    email: Annotated[str, typer.Option(metavar="E", help="The user's e-mail (the login).")],
    role: Annotated[
        str, typer.Option(metavar="R", help="admin, muhasebe or viewer (owner, accountant).")
    ],
    password_env: Annotated[
        str,
        typer.Option(
            metavar="VAR", help="Environment variable holding the password (never an argument)."
        ),
    ],
    name: Annotated[str | None, typer.Option(metavar="NAME", help="Full name.")] = None,
) -> None:
    """Create a portal user of a tenant, with a password taken from an environment variable."""
    from entegrator.store import repo

    password = os.environ.get(password_env)
    if not password:
        fail(
            "PASSWORD_MISSING",
            f"{password_env} ortam değişkeninde parola yok",
            f"No password in the environment variable {password_env}",
            where="--password-env",
        )
        raise typer.Exit(USAGE_EXIT)
    from entegrator.services.accounts import AccountError

    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, False)
    try:
        user_id = rt.accounts.create_user(
            tenant_id, email=email, role=role, password=password, name=name
        )
    except AccountError as exc:
        where = {"email": "--email", "role": "--role", "password": "--password-env"}
        fail(exc.code, exc.text_tr, exc.text_en, where=where.get(exc.where or "", exc.where))
    with rt.db.system() as conn:
        repo.append_audit(
            conn, tenant_id, actor="cli", action="user.create", data={"email": email.strip()}
        )
    typer.echo(f"user {user_id}  {email.strip()}  role {role}")


@user_app.command("reset-password")
@_platform_errors
def user_reset_password(
    tenant: Annotated[str, typer.Option(metavar="VKN", help="Tenant VKN/TCKN (or its id).")],
    email: Annotated[str, typer.Option(metavar="E", help="The user's e-mail.")],
    password_env: Annotated[
        str, typer.Option(metavar="VAR", help="Environment variable holding the new password.")
    ],
) -> None:
    """Set a user's password (lifts a lock-out and ends the user's sessions)."""
    from entegrator.store import users

    password = os.environ.get(password_env)
    if not password:
        fail(
            "PASSWORD_MISSING",
            f"{password_env} ortam değişkeninde parola yok",
            f"No password in the environment variable {password_env}",
            where="--password-env",
        )
        raise typer.Exit(USAGE_EXIT)
    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, False)
    with rt.db.tenant(tenant_id) as conn:
        found = users.find_by_email(conn, tenant_id, email.strip())
    if found is None:
        fail(
            "NOT_FOUND",
            f"Bu mükellefte {email} kullanıcısı yok",
            f"The tenant has no user {email}",
            where="--email",
        )
        raise typer.Exit(USAGE_EXIT)
    from entegrator.services.accounts import AccountError

    try:
        rt.accounts.reset_password(tenant_id, found.user_id, password)
    except AccountError as exc:
        fail(exc.code, exc.text_tr, exc.text_en, where="--password-env")
    typer.echo(f"password of {found.email} set; its sessions ended")


@apikey_app.command("revoke")
@_platform_errors
def apikey_revoke(
    tenant: Annotated[str, typer.Option(metavar="TENANT", help="Tenant id (or its VKN/TCKN).")],
    prefix: Annotated[
        str, typer.Argument(metavar="PREFIX", help="The key's prefix (the part after 'ent_').")
    ],
) -> None:
    """Revoke an API key (it stops working at once)."""
    from entegrator.store import repo

    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, False)
    with rt.db.system() as conn:
        done = repo.revoke_api_key(conn, tenant_id, prefix)
        if done:
            repo.append_audit(
                conn, tenant_id, actor="cli", action="apikey.revoke", data={"key": prefix}
            )
    if not done:
        fail(
            "NOT_FOUND",
            f"Bu hesapta {prefix} önekli etkin anahtar yok",
            f"The tenant has no active key with the prefix {prefix}",
            where="PREFIX",
        )
        raise typer.Exit(USAGE_EXIT)
    typer.echo(f"revoked {prefix}")


@seal_app.command("import")
@_platform_errors
def seal_import(
    tenant: Annotated[str, typer.Option(metavar="TENANT", help="Tenant id (or its VKN/TCKN).")],
    p12: Annotated[Path, typer.Argument(help="The seal as a PKCS#12 file (.p12/.pfx).")],
    password_file: Annotated[
        Path | None, typer.Option(help="File holding the PKCS#12 password.")
    ] = None,
) -> None:
    """Install a tenant's financial seal (encrypted at rest); waiting documents get signed."""
    from entegrator.cli._files import read_input, read_seal
    from entegrator.services.seals import SealIdentityError, import_seal
    from entegrator.store import repo

    # The files first: a wrong path or password is known before the database is touched.
    password = read_input(password_file).rstrip(b"\r\n") if password_file else b""
    seal = read_seal(p12, password)
    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, False)
    try:
        with rt.db.system() as conn:
            imported = import_seal(conn, tenant_id, seal, rt.settings.key_bytes())
            repo.append_audit(
                conn, tenant_id, actor="cli", action="seal.import", target=str(imported.seal_id)
            )
    except SealIdentityError as exc:
        fail(exc.code, exc.text_tr, exc.text_en, where=str(p12))
    seal_id, count = imported.seal_id, imported.waiting
    typer.echo(f"seal {seal_id} installed; {count} waiting documents queued for signing")


@alias_app.command("add")
@_platform_errors
def alias_add(
    tenant: Annotated[str, typer.Option(metavar="TENANT", help="Tenant id (or its VKN/TCKN).")],
    alias: Annotated[
        str, typer.Argument(metavar="ALIAS", help="urn:mail:…@… as registered with GİB.")
    ],
    kind: Annotated[
        str, typer.Option(metavar="PK|GB", help="PK (posta kutusu) or GB (gönderici birim).")
    ],
    document: Annotated[
        str, typer.Option(metavar="Invoice|DespatchAdvice", help="Invoice or DespatchAdvice.")
    ] = "Invoice",
) -> None:
    """Give a tenant a GİB alias: envelopes GİB delivers to it are filed under the tenant."""
    from sqlalchemy.exc import IntegrityError

    from entegrator.store import repo, tenants

    if kind not in ("PK", "GB"):
        fail(
            "INVALID_ALIAS",
            f"--kind PK ya da GB olmalı, '{kind}' değil",
            f"--kind must be PK or GB, not '{kind}'",
            where="--kind",
        )
    if document not in ("Invoice", "DespatchAdvice"):
        fail(
            "INVALID_ALIAS",
            f"--document Invoice ya da DespatchAdvice olmalı, '{document}' değil",
            f"--document must be Invoice or DespatchAdvice, not '{document}'",
            where="--document",
        )
    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, False)
    try:
        with rt.db.system() as conn:
            vkn = tenants.get_tenant(conn, tenant_id).vkn
            repo.add_alias(conn, tenant_id, vkn_tckn=vkn, alias=alias, kind=kind, document=document)
            repo.append_audit(conn, tenant_id, actor="cli", action="alias.add", target=alias)
    except IntegrityError:
        fail(
            "INVALID_ALIAS",
            f"{alias} etiketi geçersiz (urn:mail:…@…) ya da başka bir hesabın",
            f"The alias {alias} is malformed (urn:mail:…@…) or belongs to another tenant",
            where="ALIAS",
        )
        raise typer.Exit(USAGE_EXIT) from None
    typer.echo(f"{alias} ({kind}, {document}) → {tenant_id}")


def _find_tenant(rt: Runtime, ident: str, as_json: bool) -> uuid.UUID:
    from entegrator.store import tenants

    with rt.db.system() as conn:
        if ident.isdigit():
            found = tenants.find_tenant(conn, vkn=ident)
        else:
            try:
                tid = uuid.UUID(ident)
            except ValueError:
                tid = None
            found = tenants.find_tenant(conn, tenant_id=tid) if tid else None
    if found is None:
        fail(
            "TENANT_NOT_FOUND",
            f"Hesap bulunamadı: {ident} (hesap kimliği ya da VKN/TCKN verin)",
            f"No such tenant: {ident} (give the tenant id or its VKN/TCKN)",
            where="--tenant",
            as_json=as_json,
        )
        raise typer.Exit(USAGE_EXIT)
    return uuid.UUID(str(found))


@_platform_errors
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs at once (default ENTEGRATOR_WORKER_CONCURRENCY).")
    ] = None,
    until_idle: Annotated[
        bool, typer.Option(help="Stop when the queue is empty (batch runs, tests).")
    ] = False,
) -> None:
    """Run background jobs (signing, …); run as many as the load needs, on any machines.

    The worker is started again (with back-off) whenever it stops on its own, e.g. while the
    database is away; SIGINT or SIGTERM stops it after its running jobs.
    """
    from entegrator.runtime import WorkerHealth
    from entegrator.workflow.jobs import run_worker, supervise_worker

    _logging()
    _StopSignals()
    rt = _runtime()
    _check_integrator_seal(rt)
    rt.db.upgrade()
    rt.db.ensure_partitions(rt.settings.partitions_ahead)

    async def main() -> None:
        task = asyncio.create_task(supervise_worker(rt, WorkerHealth(), concurrency=concurrency))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        if until_idle:  # a batch run: a failure ends it with a non-zero exit
            asyncio.run(run_worker(rt, concurrency=concurrency, wait=False))
        else:
            asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()


def _demo_key(rt: Runtime) -> str:
    """The demo tenant's key: created on the first run, kept in the data folder."""
    from entegrator.store import tenants

    path = rt.settings.data_dir / "demo-api-key"
    with rt.db.system() as conn:
        exists = tenants.find_tenant(conn, vkn=DEMO_VKN)
    if exists is not None and path.exists():
        return str(path.read_text().strip())
    if exists is None:
        _tid, token = _create_tenant(
            rt, DEMO_VKN, DEMO_NAME, series="EFA", earsiv_series="EAR", test_seal=True
        )
    else:
        from entegrator.store import repo

        with rt.db.system() as conn:
            token, _key = repo.create_api_key(conn, exists, role="owner", name="demo")
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


DEMO_USER = "demo@ornek.com.tr"
DEMO_COMPANY = {
    "tax_office": "Çankaya",
    "street": "Atatürk Blv. 1",
    "district": "Çankaya",
    "city": "Ankara",
    "email": "fatura@ornek.com.tr",
}


def _demo_user(rt: Runtime) -> tuple[str, str]:
    """The demo tenant's portal user (admin) and its password: made on the first run, the
    password kept in the data folder."""
    import secrets

    from entegrator.store import tenants, users

    path = rt.settings.data_dir / "demo-portal-password"
    with rt.db.system() as conn:
        tenant_id = tenants.find_tenant(conn, vkn=DEMO_VKN)
    assert tenant_id is not None  # noqa: S101 - _demo_key made it
    from entegrator.services import company

    if not company.details(rt.db, tenant_id):  # what the invoice form writes as the supplier
        company.save_details(rt.db, tenant_id, DEMO_COMPANY, actor="demo")
    with rt.db.tenant(tenant_id) as conn:
        found = users.find_by_email(conn, tenant_id, DEMO_USER)
    if found is not None and found.password_hash and path.exists():
        return DEMO_USER, path.read_text().strip()
    password = secrets.token_urlsafe(12)
    if found is None:
        rt.accounts.create_user(
            tenant_id, email=DEMO_USER, role="owner", password=password, name="Demo Yönetici"
        )
    else:
        rt.accounts.reset_password(tenant_id, found.user_id, password)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return DEMO_USER, password


def _listen(host: str, port: int, *, where: str) -> socket.socket:
    """The API's listening socket, bound before anything heavy starts; a port that is taken
    (or an address that cannot be bound) ends the command at once with exit code 2."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(
                "PORT_IN_USE",
                f"{host}:{port} kullanımda (başka bir program dinliyor); başka bir port seçin: "
                "--port ya da ENTEGRATOR_PORT",
                f"{host}:{port} is already in use (another program listens on it); choose "
                "another port with --port or ENTEGRATOR_PORT",
                where=where,
            )
        fail(
            "ADDRESS_UNAVAILABLE",
            f"{host}:{port} dinlenemiyor ({exc.strerror or exc}); --host/--port ya da "
            "ENTEGRATOR_HOST/ENTEGRATOR_PORT ayarını düzeltin",
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}); fix --host/--port or "
            "ENTEGRATOR_HOST/ENTEGRATOR_PORT",
            where=where,
        )
    return sock


@_platform_errors
def serve(  # noqa: PLR0915 - the all-in-one start: API, worker, GİB's listener
    host: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Address to listen on.")
    ] = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="Port.")] = None,
    with_worker: Annotated[
        bool, typer.Option(help="Also run a worker in this process (all in one).")
    ] = False,
    demo: Annotated[
        bool, typer.Option(help="Create (once) a demo tenant with a test seal; print its key.")
    ] = False,
    workers: Annotated[
        int, typer.Option(help="API processes (one core each); not with --with-worker.")
    ] = 1,
) -> None:
    """Run the REST API (and, with --with-worker, the jobs) on PostgreSQL."""
    from entegrator.config import Settings

    if workers > 1 and with_worker:
        fail(
            "INVALID_OPTIONS",
            "--workers ile --with-worker birlikte kullanılamaz; işçiyi ayrı çalıştırın",
            "--workers and --with-worker do not go together; run `entegrator worker` apart",
            where="--workers",
        )
    settings = Settings()
    where = "--port" if port else "ENTEGRATOR_PORT"
    host = host or settings.host
    port = port or settings.port
    # Before the database, the migrations and the rules: a taken port is known in a moment.
    sock = _listen(host, port, where=where)
    import uvicorn

    from entegrator.api.app import create_app
    from entegrator.runtime import WorkerHealth
    from entegrator.web.app import mount_portal
    from entegrator.workflow.jobs import supervise_worker

    _logging()
    signals = _StopSignals()
    settings.host = host  # what the API knows of its bind (/metrics is open on loopback)
    os.environ["ENTEGRATOR_HOST"] = host  # ... also in the processes of --workers
    rt = _runtime(settings)
    _check_integrator_seal(rt, sock)
    rt.db.upgrade()
    rt.db.ensure_partitions(rt.settings.partitions_ahead)
    if workers > 1:
        if demo:
            sys.stdout.write(f"demo API key: {_demo_key(rt)}\n")
            demo_email, demo_password = _demo_user(rt)
            sys.stdout.write(
                f"portal: http://{host}:{port}/giris  E-posta {demo_email}  "
                f"Parola {demo_password}\n"
            )
        rt.close()
        sock.close()  # uvicorn binds it again for its processes; the check above was the point
        # Each process builds its own runtime from the same environment.
        os.environ["ENTEGRATOR_DATABASE_URL"] = rt.database_url
        uvicorn.run(
            "entegrator.cli.asgi:create",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            log_config=_uvicorn_logging(),
            access_log=False,  # ours: entegrator.access, one line per request
        )
        return
    rt.validator  # noqa: B018 - compile the rules before the first request
    health = WorkerHealth() if with_worker else None
    app = create_app(rt, worker=health)
    mount_portal(app, rt)  # the web portal at /, after the API's routes
    if demo:
        token = _demo_key(rt)
        demo_email, demo_password = _demo_user(rt)
        base = f"http://{host}:{port}"
        sys.stdout.write(
            f"\nentegrator is starting on {base}  (API docs: {base}/docs)\n"
            f"portal: {base}/giris\n"
            f"  E-posta {demo_email}\n  Parola  {demo_password}\n"
            f"demo tenant {DEMO_VKN} {DEMO_NAME}; API key:\n\n  {token}\n\n"
            f"  export ENTEGRATOR_KEY={token}\n"
            f'  curl -s -H "Authorization: Bearer $ENTEGRATOR_KEY" '
            f"-H 'Content-Type: application/json' "
            f"--data @examples/api/invoice.json {base}/api/v1/invoices\n\n"
        )
        sys.stdout.flush()
    # Requests wait on the database (the series lock) while others validate: hand the GIL
    # over sooner than the default 5 ms, or a waiting request sits out a whole slice each time.
    sys.setswitchinterval(0.0005)
    # uvicorn's access log stays off: ours (entegrator.access, at INFO through _logging) names
    # the route template, never the raw path or its query string.
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False)
    server = uvicorn.Server(config)

    gib_tls = _gib_tls_server(rt, host)

    async def main() -> None:
        job = None
        if health is not None:  # supervised: /readyz says 503 while it is not running
            job = asyncio.create_task(supervise_worker(rt, health))
        # GİB's mutual-TLS listener stops with the API (the signal reaches both).
        tls_job = asyncio.create_task(gib_tls.serve()) if gib_tls is not None else None
        try:
            await server.serve(sockets=[sock])
        except SystemExit:  # uvicorn's word for "could not start": said below, once
            pass
        finally:
            if gib_tls is not None and tls_job is not None:
                gib_tls.should_exit = True
                with contextlib.suppress(BaseException):
                    await tls_job
            if job is not None:
                job.cancel()
                with contextlib.suppress(BaseException):
                    await job

    sys.stdout.write(f"API on http://{host}:{port}\n")
    sys.stdout.flush()
    signals.serving = True  # uvicorn has SIGINT/SIGTERM from here on, and so does the clean-up
    try:
        asyncio.run(main())
    finally:
        sock.close()
        rt.close()
    if not server.started:
        fail(
            "SERVER_NOT_STARTED",
            f"API {host}:{port} üzerinde başlatılamadı (ayrıntı yukarıdaki günlükte)",
            f"The API could not start on {host}:{port} (details in the log above)",
            where=where,
        )


def _check_integrator_seal(rt: Runtime, sock: socket.socket | None = None) -> None:
    """An unreadable integrator seal (ENTEGRATOR_INTEGRATOR_SEAL) stops the start (and closes
    the listening ``sock``)."""
    try:
        rt.integrator_seal  # noqa: B018 - read now, not at the first document to sign
    except EntegratorError as exc:
        if sock is not None:
            sock.close()
        fail(exc.code, exc.text_tr, exc.text_en, where="ENTEGRATOR_INTEGRATOR_SEAL")


def _gib_tls_server(rt: Runtime, host: str) -> Any:
    """GİB's mutual-TLS listener (None when not configured); a bad set-up stops the start."""
    from entegrator.api.gib import tls_server

    try:
        if rt.settings.gib_trust_anchors is not None:
            rt.trust_anchors  # noqa: B018 - unreadable anchors stop the start, not a delivery
        server = tls_server(rt, host)
    except EntegratorError as exc:
        fail(exc.code, exc.text_tr, exc.text_en)
    if server is not None:
        sys.stdout.write(f"GİB endpoint (mutual TLS) on https://{host}:{server.config.port}/gib\n")
    return server


@_platform_errors
def gibsim(
    host: Annotated[
        str, typer.Option(metavar="ADDRESS", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="Port.")] = 8400,
    admin_token_env: Annotated[
        str | None,
        typer.Option(metavar="VAR", help="Environment variable holding the admin API's token."),
    ] = None,
) -> None:
    """Run the GİB simulator (a stand-in for GİB, for tests and demos only)."""
    import uvicorn

    signals = _StopSignals()

    from entegrator.config import Settings
    from entegrator.gibsim.app import create_app as create_gibsim
    from entegrator.gibsim.service import Simulator
    from entegrator.store import resolve_url

    _logging()
    from entegrator.services.trust import development_ca

    settings = Settings()
    # GİB's seal on its system responses comes from the development CA the integrators of this
    # machine trust (ENTEGRATOR_TEST_CA); signatures sent to GİB must chain to it.
    simulator = Simulator(
        resolve_url(settings.database_url, settings.data_dir),
        ca=development_ca(settings.test_ca_path()),
        earsiv_schema=settings.gibsim_earsiv_xsd,
    )
    simulator.create_schema()
    token = os.environ.get(admin_token_env) if admin_token_env else None
    app = create_gibsim(simulator, admin_token=token)
    sys.stdout.write(
        f"GİB simulator on http://{host}:{port} (services /EFaturaMerkez/..., /earsiv/...)\n"
    )
    sys.stdout.flush()
    signals.serving = True  # uvicorn has SIGINT/SIGTERM from here on, and so does the clean-up
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    finally:
        simulator.dispose()


def demo(
    invoices: Annotated[
        int, typer.Option(help="Also send this many invoices A → C; each must arrive once.")
    ] = 0,
    despatches: Annotated[
        int,
        typer.Option(help="Also send this many despatch advices A → C; each answered once."),
    ] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds each step may take.")] = 120.0,
    keep: Annotated[
        bool, typer.Option(help="Keep the databases and logs (under ENTEGRATOR_DATA_DIR/demo).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run GİB's network on this machine: the simulator and two integrators as processes,
    four companies (A and B on the first integrator, C on the second, D not an e-Fatura
    user), invoices and a despatch advice between them; a table of each document's path and
    status."""
    from entegrator.cli.demo import main

    raise typer.Exit(main(invoices, timeout, keep, as_json, despatches))


gib_app = typer.Typer(rich_markup_mode=None, help="The connection to GİB.", no_args_is_help=True)


@gib_app.command("refresh-users")
@_platform_errors
def gib_refresh_users() -> None:
    """Fetch GİB's registered-user lists into the routing cache (workers do it too)."""
    from entegrator.cli._errors import cli_errors

    rt = _runtime()
    rt.db.upgrade()
    try:
        with cli_errors("gib"):
            count = rt.sending.refresh_user_list()
    finally:
        rt.close()
    typer.echo(f"{count} registered users")


def _gib_requests(
    tenant: str, act: Callable[[Runtime, uuid.UUID], list[Any]], *, wait: float, as_json: bool
) -> None:
    """Store the tenant's user-account requests, send them now and follow GİB's answer for up
    to ``wait`` seconds (the worker follows them further); print where each stands."""
    import time as _time

    from entegrator.cli._errors import cli_errors

    rt = _runtime()
    rt.db.upgrade()
    tenant_id = _find_tenant(rt, tenant, as_json)
    try:
        with cli_errors("gib", as_json=as_json):
            requests = act(rt, tenant_id)
            ids = {r.request_id for r in requests}
            deadline = _time.monotonic() + wait
            while True:
                rt.sending.send_pending(tenant_id)
                rt.sending.poll(tenant_id)
                now = [r for r in rt.enrolment.requests(tenant_id) if r.request_id in ids]
                if all(r.status not in ("queued", "sent") for r in now) or (
                    _time.monotonic() >= deadline
                ):
                    break
                _time.sleep(0.5)
            if any(r.status == "accepted" for r in now) and rt.settings.gib_user_list_url:
                rt.sending.refresh_user_list()  # the aliases become active once GİB lists them
                now = [r for r in rt.enrolment.requests(tenant_id) if r.request_id in ids]
    finally:
        rt.close()
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in now], ensure_ascii=False))
        return
    for r in now:
        aliases = ", ".join(f"{a['kind']} {a['alias']}" for a in r.aliases)
        code = f" GİB {r.gib_code}" if r.gib_code else ""
        detail = f" ({r.gib_detail})" if r.gib_detail and r.status == "refused" else ""
        typer.echo(f"{r.action} {r.service}: {r.status}{code}{detail} [{aliases}]")
    if any(r.status == "refused" for r in now):
        raise typer.Exit(1)


_WAIT = Annotated[
    float, typer.Option(help="Seconds to follow GİB's answer here (the worker goes on).")
]
_TENANT = Annotated[str, typer.Option(metavar="TENANT", help="Tenant id or its VKN/TCKN.")]
_JSON = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@gib_app.command("enrol")
@_platform_errors
def gib_enrol(  # noqa: PLR0917 - a Typer command: one parameter per option
    tenant: _TENANT,
    despatch: Annotated[bool, typer.Option(help="Also an e-İrsaliye user (edespatch).")] = False,
    alias_pk: Annotated[
        str | None, typer.Option(metavar="NAME", help="Mailbox (PK) alias; default pk<VKN>@…")
    ] = None,
    alias_gb: Annotated[
        str | None, typer.Option(metavar="NAME", help="Sender unit (GB) alias; default gb<VKN>@…")
    ] = None,
    public: Annotated[bool, typer.Option(help="A public body (KAMU option codes).")] = False,
    wait: _WAIT = 30.0,
    as_json: _JSON = False,
) -> None:
    """Make the tenant an e-Fatura user at GİB: ProcessUserAccount in a USERENVELOPE, signed
    with the integrator seal; its aliases become active when GİB's list shows them."""
    _gib_requests(
        tenant,
        lambda rt, tid: rt.enrolment.enrol(
            tid, despatch=despatch, pk=alias_pk, gb=alias_gb, public=public, actor="cli"
        ),
        wait=wait,
        as_json=as_json,
    )


@gib_app.command("cancel")
@_platform_errors
def gib_cancel(tenant: _TENANT, wait: _WAIT = 30.0, as_json: _JSON = False) -> None:
    """The tenant leaves this integrator: CancelUserAccount for every open alias (e-İrsaliye
    first); GİB's list then shows their deletion time and another integrator may enrol it."""
    _gib_requests(
        tenant, lambda rt, tid: rt.enrolment.cancel(tid, actor="cli"), wait=wait, as_json=as_json
    )


@gib_app.command("alias-add")
@_platform_errors
def gib_alias_add(  # noqa: PLR0917 - one parameter per option
    tenant: _TENANT,
    alias: Annotated[str, typer.Argument(metavar="ALIAS", help="urn:mail:…@…")],
    kind: Annotated[str, typer.Option(metavar="PK|GB", help="PK or GB.")] = "PK",
    despatch: Annotated[bool, typer.Option(help="An e-İrsaliye alias.")] = False,
    wait: _WAIT = 30.0,
    as_json: _JSON = False,
) -> None:
    """Open one more alias for an enrolled tenant at GİB."""
    _gib_requests(
        tenant,
        lambda rt, tid: [
            rt.enrolment.add_alias(tid, kind=kind, alias=alias, despatch=despatch, actor="cli")
        ],
        wait=wait,
        as_json=as_json,
    )


@gib_app.command("alias-close")
@_platform_errors
def gib_alias_close(  # noqa: PLR0917 - one parameter per option
    tenant: _TENANT,
    alias: Annotated[str, typer.Argument(metavar="ALIAS", help="urn:mail:…@…")],
    kind: Annotated[str, typer.Option(metavar="PK|GB", help="PK or GB.")] = "PK",
    despatch: Annotated[bool, typer.Option(help="An e-İrsaliye alias.")] = False,
    wait: _WAIT = 30.0,
    as_json: _JSON = False,
) -> None:
    """Close one alias of the tenant at GİB (CancelUserAccount for it alone)."""
    _gib_requests(
        tenant,
        lambda rt, tid: [
            rt.enrolment.close_alias(tid, kind=kind, alias=alias, despatch=despatch, actor="cli")
        ],
        wait=wait,
        as_json=as_json,
    )


@gib_app.command("status")
@_platform_errors
def gib_status(tenant: _TENANT, as_json: _JSON = False) -> None:
    """The tenant's aliases (pending, active, closing, closed) and its requests at GİB."""
    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, as_json)
    try:
        aliases = rt.enrolment.aliases(tenant_id)
        requests = rt.enrolment.requests(tenant_id)
    finally:
        rt.close()
    if as_json:
        payload = {
            "aliases": [a.to_dict() for a in aliases],
            "requests": [r.to_dict() for r in requests],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    for a in aliases:
        typer.echo(f"{a.kind} {a.document} {a.alias}: {a.state}")
    for r in requests:
        code = f" GİB {r.gib_code}" if r.gib_code else ""
        typer.echo(f"{r.created_at:%Y-%m-%d %H:%M} {r.action} {r.service}: {r.status}{code}")
