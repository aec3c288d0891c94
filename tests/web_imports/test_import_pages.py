"""``/iceri-aktar`` over HTTP, as a browser posts it: upload, the worker's job, the page."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from pathlib import Path

import httpx
from openpyxl import load_workbook

from entegrator.runtime import Runtime
from entegrator.services.imports.template import COLUMNS
from entegrator.store import imports as store
from tests.testing.imports import HEADER, invoice_rows, row, write_csv
from tests.web_forms.conftest import PortalUserHandle, csrf_of, serve_portal

PortalTenant = Callable[..., PortalUserHandle]
IMPORT_PAGE = re.compile(r"^/iceri-aktar/([0-9a-f-]{36})$")


def _upload(
    client: httpx.Client, data: bytes, *, policy: str = "valid-only", token: str | None = None
) -> httpx.Response:
    if token is None:
        token = csrf_of(client.get("/iceri-aktar").text)
    return client.post(
        "/iceri-aktar",
        data={"csrf_token": token, "policy": policy},
        files={"file": ("faturalar.csv", data, "text/csv")},
    )


def _accessible(page: str) -> None:
    """Every field and the progress bar has its label; ids are unique; Turkish first."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(page)
    labelled = {label.get("for") for label in tree.iter("label")}
    for tag in ("input", "select", "textarea", "progress"):
        for field in tree.iter(tag):
            if field.get("type") != "hidden":
                assert field.get("id") in labelled, lxml_html.tostring(field)[:120]
    ids = [e.get("id") for e in tree.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "repeated ids"
    assert tree.get("lang") == "tr"


def _imports(runtime: Runtime, user: PortalUserHandle) -> list[store.ImportRow]:
    tenant = user.tenant.tenant_id
    with runtime.db.tenant(tenant) as conn:
        return store.list_imports(conn, tenant, limit=10)


def test_upload_then_the_page_shows_counts_problems_and_documents(
    portal_tenant: PortalTenant, run_jobs: Callable[[], None], tmp_path: Path
) -> None:
    rows = [*invoice_rows("WEB", 2), row("WEB-BAD", unit_price="çok")]
    data = write_csv(tmp_path / "f.csv", rows, encoding="utf-8-sig").read_bytes()
    with portal_tenant("muhasebe").client() as client:
        form = client.get("/iceri-aktar")
        assert form.status_code == 200
        assert 'for="import-file"' in form.text and 'type="file"' in form.text
        assert "Yalnız geçerli belgeleri düzenle" in form.text
        assert "Hepsi ya da hiçbiri" in form.text
        _accessible(form.text)
        answer = _upload(client, data, token=csrf_of(form.text))
        assert answer.status_code == 303, answer.text
        found = IMPORT_PAGE.match(answer.headers["location"])
        assert found is not None, answer.headers["location"]
        import_id = found.group(1)
        queued = client.get(answer.headers["location"])
        assert queued.status_code == 200
        # while it waits, the status part polls itself
        assert f'hx-get="/iceri-aktar/{import_id}/durum"' in queued.text
        assert "Sırada" in queued.text and "<progress" in queued.text
        _accessible(queued.text)

        run_jobs()

        page = client.get(f"/iceri-aktar/{import_id}")
        text = html.unescape(page.text)
        assert "hx-trigger" not in page.text  # done: no more polling
        assert "Tamamlandı" in text
        _accessible(page.text)
        assert re.search(r'<progress id="import-progress" max="3" value="3"', page.text)
        assert '<dd id="count-issued">2</dd>' in page.text
        assert '<dd id="count-refused">1</dd>' in page.text
        # the broken row: the header is row 1, so WEB-0, WEB-1, WEB-BAD are rows 2, 3, 4
        problem = re.search(r"<tr>\s*<td class=\"num\">4</td>\s*<td>unit_price.*?</tr>", text, re.S)
        assert problem is not None, text
        assert "WEB-BAD" in problem.group(0)
        with_tr = problem.group(0)
        # the issued documents link to their pages
        links = re.findall(r'href="/faturalar/([0-9a-f-]{36})"', page.text)
        assert len(links) == 2
        invoice = client.get(f"/faturalar/{links[0]}")
        assert invoice.status_code == 200
        # the fragment the page polls says the same
        part = client.get(f"/iceri-aktar/{import_id}/durum")
        assert part.status_code == 200 and '<dd id="count-issued">2</dd>' in part.text
        assert "<html" not in part.text
        # the list
        listed = client.get("/iceri-aktar")
        assert f'href="/iceri-aktar/{import_id}"' in listed.text
        # in English, the problem's English message
        client.get("/dil/en")
        english = html.unescape(client.get(f"/iceri-aktar/{import_id}").text)
        assert "Done" in english and "Refused" in english
        problem_en = re.search(r"<td class=\"num\">4</td>.*?</tr>", english, re.S)
        assert problem_en is not None
        assert "okunamadı" in with_tr and "okunamadı" not in problem_en.group(0)
        assert "does not read" in problem_en.group(0)


def test_all_or_nothing_issues_nothing_when_a_row_is_broken(
    runtime: Runtime,
    portal_tenant: PortalTenant,
    run_jobs: Callable[[], None],
    tmp_path: Path,
) -> None:
    rows = [*invoice_rows("AON", 2), row("AON-BAD", unit_price="çok")]
    data = write_csv(tmp_path / "f.csv", rows).read_bytes()
    user = portal_tenant("admin")
    with user.client() as client:
        answer = _upload(client, data, policy="all-or-nothing")
        assert answer.status_code == 303, answer.text
        run_jobs()
        page = client.get(answer.headers["location"])
        assert '<dd id="count-issued">0</dd>' in page.text
        assert "/faturalar/" not in page.text.split('id="import-status"', 1)[1]
    [made] = _imports(runtime, user)
    assert made.policy == "all-or-nothing"


def test_a_viewer_sees_no_form_and_the_server_refuses(
    runtime: Runtime, portal_tenant: PortalTenant, tmp_path: Path
) -> None:
    data = write_csv(tmp_path / "f.csv", [row("V-1")]).read_bytes()
    viewer = portal_tenant("viewer")
    with viewer.client() as client:
        page = client.get("/iceri-aktar")
        assert page.status_code == 200
        assert 'type="file"' not in page.text
        assert "/iceri-aktar/sablon.xlsx" in page.text  # the template is for everyone
        refused = _upload(client, data, token=csrf_of(page.text))
        assert refused.status_code == 403
        assert "FORBIDDEN" in refused.text
    assert _imports(runtime, viewer) == []


def test_an_upload_without_its_csrf_token_is_refused(
    runtime: Runtime, portal_tenant: PortalTenant, tmp_path: Path
) -> None:
    data = write_csv(tmp_path / "f.csv", [row("C-1")]).read_bytes()
    user = portal_tenant("muhasebe")
    with user.client() as client:
        for token in ("", "not-the-token"):
            refused = _upload(client, data, token=token)
            assert refused.status_code == 403
            assert "CSRF_INVALID" in refused.text
    assert _imports(runtime, user) == []


def test_another_tenants_import_is_not_found(
    portal_tenant: PortalTenant, stranger: PortalUserHandle, tmp_path: Path
) -> None:
    data = write_csv(tmp_path / "f.csv", [row("S-1")]).read_bytes()
    with portal_tenant("muhasebe").client() as client:
        answer = _upload(client, data)
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert client.get(location).status_code == 200
    with stranger.client() as client:
        assert client.get(location).status_code == 404
        assert client.get(location + "/durum").status_code == 404
        assert location not in client.get("/iceri-aktar").text
        assert client.get("/iceri-aktar/not-an-id").status_code == 404


def test_bad_files_are_refused_on_the_page(runtime: Runtime, portal_tenant: PortalTenant) -> None:
    user = portal_tenant("muhasebe")
    with user.client() as client:
        pdf = _upload(client, b"%PDF-1.7 ...")
        assert pdf.status_code == 415
        assert "IMPORT_UNKNOWN_FORMAT" in pdf.text and 'type="file"' in pdf.text
        empty = _upload(client, b"")
        assert empty.status_code == 422
        policy = _upload(client, b"document_key\nx\n", policy="some")
        assert policy.status_code == 422 and "INVALID_REQUEST" in policy.text
    assert _imports(runtime, user) == []


def test_the_template_downloads_are_the_clis(portal_tenant: PortalTenant) -> None:
    names = [c.name for c in COLUMNS]
    with portal_tenant("viewer").client() as client:
        xlsx = client.get("/iceri-aktar/sablon.xlsx")
        assert xlsx.status_code == 200
        assert "attachment" in xlsx.headers["content-disposition"]
        book = load_workbook(io.BytesIO(xlsx.content))
        sheet = book["Faturalar"]
        assert [c.value for c in next(sheet.iter_rows(max_row=1))] == names
        assert sheet.data_validations.dataValidation  # GİB's code lists as dropdowns
        csv_file = client.get("/iceri-aktar/sablon.csv")
        assert csv_file.status_code == 200
        header = next(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig")), delimiter=";"))
        assert header == names
        assert client.get("/iceri-aktar/sablon.pdf").status_code == 404


def test_the_upload_has_the_imports_size_limit(
    runtime: Runtime, portal_tenant: PortalTenant, tmp_path: Path
) -> None:
    from tests.testing.platform import make_settings

    data = write_csv(tmp_path / "f.csv", invoice_rows("LIM", 60)).read_bytes()
    assert 8_000 < len(data) < 30_000
    settings = make_settings(
        runtime.database_url, tmp_path / "data", max_body_bytes=4096, import_max_bytes=40_000
    )
    small = Runtime.from_settings(settings)
    user = portal_tenant("muhasebe")
    try:
        with serve_portal(small) as url:
            user.url = url
            with user.client() as client:
                # larger than any other request may be, within the import's own limit
                assert _upload(client, data).status_code == 303
                too_big = _upload(client, data + b"x" * 40_000)
                assert too_big.status_code == 413
    finally:
        small.close()


def test_a_refused_file_shows_failed_and_the_column_it_names(
    portal_tenant: PortalTenant, run_jobs: Callable[[], None], tmp_path: Path
) -> None:
    header = [("quantty" if h == "quantity" else h) for h in HEADER]
    rows = [{("quantty" if k == "quantity" else k): v for k, v in row("W-1").items()}]
    data = write_csv(tmp_path / "w.csv", rows, header=header).read_bytes()
    with portal_tenant("muhasebe").client() as client:
        answer = _upload(client, data)
        assert answer.status_code == 303, answer.text
        run_jobs()
        page = client.get(answer.headers["location"])
        text = html.unescape(page.text)
        assert "hx-trigger" not in page.text
        assert 'data-status="failed"' in page.text and "Başarısız" in text
        assert "IMPORT_TEMPLATE_COLUMN" in text
        problem = re.search(r"<tr>\s*<td class=\"num\">1</td>\s*<td>quantty.*?</tr>", text, re.S)
        assert problem is not None, text
        assert "/faturalar/" not in page.text.split('id="import-status"', 1)[1]
