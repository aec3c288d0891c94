"""GİB's own user list, fetched over HTTP into the platform's cache: every user GİB lists is a
registered user there by its active aliases (the cache the e-Fatura/e-Arşiv routing asks)."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import text

from entegrator.runtime import Runtime
from entegrator.store import gib_users
from tests.testing.platform import make_settings


def _zipped(name: str, xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, xml)
    return out.getvalue()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def published(gib_packages: Path, tmp_path: Path) -> Iterator[str]:
    """GİB's excerpt published as GİB publishes its lists (PK and an empty GB), over HTTP."""
    root = tmp_path / "gib"
    folder = root / "EFaturaMerkez"
    folder.mkdir(parents=True)
    excerpt = (gib_packages / "userlist" / "newUserPkList-excerpt.xml").read_bytes()
    (folder / "newUserPkListxml.zip").write_bytes(_zipped("newUserPkList.xml", excerpt))
    (folder / "newUserGbListxml.zip").write_bytes(
        _zipped("newUserGbList.xml", b"<UserList></UserList>")
    )
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def cache_kept(runtime: Runtime) -> Iterator[None]:
    """The cached list is one table for the whole installation: put it back afterwards."""
    with runtime.db.system() as conn:
        rows = conn.execute(
            text("SELECT identifier, title, mailboxes, sender_units FROM gib_users")
        ).all()
    yield
    with runtime.db.system() as conn:
        gib_users.replace_users(conn, [gib_users.GibUser(*r) for r in rows])


def _active_invoice_mailboxes(excerpt: Any, at: dt.datetime) -> dict[str, list[str]]:
    """Per identifier, its Invoice aliases without a DeletionTime before ``at``, read with lxml."""
    moment = at.astimezone(dt.timezone(dt.timedelta(hours=3))).replace(tzinfo=None).isoformat()
    out: dict[str, list[str]] = {}
    for user in excerpt.xpath("/UserList/User"):
        out[user.findtext("Identifier")] = [
            alias.findtext("Name")
            for alias in user.xpath("Documents/Document[@type='Invoice']/Alias")
            if alias.findtext("CreationTime") <= moment
            and (alias.findtext("DeletionTime") is None or alias.findtext("DeletionTime") > moment)
        ]
    return out


@pytest.mark.usefixtures("cache_kept")
def test_every_user_gib_lists_is_cached_and_routed_by_its_active_aliases(
    runtime: Runtime,
    published: str,
    gib_packages: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    excerpt = etree.parse(str(gib_packages / "userlist" / "newUserPkList-excerpt.xml"))
    fetching = Runtime.from_settings(
        make_settings(
            runtime.database_url,
            tmp_path / "data",
            gib_url=f"{published}/EFaturaMerkez/services/EFatura",
            gib_user_list_url=f"{published}/EFaturaMerkez",
        )
    )
    caplog.set_level("WARNING", logger="entegrator.services.sending")
    try:
        assert fetching.sending.refresh_user_list() == 14
    finally:
        fetching.close()
    # The two bare ``defaultpk`` aliases are kept, and the operator is told about them.
    logged = [r.getMessage() for r in caplog.records]
    assert sum("defaultpk" in m for m in logged) == 2, logged
    assert any("2 entries of an unusual form" in m for m in logged), logged
    expected = _active_invoice_mailboxes(excerpt, dt.datetime.now(dt.UTC))
    assert len(expected) == 14
    with runtime.db.system() as conn:
        for identifier, mailboxes in expected.items():
            assert gib_users.is_registered(conn, identifier) == bool(mailboxes), identifier
            assert gib_users.first_mailbox(conn, identifier) == (
                mailboxes[0] if mailboxes else None
            )
        # Muhasebat Genel Müdürlüğü: a public body listed only with the bare alias. It is an
        # e-Fatura user; reading it as unlisted would route its invoices to e-Arşiv.
        assert gib_users.is_registered(conn, "6110368859") is True
        assert gib_users.first_mailbox(conn, "6110368859") == "defaultpk"
        # GİB's e-İrsaliye catch-all has no Invoice alias: not an e-Fatura user.
        assert gib_users.is_registered(conn, "3900892152") is False
