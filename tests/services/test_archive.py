"""Archive transfer: an export of one installation filed at another (its own database) for the
same tax payer, as it was; a second import files nothing twice; a tampered or hostile zip is
refused whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from entegrator.lifecycle import DocumentStatus, transition
from entegrator.runtime import Runtime
from entegrator.services.archive import (
    IMPORT_EVENT,
    ArchiveRefusedError,
    ArchiveTenantError,
)
from entegrator.services.imports.problems import UnsafeArchiveError
from entegrator.store import repo
from entegrator.store.blobs import get_blob
from entegrator.store.db import libpq_url
from entegrator.store.documents import get_document
from entegrator.store.events import list_events, verify_chain
from entegrator.store.ids import created_at
from entegrator.store.numbering import last_number
from tests.testing.platform import TenantHandle, drain, make_settings, new_vkn

NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture(scope="module")
def other(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A second installation: its own database on the same server."""
    name = f"{make_url(database_url).database}_archive_{secrets.token_hex(2)}"
    admin = libpq_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    rt = Runtime.from_settings(make_settings(url, tmp_path_factory.mktemp("other")))
    rt.db.upgrade()
    yield rt
    rt.close()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _deliver(runtime: Runtime, tenant_id: uuid.UUID, ids: list[str]) -> None:
    """Queued invoices taken by GİB and delivered (as the sender records GİB's answers)."""
    now = dt.datetime.now(dt.UTC)
    with runtime.db.tenant(tenant_id) as conn:
        for doc in ids:
            d = uuid.UUID(doc)
            state = get_document(conn, tenant_id, d, created_at(d))
            assert state is not None and state.status == "queued"
            for target in (DocumentStatus.SENT, DocumentStatus.DELIVERED):
                transition(
                    conn,
                    tenant_id,
                    d,
                    target,
                    happened=[(target.value, target.value, {"code": 1000})],
                    actor="gib",
                    now=now,
                )


@pytest.fixture(scope="module")
def exported(
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[TenantHandle, list[str], Path, str]:
    """Four invoices at the old installation: three delivered (one then accepted), one still
    queued there; their export."""
    tenant = make_tenant()
    with tenant.client() as c:
        ids = [tenant.issue(c)["id"] for _ in range(4)]
    drain(runtime)
    now = dt.datetime.now(dt.UTC)
    _deliver(runtime, tenant.tenant_id, ids[:3])
    with runtime.db.tenant(tenant.tenant_id) as conn:
        transition(
            conn,
            tenant.tenant_id,
            uuid.UUID(ids[0]),
            DocumentStatus.ACCEPTED,
            happened=[("answered", "accepted", {"answer": "KABUL"})],
            actor="gib",
            now=now,
        )
    out = tmp_path_factory.mktemp("export") / "export.zip"
    summary = runtime.exports.export(tenant.tenant_id, *NOV, out)
    assert summary.documents == 4
    return tenant, ids, out, summary.manifest_sha256


def _rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> None:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info)))


def _count(rt: Runtime, tenant_id: uuid.UUID) -> int:
    from sqlalchemy import text

    with rt.db.system() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM documents WHERE tenant_id = :t"), {"t": tenant_id}
            ).scalar_one()
        )


def test_an_archive_is_filed_as_it_was_and_only_once(
    exported: tuple[TenantHandle, list[str], Path, str],
    runtime: Runtime,
    other: Runtime,
) -> None:
    tenant, ids, out, digest = exported
    with other.db.system() as conn:
        target = repo.create_tenant(conn, vkn=tenant.vkn, name="Taşınan Şirket")

    summary = other.archive.import_archive(
        target, out, manifest_sha256=digest, source="integrator two", actor="test"
    )
    assert summary.documents == 4 and summary.imported == 3
    assert [(s.document_id, s.reason) for s in summary.skipped] == [(ids[3], "in-flight")]

    numbers: list[str] = []
    for doc in ids[:3]:
        d = uuid.UUID(doc)
        with runtime.db.tenant(tenant.tenant_id) as conn:
            old = get_document(conn, tenant.tenant_id, d, created_at(d))
            assert old is not None and old.signed_sha256 is not None
            old_xml = get_blob(conn, tenant.tenant_id, old.signed_sha256)
            old_events = list_events(conn, tenant.tenant_id, d)
        with other.db.tenant(target) as conn:
            new = get_document(conn, target, d, created_at(d))
            assert new is not None and new.signed_sha256 is not None
            assert get_blob(conn, target, new.signed_sha256) == old_xml  # byte for byte
            new_events = list_events(conn, target, d)
        assert new.number is not None
        numbers.append(new.number)
        for name in ("direction", "kind", "profile", "number", "ettn", "status", "sender_id"):
            assert getattr(new, name) == getattr(old, name), name
        for name in ("receiver_id", "receiver_name", "payable", "tax_total", "issue_date"):
            assert getattr(new, name) == getattr(old, name), name
        # The original chain, unchanged, then the import's event after it: all of it verifies.
        assert [e.hash for e in new_events[:-1]] == [e.hash for e in old_events]
        assert verify_chain(new_events, d, new.head_hash) == []
        last = new_events[-1]
        assert last.type == IMPORT_EVENT and last.status == old.status
        assert last.data["source"] == "integrator two"
        assert last.data["manifest_sha256"] == digest
        assert last.data["original_head_hash"] == old.head_hash.hex()
    assert summary.series  # the series counter moved
    prefix, year = numbers[0][:3], int(numbers[0][3:7])
    with other.db.tenant(target) as conn:
        assert last_number(conn, target, prefix, year) >= max(int(n[7:]) for n in numbers)

    # Twice: nothing filed twice, each reported as already here.
    again = other.archive.import_archive(target, out, actor="test")
    assert again.imported == 0
    assert sorted(s.reason for s in again.skipped) == ["exists", "exists", "exists", "in-flight"]
    assert _count(other, target) == 3

    # The same export is not another tenant's archive.
    with other.db.system() as conn:
        stranger = repo.create_tenant(conn, vkn=new_vkn(), name="Başka")
    with pytest.raises(ArchiveTenantError):
        other.archive.import_archive(stranger, out)


