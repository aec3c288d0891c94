"""``/api/v1/imports`` over real HTTP: upload, the worker's job, progress; roles; hostile files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from entegrator.runtime import Runtime
from tests.testing.imports import invoice_rows, row, write_csv, write_xlsx
from tests.testing.platform import TenantHandle

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _post(client: httpx.Client, data: bytes, **params: str) -> httpx.Response:
    return client.post(
        "/api/v1/imports",
        content=data,
        params=params,
        headers={"Content-Type": "application/octet-stream"},
    )


def test_upload_is_queued_then_issued_by_the_worker(
    tenant: TenantHandle, run_jobs: Callable[[], None], tmp_path: Path
) -> None:
    rows = [*invoice_rows("API", 5, lines=2), row("API-BAD", unit_price="çok")]
    path = write_xlsx(tmp_path / "f.xlsx", rows)
    with tenant.client() as client:
        answer = _post(client, path.read_bytes(), file_name="f.xlsx")
        assert answer.status_code == 202, answer.text
        created = answer.json()
        assert created["status"] == "queued" and created["format"] == "xlsx"
        assert answer.headers["Location"] == f"/api/v1/imports/{created['id']}"
        run_jobs()
        done = client.get(answer.headers["Location"]).json()
        assert done["status"] == "done"
        assert done["counts"] | {"problems": 0} == {
            "rows": 11,
            "documents": 6,
            "processed": 6,
            "issued": 5,
            "already_issued": 0,
            "refused": 1,
            "problems": 0,
        }
        [problem] = done["problems"]
        assert (problem["row"], problem["column"], problem["document_key"]) == (
            12,
            "unit_price",
            "API-BAD",
        )
        assert {d["document_key"] for d in done["documents"]} == {f"API-{i}" for i in range(5)}
        for d in done["documents"]:
            invoice = client.get(f"/api/v1/invoices/{d['id']}")
            assert invoice.status_code == 200 and invoice.json()["number"] == d["number"]
        listed = client.get("/api/v1/imports").json()["items"]
        assert listed[0]["id"] == created["id"] and listed[0]["problems"] is None


def test_multipart_upload_of_a_csv(
    tenant: TenantHandle, run_jobs: Callable[[], None], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "f.csv", invoice_rows("MP", 3), encoding="utf-8-sig")
    with tenant.client() as client:
        answer = client.post(
            "/api/v1/imports",
            params={"policy": "all-or-nothing"},
            files={"file": ("faturalar.csv", path.read_bytes(), "text/csv")},
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["file_name"] == "faturalar.csv"
        assert answer.json()["policy"] == "all-or-nothing"
        run_jobs()
        done = client.get(f"/api/v1/imports/{answer.json()['id']}").json()
        assert (done["status"], done["counts"]["issued"]) == ("done", 3)


def test_a_viewer_cannot_import_but_can_read(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    data = write_csv(tmp_path / "f.csv", [row("R-1")]).read_bytes()
    viewer = {"Authorization": f"Bearer {tenant.key(runtime, 'viewer')}"}
    with httpx.Client(base_url=tenant.base_url, headers=viewer) as client:
        refused = _post(client, data)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        assert client.get("/api/v1/imports").status_code == 200
    with httpx.Client(base_url=tenant.base_url) as anonymous:
        assert _post(anonymous, data).status_code == 401
        assert anonymous.get("/api/v1/imports").status_code == 401
    with runtime.db.tenant(tenant.tenant_id) as conn:
        from entegrator.store import imports

        assert imports.list_imports(conn, tenant.tenant_id, limit=10) == []


def test_another_tenants_import_is_not_found(
    make_tenant: Callable[..., TenantHandle], tmp_path: Path
) -> None:
    one, other = make_tenant(), make_tenant()
    data = write_csv(tmp_path / "f.csv", [row("O-1")]).read_bytes()
    with one.client() as client:
        made = _post(client, data).json()
    with other.client() as client:
        assert client.get(f"/api/v1/imports/{made['id']}").status_code == 404
        assert client.get("/api/v1/imports").json()["items"] == []


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "params", "status", "code"),
    [
        (b"", {}, 422, "EMPTY_BODY"),
        (b"%PDF-1.7 ...", {}, 415, "IMPORT_UNKNOWN_FORMAT"),
        (_zip({"../../etc/passwd.json": b"{}"}), {}, 422, "IMPORT_UNSAFE_ARCHIVE"),
        (_zip({"/abs.xml": b"<a/>"}), {}, 422, "IMPORT_UNSAFE_ARCHIVE"),
        (_zip({"bomb.json": b"\0" * (40 * 1024 * 1024)}), {}, 422, "IMPORT_UNSAFE_ARCHIVE"),
        (b"PK\x03\x04 broken", {}, 422, "IMPORT_UNREADABLE"),
        (b"document_key\nx\n", {"policy": "some"}, 422, "INVALID_REQUEST"),
    ],
    ids=["empty", "pdf", "dotdot", "absolute", "bomb", "broken-zip", "policy"],
)
def test_hostile_uploads_are_refused_with_a_clear_4xx(
    tenant: TenantHandle, body: bytes, params: dict[str, str], status: int, code: str
) -> None:
    with tenant.client() as client:
        answer = _post(client, body, **params)
        assert answer.status_code == status, answer.text
        error: dict[str, Any] = answer.json()["error"]
        assert error["code"] == code and error["message_tr"] and error["message_en"]
        assert client.get("/api/v1/imports").json()["items"] == []


@pytest.mark.parametrize("import_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_import_is_404(tenant: TenantHandle, import_id: str) -> None:
    with tenant.client() as client:
        answer = client.get(f"/api/v1/imports/{import_id}")
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "IMPORT_NOT_FOUND"


def test_the_upload_has_a_limit_of_its_own(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    from tests.testing.platform import make_settings, serve

    data = write_csv(tmp_path / "f.csv", invoice_rows("LIM", 60)).read_bytes()
    assert 8_000 < len(data) < 30_000
    settings = make_settings(
        runtime.database_url, tmp_path / "data", max_body_bytes=4096, import_max_bytes=40_000
    )
    small = Runtime.from_settings(settings)
    try:
        with serve(small) as url, httpx.Client(base_url=url, headers=tenant.headers) as client:
            # Larger than any other request may be, within the import's own limit.
            assert _post(client, data).status_code == 202
            too_big = _post(client, data + b"x" * 40_000)
            assert too_big.status_code == 413
            assert too_big.json()["error"]["code"] == "BODY_TOO_LARGE"
            issued = client.post("/api/v1/invoices", content=data)
            assert issued.status_code == 413  # the general limit still holds elsewhere
    finally:
        small.close()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--x\r\nContent-Disposition: form-data; name=other\r\n\r\nv\r\n--x--\r\n", "x"),
        (b"no boundary here at all", "x"),
        (b"--x\r\nbroken", "x"),
    ],
    ids=["no-file-part", "garbage", "truncated"],
)
def test_a_bad_multipart_body_is_422(tenant: TenantHandle, body: bytes, content_type: str) -> None:
    with tenant.client() as client:
        answer = client.post(
            "/api/v1/imports",
            content=body,
            headers={"Content-Type": f"multipart/form-data; boundary={content_type}"},
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "INVALID_REQUEST"
