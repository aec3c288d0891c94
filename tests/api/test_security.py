"""Tenant isolation, authentication, roles and hostile input, through the API and the store."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from entegrator.runtime import Runtime
from entegrator.store import repo
from entegrator.store.ids import uuid7
from tests.testing.platform import TenantHandle


def _count(runtime: Runtime, tenant: TenantHandle, table: str = "documents") -> int:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture
def two(make_tenant: Callable[..., TenantHandle]) -> tuple[TenantHandle, TenantHandle]:
    return make_tenant(), make_tenant()


def test_a_tenant_cannot_reach_another_tenants_documents(
    two: tuple[TenantHandle, TenantHandle], run_jobs: Callable[[], None]
) -> None:
    a, b = two
    with a.client() as ca, b.client() as cb:
        doc = a.issue(ca)
        run_jobs()
        assert ca.get(f"/api/v1/invoices/{doc['id']}").status_code == 200
        for suffix in ("", "/xml", "/html", "/pdf"):
            r = cb.get(f"/api/v1/invoices/{doc['id']}{suffix}")
            assert r.status_code == 404, (suffix, r.text)
            assert doc["number"] not in r.text
        listed = cb.get("/api/v1/invoices", params={"number": doc["number"]}).json()
        assert listed["items"] == []
        assert cb.get("/api/v1/invoices").json()["items"] == []
        # Crafted ids: another id at the same millisecond, a random v4, garbage, SQL.
        same_ms = uuid.UUID(int=(uuid.UUID(doc["id"]).int & ~((1 << 62) - 1)) | 12345)
        for crafted in (
            str(same_ms),
            str(uuid.uuid4()),
            str(uuid7()),
            "not-a-uuid",
            "1' OR '1'='1",
            "00000000-0000-7000-8000-000000000000",
        ):
            for client in (ca, cb):
                r = client.get(f"/api/v1/invoices/{crafted}")
                assert r.status_code == 404, crafted
        # The search cursor names a position, not a tenant: B's search with A's cursor is B's.
        page = ca.get("/api/v1/invoices", params={"limit": 1}).json()
        assert page["items"]
        cursor_a = page["next_cursor"] or ""
        if cursor_a:
            assert cb.get("/api/v1/invoices", params={"cursor": cursor_a}).json()["items"] == []


def test_row_level_security_blocks_a_query_that_forgets_the_filter(
    two: tuple[TenantHandle, TenantHandle], runtime: Runtime
) -> None:
    a, b = two
    with a.client() as ca, b.client() as cb:
        a.issue(ca)
        b.issue(cb)
        b.issue(cb)
    tables = ("documents", "events", "blobs", "audit_log", "parties", "api_keys", "seals")
    with runtime.db.tenant(a.tenant_id) as conn:
        # No tenant_id in these queries: the policy still limits them to A.
        owners = {
            t: set(conn.execute(text(f"SELECT DISTINCT tenant_id FROM {t}")).scalars())
            for t in tables
        }
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar_one() == 1
        assert set(conn.execute(text("SELECT tenant_id FROM tenants")).scalars()) == {a.tenant_id}
    for table, seen in owners.items():
        assert seen == {a.tenant_id}, table
    # A transaction that names no tenant sees no tenant's rows.
    with runtime.db.unscoped() as conn:
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM tenants")).scalar_one() == 0
    # Writing a row for another tenant is refused.
    with (
        pytest.raises(ProgrammingError, match="row-level security"),
        runtime.db.tenant(a.tenant_id) as conn,
    ):
        repo.append_audit(conn, b.tenant_id, actor="x", action="forged")
    # Partitions cannot be read around the parent's policy.
    with runtime.db.system() as conn:
        partition = conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'documents'::regclass ORDER BY 1 LIMIT 1"
            )
        ).scalar_one()
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        runtime.db.tenant(a.tenant_id) as conn,
    ):
        conn.execute(text(f"SELECT count(*) FROM {partition}"))


def test_the_log_tables_are_append_only_even_for_the_owner(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    with tenant.client() as c:
        tenant.issue(c)
    statements = (
        "UPDATE events SET type = 'x'",
        "DELETE FROM events",
        "UPDATE blobs SET data = 'x'",
        "DELETE FROM blobs",
        "DELETE FROM audit_log",
        "TRUNCATE events",
    )
    for sql in statements:
        with (
            pytest.raises(DBAPIError, match=r"append-only|permission denied"),
            runtime.db.tenant(tenant.tenant_id) as conn,
        ):
            conn.execute(text(sql))
        with pytest.raises(DBAPIError, match="append-only"), runtime.db.system() as conn:
            conn.execute(
                text(
                    sql + f" WHERE tenant_id = '{tenant.tenant_id}'"
                    if not sql.startswith("TRUNCATE")
                    else sql
                )
            )
    assert _count(runtime, tenant, "events") == 3


def test_authentication_and_roles(tenant: TenantHandle, runtime: Runtime, base_url: str) -> None:
    with httpx.Client(base_url=base_url) as c:
        assert c.get("/api/v1/invoices").status_code == 401
        for header in (
            "Bearer nonsense",
            "Basic dXNlcjpwYXNz",
            f"Bearer {tenant.token[:-1]}x",
            f"Bearer {tenant.token.replace('ent_', 'xyz_')}",
        ):
            r = c.get("/api/v1/invoices", headers={"Authorization": header})
            assert r.status_code == 401, header
            assert r.json()["error"]["code"] in ("UNAUTHENTICATED", "INVALID_API_KEY")
        viewer = tenant.key(runtime, "viewer")
        auth = {"Authorization": f"Bearer {viewer}"}
        assert c.get("/api/v1/invoices", headers=auth).status_code == 200
        r = c.post("/api/v1/invoices", json=tenant.draft(), headers=auth)
        assert r.status_code == 403
        accountant = tenant.key(runtime, "accountant")
        r = c.post(
            "/api/v1/invoices",
            json=tenant.draft(),
            headers={"Authorization": f"Bearer {accountant}"},
        )
        assert r.status_code == 201
        # A revoked key stops working within the key cache's second (ENTEGRATOR_API_KEY_CACHE_
        # SECONDS), and for good.
        prefix = viewer.split("_")[1]
        with runtime.db.system() as conn:
            assert repo.revoke_api_key(conn, tenant.tenant_id, prefix)
        ttl = runtime.settings.api_key_cache_seconds
        time.sleep(ttl + 0.1)
        assert c.get("/api/v1/invoices", headers=auth).status_code == 401
    with runtime.db.tenant(tenant.tenant_id) as conn:
        hashes = conn.execute(text("SELECT prefix, secret_hash FROM api_keys")).all()
    for prefix, digest in hashes:
        assert len(bytes(digest)) == 32
        assert prefix not in tenant.token or bytes(digest).hex() not in tenant.token


def test_an_invoice_in_another_suppliers_name_is_refused(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    draft = tenant.draft()
    draft["supplier"]["vkn"] = "3221555337"
    with tenant.client() as c:
        r = c.post("/api/v1/invoices", json=draft)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "INVALID_REQUEST"
    assert r.json()["error"]["where"] == "AccountingSupplierParty"
    assert _count(runtime, tenant) == 0


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol3;</Invoice>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&secret;</Invoice>"""


