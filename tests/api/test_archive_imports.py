"""``POST /api/v1/archive/imports``: owners only; an empty, unreadable or foreign upload is a
422 with its code; a tenant's own export files nothing twice. (The transfer between two
installations is in ``tests/e2e/test_move.py``; the filing itself in
``tests/services/test_archive.py``.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx

from entegrator.runtime import Runtime
from tests.testing.platform import TenantHandle, drain

URL = "/api/v1/archive/imports"
ZIP = {"Content-Type": "application/zip"}


def test_only_an_owner_imports_and_bad_uploads_are_refused(
    tenant: TenantHandle, runtime: Runtime, tmp_path: Path
) -> None:
    with tenant.client() as c:
        ids = [tenant.issue(c)["id"] for _ in range(2)]
    drain(runtime)
    out = tmp_path / "own.zip"
    summary = runtime.exports.export(
        tenant.tenant_id, dt.date(2000, 1, 1), dt.date(2099, 12, 31), out, max_days=None
    )
    assert summary.documents == 2

    writer = tenant.key(runtime, "api")
    r = httpx.post(
        f"{tenant.base_url}{URL}",
        content=out.read_bytes(),
        headers={"Authorization": f"Bearer {writer}"} | ZIP,
    )
    assert r.status_code == 403

    with tenant.client() as c:
        assert c.post(URL, content=b"", headers=ZIP).status_code == 422
        r = c.post(URL, content=b"not a zip at all", headers=ZIP)
        assert r.status_code == 422 and r.json()["error"]["code"] == "IMPORT_UNREADABLE"
        r = c.post(URL, content=out.read_bytes(), params={"manifest_sha256": "0" * 64}, headers=ZIP)
        assert r.status_code == 422 and r.json()["error"]["code"] == "ARCHIVE_IMPORT_REFUSED"
        assert r.json()["error"]["message_tr"] and r.json()["error"]["message_en"]
        r = c.post(
            URL,
            content=out.read_bytes(),
            params={"manifest_sha256": summary.manifest_sha256},
            headers=ZIP,
        )
        assert r.status_code == 200, r.text
        body = r.json()
    # Its own documents are here already (or still in flight): nothing filed twice.
    assert body["documents"] == 2 and body["imported"] == 0
    assert {s["id"] for s in body["skipped"]} == set(ids)
    assert body["manifest_sha256"] == summary.manifest_sha256
