"""Documents whose own stylesheet is hostile, through the API: limits, fallback, health.

A trading partner's stylesheet runs in a limited worker process; the API keeps answering
while it runs, and the view falls back to entegrator's when it goes over a limit.
"""

from __future__ import annotations

import base64
import concurrent.futures
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from entegrator.runtime import Runtime
from tests.api.test_api import _xml_from
from tests.rendering.stylesheets import MEMORY_EATER, RUNAWAY, pdf_text
from tests.testing.platform import TenantHandle, make_settings, serve

# Long enough for entegrator's own view on a loaded machine (it renders within the same limit
# after a runaway stylesheet is stopped), short enough to keep the test quick.
HTML_SECONDS = 3.0


@pytest.fixture(scope="module")
def limited_url(
    runtime: Runtime, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The API as ``entegrator serve`` runs it (4 request threads), with a short view limit."""
    settings = make_settings(
        database_url,
        tmp_path_factory.mktemp("limited"),
        view_html_seconds=HTML_SECONDS,
        view_concurrency=2,
    )
    assert settings.api_threads == 4
    limited = Runtime.from_settings(settings)
    try:
        with serve(limited, lifespan="on") as url:
            yield url
    finally:
        limited.close()


def _with(xml: bytes, stylesheet: bytes) -> bytes:
    """The invoice carrying ``stylesheet`` as its own view, as GİB's schema wants it."""
    cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    root = etree.fromstring(xml)
    ref = etree.Element(f"{{{cac}}}AdditionalDocumentReference")
    etree.SubElement(ref, f"{{{cbc}}}ID").text = "view"
    etree.SubElement(ref, f"{{{cbc}}}IssueDate").text = root.findtext(f"{{{cbc}}}IssueDate")
    etree.SubElement(ref, f"{{{cbc}}}DocumentType").text = "XSLT"
    attachment = etree.SubElement(ref, f"{{{cac}}}Attachment")
    obj = etree.SubElement(attachment, f"{{{cbc}}}EmbeddedDocumentBinaryObject")
    obj.attrib.update(
        {
            "characterSetCode": "UTF-8",
            "encodingCode": "Base64",
            "filename": "view.xslt",
            "mimeCode": "application/xml",
        }
    )
    obj.text = base64.b64encode(stylesheet).decode()
    signature = root.find(f"{{{cac}}}Signature")
    assert signature is not None
    signature.addprevious(ref)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _post(client: httpx.Client, xml: bytes) -> str:
    response = client.post("/api/v1/invoices", content=xml, headers={"Content-Type": "text/xml"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_runaway_stylesheets_leave_the_api_answering(
    make_tenant: Callable[..., TenantHandle], run_jobs: Callable[[], None], limited_url: str
) -> None:
    a, b = make_tenant(), make_tenant()
    with httpx.Client(base_url=limited_url, headers=a.headers, timeout=60) as ca:
        ids = [_post(ca, _with(_xml_from(a, f"RUN202600000000{i + 1}"), RUNAWAY)) for i in range(4)]
    run_jobs()

    def view(document_id: str) -> tuple[float, httpx.Response]:
        started = time.monotonic()
        with httpx.Client(base_url=limited_url, headers=a.headers, timeout=60) as client:
            response = client.get(f"/api/v1/invoices/{document_id}/html")
        return time.monotonic() - started, response

    with (
        httpx.Client(base_url=limited_url, headers=b.headers, timeout=30) as other,
        concurrent.futures.ThreadPoolExecutor(4) as pool,
    ):
        b.issue(other)  # the validator is warm before the clock starts
        views = [pool.submit(view, i) for i in ids]
        time.sleep(0.5)  # every runaway request is in
        started = time.monotonic()
        assert other.get("/healthz", timeout=3).json() == {"status": "ok"}
        assert time.monotonic() - started < 3
        started = time.monotonic()
        created = other.post("/api/v1/invoices", json=b.draft(), timeout=3)
        assert created.status_code == 201, created.text
        assert time.monotonic() - started < 3
        assert not all(v.done() for v in views)  # the runaways were still running meanwhile
        results = [v.result(timeout=60) for v in views]
    for elapsed, response in results:
        assert response.status_code == 200
        assert response.headers["x-entegrator-stylesheet"] == "entegrator"
        assert response.headers["x-entegrator-view-fallback"] == "time-limit"
        assert "RUN2026" in response.text
        # Two render at once: a request waits for at most one runaway before its own.
        assert elapsed < 2 * HTML_SECONDS + 10


def test_hostile_stylesheets_fall_back_and_leak_nothing(
    tenant: TenantHandle, run_jobs: Callable[[], None], tmp_path: Path
) -> None:
    local = tmp_path / "local.xsl"
    local.write_bytes(
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        b'<xsl:template name="s">LOCAL-SECRET</xsl:template></xsl:stylesheet>'
    )
    includes = (
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        b'<xsl:import href="' + local.as_uri().encode() + b'"/>'
        b'<xsl:template match="/"><xsl:call-template name="s"/></xsl:template></xsl:stylesheet>'
    )
    script = (
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        b'<xsl:template match="/"><html><body><a href="javascript:alert(1)">pay now</a>'
        b"</body></html></xsl:template></xsl:stylesheet>"
    )
    with tenant.client() as c:
        eats, imports, links = (
            _post(c, _with(_xml_from(tenant, f"HOS202600000000{n}"), sheet))
            for n, sheet in enumerate((MEMORY_EATER, includes, script), start=1)
        )
        run_jobs()
        r = c.get(f"/api/v1/invoices/{eats}/html")
        assert r.status_code == 200
        assert r.headers["x-entegrator-view-fallback"] == "memory-limit"
        assert "HOS2026000000001" in r.text
        for suffix in ("html", "pdf"):
            r = c.get(f"/api/v1/invoices/{imports}/{suffix}")
            assert r.status_code == 200
            assert r.headers["x-entegrator-stylesheet"] == "entegrator"
            assert r.headers["x-entegrator-view-fallback"] == "stylesheet-refused"
            assert b"LOCAL-SECRET" not in r.content
        r = c.get(f"/api/v1/invoices/{links}/pdf")
        assert r.headers["x-entegrator-stylesheet"] == "document"
        assert "x-entegrator-view-fallback" not in r.headers
        text = pdf_text(r.content)
        assert b"javascript" not in text.lower() and b"/JS" not in text