def test_bad_input_gets_a_clear_4xx_and_nothing_is_stored(
    tenant: TenantHandle, runtime: Runtime, settings: object
) -> None:
    limit = runtime.settings.max_body_bytes
    cases: list[tuple[bytes, str, int, str]] = [
        (BILLION_LAUGHS, "application/xml", 422, "VALIDATION_FAILED"),
        (XXE, "application/xml", 422, "VALIDATION_FAILED"),
        (b"<Invoice", "application/xml", 422, "VALIDATION_FAILED"),
        (b"<Other/>", "application/xml", 422, "VALIDATION_FAILED"),
        (b"\xff\xfe\x00garbage", "application/xml", 422, "VALIDATION_FAILED"),
        (b"{not json", "application/json", 422, "VALIDATION_FAILED"),
        (
            b'{"profile": "TEMELFATURA", "surprise": 1}',
            "application/json",
            422,
            "VALIDATION_FAILED",
        ),
        (b"%PDF-1.4", "application/pdf", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b"", "application/json", 422, "EMPTY_BODY"),
        (b"<" + b"a" * (limit + 10), "application/xml", 413, "BODY_TOO_LARGE"),
    ]
    with tenant.client() as c:
        for body, content_type, status, code in cases:
            r = c.post("/api/v1/invoices", content=body, headers={"Content-Type": content_type})
            assert r.status_code == status, (body[:40], r.text[:300])
            error = r.json()["error"]
            assert error["code"] == code
            assert error["message_tr"] and error["message_en"]
        xxe = c.post("/api/v1/invoices", content=XXE, headers={"Content-Type": "text/xml"})
        assert "root:" not in xxe.text
        assert xxe.json()["findings"][0]["code"] == "xml-unsafe"
        unknown = c.post(
            "/api/v1/invoices",
            content=b'{"surprise": 1}',
            headers={"Content-Type": "application/json"},
        )
        assert any(f["xpath"] == "surprise" for f in unknown.json()["findings"])

        # A body streamed without Content-Length is cut off at the limit too.
        def chunks() -> Iterator[bytes]:
            for _ in range(limit // 65536 + 2):
                yield b"x" * 65536

        streamed = c.post(
            "/api/v1/invoices", content=chunks(), headers={"Content-Type": "application/xml"}
        )
        assert streamed.status_code == 413
        # Everything accepted before still works.
        ok = c.post("/api/v1/invoices", json=tenant.draft())
        assert ok.status_code == 201
    assert _count(runtime, tenant) == 1
    assert _count(runtime, tenant, "blobs") == 1


def test_a_revoked_key_is_refused_at_once_without_the_key_cache(
    tenant: TenantHandle, runtime: Runtime, tmp_path: Path
) -> None:
    from tests.testing.platform import make_settings, serve

    strict = Runtime.from_settings(
        make_settings(runtime.database_url, tmp_path, api_key_cache_seconds=0)
    )
    token = tenant.key(runtime, "viewer")
    try:
        with serve(strict) as url, httpx.Client(base_url=url) as c:
            auth = {"Authorization": f"Bearer {token}"}
            assert c.get("/api/v1/invoices", headers=auth).status_code == 200
            with runtime.db.system() as conn:
                assert repo.revoke_api_key(conn, tenant.tenant_id, token.split("_")[1])
            assert c.get("/api/v1/invoices", headers=auth).status_code == 401
    finally:
        strict.close()
