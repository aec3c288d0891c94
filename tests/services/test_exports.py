"""Exports: every document's XML, events with their hash chain and a manifest of digests in one
zip; the offline check finds a changed byte, a forged chain, a rewritten manifest."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from entegrator.config import Settings
from entegrator.runtime import Runtime
from entegrator.services.exports import MANIFEST, InvalidExportError, verify_export
from tests.testing.platform import TenantHandle

NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture(scope="module")
def issued(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime
) -> tuple[TenantHandle, list[str]]:
    from tests.testing.platform import drain

    tenant = make_tenant()
    with tenant.client() as c:
        ids = [tenant.issue(c)["id"] for _ in range(3)]
    drain(runtime)  # signed: the export carries the signed XML
    return tenant, ids


def _rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> None:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info)))


def test_an_export_holds_every_document_and_verifies(
    issued: tuple[TenantHandle, list[str]], runtime: Runtime, tmp_path: Path
) -> None:
    tenant, ids = issued
    out = tmp_path / "export.zip"
    summary = runtime.exports.export(tenant.tenant_id, *NOV, out, batch=2)  # two batches
    assert summary.documents == 3 and summary.files == 6
    assert verify_export(out, summary.manifest_sha256) == []
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert {f"documents/{i}/document.xml" for i in ids} <= names
        manifest = [json.loads(line) for line in zf.read(MANIFEST).splitlines()]
        assert hashlib.sha256(zf.read(MANIFEST)).hexdigest() == summary.manifest_sha256
        docs = {d["id"]: d for d in manifest if d["type"] == "document"}
        with tenant.client() as c:
            for i in ids:
                xml = c.get(f"/api/v1/invoices/{i}/xml").content
                assert zf.read(f"documents/{i}/document.xml") == xml
                assert docs[i]["xml_sha256"] == hashlib.sha256(xml).hexdigest()
                events = json.loads(zf.read(f"documents/{i}/events.json"))["events"]
                api = c.get(f"/api/v1/invoices/{i}").json()["events"]
                assert [e["hash"] for e in events] == [e["hash"] for e in api]
    assert manifest[0]["tenant"] == tenant.vkn
    empty = runtime.exports.export(
        tenant.tenant_id, dt.date(2020, 1, 1), dt.date(2020, 1, 31), tmp_path / "e.zip"
    )
    assert empty.documents == 0 and verify_export(tmp_path / "e.zip") == []


def test_verify_detects_a_changed_byte_a_forged_chain_and_a_rewritten_manifest(
    issued: tuple[TenantHandle, list[str]], runtime: Runtime, tmp_path: Path
) -> None:
    tenant, ids = issued
    out = tmp_path / "export.zip"
    summary = runtime.exports.export(tenant.tenant_id, *NOV, out)
    target = f"documents/{ids[1]}/document.xml"

    def flip(name: str, data: bytes) -> bytes:
        if name != target:
            return data
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]

    _rewrite(out, tmp_path / "flipped.zip", flip)
    problems = verify_export(tmp_path / "flipped.zip")
    assert problems == [f"{target}: its content differs from the manifest"]

    # A forger who also rewrites the manifest's file digests: the database's digest of the
    # XML and the event chain still disagree, and so does the manifest's own digest.
    events_path = f"documents/{ids[0]}/events.json"

    def forge(name: str, data: bytes) -> bytes:
        if name == events_path:
            body = json.loads(data)
            body["events"][0]["actor"] = "someone-else"
            return json.dumps(body).encode()
        return data

    _rewrite(out, tmp_path / "forged.zip", forge)
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    lines = []
    for line in files[MANIFEST].splitlines():
        item = json.loads(line)
        if item.get("path") == events_path:
            item["sha256"] = hashlib.sha256(files[events_path]).hexdigest()
            item["size"] = len(files[events_path])
        lines.append(json.dumps(item).encode())
    files[MANIFEST] = b"\n".join(lines) + b"\n"
    with zipfile.ZipFile(forged, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    problems = verify_export(forged)
    assert problems == [f"document {ids[0]}: event 1: content does not match its hash"]
    assert f"{MANIFEST}: its SHA-256 is not the one given" in verify_export(
        forged, summary.manifest_sha256
    )

    # A file slipped in, one taken out.
    _rewrite(out, tmp_path / "extra.zip", lambda n, d: d)
    with zipfile.ZipFile(tmp_path / "extra.zip", "a") as zf:
        zf.writestr("documents/extra.txt", b"x")
    assert verify_export(tmp_path / "extra.zip") == ["documents/extra.txt: not in the manifest"]


@pytest.mark.parametrize(
    "entries",
    [
        {"../evil.txt": b"x", MANIFEST: b'{"format":"entegrator-export","version":1}\n'},
        {MANIFEST: b"not json\n"},
        {MANIFEST: b'{"format":"something-else"}\n'},
        {MANIFEST: b'{"format":"entegrator-export","version":1}\n{"type":"document","id":1}\n'},
        {MANIFEST: b"x" * 2_000_000},
        {"a.txt": b"no manifest"},
    ],
)
def test_hostile_archives_are_reported_not_crashed(
    entries: dict[str, bytes], tmp_path: Path
) -> None:
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    with contextlib.suppress(InvalidExportError):
        assert verify_export(path) != []


def test_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InvalidExportError):
        verify_export(tmp_path / "x.zip")


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTEGRATOR_")}
    env.update(
        ENTEGRATOR_DATABASE_URL=settings.database_url or "",
        ENTEGRATOR_DATA_DIR=str(settings.data_dir),
        ENTEGRATOR_SECRET_KEY=settings.secret_key.get_secret_value() if settings.secret_key else "",
        ENTEGRATOR_CACHE_DIR=os.environ.get("ENTEGRATOR_CACHE_DIR", str(settings.data_dir)),
    )
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entegrator", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_export_commands(
    issued: tuple[TenantHandle, list[str]], settings: Settings, tmp_path: Path
) -> None:
    tenant, _ids = issued
    env = _env(settings)
    out = tmp_path / "cli.zip"
    done = _cli(
        env, "export", "--tenant", tenant.vkn, "--from", "2026-11-01", "--to", "2026-11-30",
        "--out", str(out), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["documents"] == 3 and result["pdf_failures"] == []
    with zipfile.ZipFile(out) as zf:
        pdfs = [n for n in zf.namelist() if n.endswith(".pdf")]
        assert len(pdfs) == 3 and all(zf.read(n).startswith(b"%PDF") for n in pdfs)
    ok = _cli(env, "export", "verify", str(out), "--manifest-sha256", result["manifest_sha256"])
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "broken.zip"
    _rewrite(out, broken, lambda n, d: d + b" " if n.endswith(".pdf") else d)
    bad = _cli(env, "export", "verify", str(broken))
    assert bad.returncode == 1 and "differs from the manifest" in bad.stderr
    years = _cli(
        env, "export", "--tenant", tenant.vkn, "--from", "2020-01-01", "--to", "2026-12-31",
        "--out", str(tmp_path / "years.zip"), "--no-pdf", "--json",
    )  # fmt: skip
    assert years.returncode == 0, years.stderr  # the command takes any range (the API 400 days)
    assert json.loads(years.stdout)["documents"] == 3
    with zipfile.ZipFile(tmp_path / "years.zip") as zf:
        assert not [n for n in zf.namelist() if n.endswith(".pdf")]
    missing = _cli(env, "export", "--tenant", tenant.vkn, "--from", "2026-11-01", "--out", "x.zip")
    assert missing.returncode == 2 and "OPTION_MISSING" in missing.stderr
    wrong = _cli(
        env, "export", "--tenant", tenant.vkn, "--from", "2026-11-31", "--to", "2026-11-30",
        "--out", str(tmp_path / "w.zip"),
    )  # fmt: skip
    assert wrong.returncode == 2 and "INVALID_DATE" in wrong.stderr
    assert _cli(env, "export", "verify", str(tmp_path / "none.zip")).returncode == 2


def test_the_export_endpoint(
    issued: tuple[TenantHandle, list[str]],
    runtime: Runtime,
    make_tenant: Callable[..., TenantHandle],
) -> None:
    tenant, _ids = issued
    with tenant.client() as c:
        r = c.get("/api/v1/exports", params={"from": "2026-11-01", "to": "2026-11-30"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/zip"
        assert r.headers["x-entegrator-documents"] == "3"
        assert verify_export(io.BytesIO(r.content), r.headers["x-entegrator-manifest-sha256"]) == []
        with_pdf = c.get(
            "/api/v1/exports", params={"from": "2026-11-01", "to": "2026-11-30", "pdf": "true"}
        )
        assert with_pdf.status_code == 200
        with zipfile.ZipFile(io.BytesIO(with_pdf.content)) as zf:
            pdfs = [n for n in zf.namelist() if n.endswith(".pdf")]
            assert len(pdfs) == 3 and all(zf.read(n).startswith(b"%PDF") for n in pdfs)
        assert verify_export(io.BytesIO(with_pdf.content)) == []
        for params in (
            {"from": "2026-11-30", "to": "2026-11-01"},
            {"from": "2020-01-01", "to": "2026-11-30"},
            {"from": "yesterday", "to": "2026-11-30"},
            {"to": "2026-11-30"},
        ):
            assert c.get("/api/v1/exports", params=params).status_code == 422, params
    viewer = tenant.key(runtime, "viewer")
    r = httpx.get(
        f"{tenant.base_url}/api/v1/exports",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers={"Authorization": f"Bearer {viewer}"},
    )
    assert r.status_code == 403
    with make_tenant().client() as other:
        r = other.get("/api/v1/exports", params={"from": "2026-11-01", "to": "2026-11-30"})
        assert r.headers["x-entegrator-documents"] == "0"