def test_a_tampered_or_hostile_archive_is_refused_whole(
    exported: tuple[TenantHandle, list[str], Path, str], other: Runtime, tmp_path: Path
) -> None:
    _, ids, out, digest = exported
    with other.db.system() as conn:
        target = repo.create_tenant(conn, vkn=new_vkn(), name="Hedef")
    xml_path = f"documents/{ids[1]}/document.xml"

    def flip(name: str, data: bytes) -> bytes:
        return data.replace(b"</Invoice>", b"<!-- -->\n</Invoice>") if name == xml_path else data

    _rewrite(out, tmp_path / "tampered.zip", flip)
    with pytest.raises(ArchiveRefusedError) as refused:
        other.archive.import_archive(target, tmp_path / "tampered.zip")
    assert xml_path in refused.value.text_en and refused.value.text_tr
    assert _count(other, target) == 0

    # The manifest rewritten to match: the digest given outside the zip still catches it.
    with zipfile.ZipFile(out) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files[xml_path] = flip(xml_path, files[xml_path])
    lines = []
    for line in files["manifest.jsonl"].splitlines():
        item = json.loads(line)
        if item.get("path") == xml_path:
            item["sha256"] = hashlib.sha256(files[xml_path]).hexdigest()
            item["size"] = len(files[xml_path])
        lines.append(json.dumps(item).encode())
    files["manifest.jsonl"] = b"\n".join(lines) + b"\n"
    with zipfile.ZipFile(tmp_path / "rewritten.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with pytest.raises(ArchiveRefusedError):
        other.archive.import_archive(target, tmp_path / "rewritten.zip", manifest_sha256=digest)

    # A path that leaves the archive.
    _rewrite(out, tmp_path / "escape.zip", lambda n, d: d)
    with zipfile.ZipFile(tmp_path / "escape.zip", "a") as zf:
        zf.writestr("documents/../../etc/evil", b"x")
    with pytest.raises(UnsafeArchiveError):
        other.archive.import_archive(target, tmp_path / "escape.zip")
    assert _count(other, target) == 0


def test_a_document_line_pointing_at_another_documents_xml_is_not_filed(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime, other: Runtime, tmp_path: Path
) -> None:
    """The export's own check compares a document line with the file it names, not with the
    document's folder: the import files a document only from its own folder."""
    tenant = make_tenant()
    with tenant.client() as c:
        ids = [tenant.issue(c)["id"] for _ in range(2)]
    drain(runtime)
    _deliver(runtime, tenant.tenant_id, ids)
    out = tmp_path / "export.zip"
    runtime.exports.export(tenant.tenant_id, *NOV, out)
    with zipfile.ZipFile(out) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    lines = []
    for line in files["manifest.jsonl"].splitlines():
        item = json.loads(line)
        if item.get("type") == "document" and item["id"] == ids[0]:
            item["xml"] = f"documents/{ids[1]}/document.xml"
            item["xml_sha256"] = hashlib.sha256(files[item["xml"]]).hexdigest()
        lines.append(json.dumps(item).encode())
    files["manifest.jsonl"] = b"\n".join(lines) + b"\n"
    with zipfile.ZipFile(tmp_path / "pointed.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with other.db.system() as conn:
        target = repo.create_tenant(conn, vkn=tenant.vkn, name="Hedef")
    summary = other.archive.import_archive(target, tmp_path / "pointed.zip")
    assert summary.imported == 1
    assert [(s.document_id, s.reason) for s in summary.skipped] == [(ids[0], "mismatch")]
