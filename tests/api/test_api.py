"""The REST API end to end: real HTTP, real PostgreSQL, a real worker, the oracle on the output."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
from lxml import etree
from sqlalchemy import text

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.runtime import Runtime
from entegrator.signing import verify
from entegrator.store import repo
from tests import oracle
from tests.testing.platform import TenantHandle


def _xml_from(tenant: TenantHandle, number: str, **changes: object) -> bytes:
    draft = InvoiceDraft.model_validate(
        tenant.draft(number=number, ettn=str(uuid.uuid4()).upper(), **changes)
    )
    return build_invoice(draft)


def test_issue_sign_fetch_as_xml_html_pdf(
    tenant: TenantHandle, run_jobs: Callable[[], None], runtime: Runtime
) -> None:
    with tenant.client() as c:
        created = c.post("/api/v1/invoices", json=tenant.draft())
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["number"] == "EFA2026000000001"
        assert body["status"] == "validated"
        assert created.headers["location"] == f"/api/v1/invoices/{body['id']}"
        uuid.UUID(body["ettn"])

        before = c.get(f"/api/v1/invoices/{body['id']}/xml")
        assert before.status_code == 409
        assert before.json()["error"]["code"] == "NOT_SIGNED_YET"

        run_jobs()

        detail = c.get(f"/api/v1/invoices/{body['id']}").json()
        assert detail["status"] == "queued"
        assert detail["signed"] is True
        assert detail["totals"] == {
            "line_extension": "6000.00",
            "tax_exclusive": "6000.00",
            "tax_total": "1200.00",
            "payable": "7200.00",
        }
        assert detail["receiver"]["id"] == "7047649710"
        assert [e["type"] for e in detail["events"]] == [
            "received",
            "validated",
            "numbered",
            "signed",
            "queued",
        ]

        xml = c.get(f"/api/v1/invoices/{body['id']}/xml")
        assert xml.status_code == 200
        assert xml.headers["content-type"] == "application/xml"
        root = etree.fromstring(xml.content)
        ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
        assert root.findtext("cbc:ID", namespaces=ns) == "EFA2026000000001"
        assert root.findtext("cbc:UUID", namespaces=ns) == body["ettn"]
        # The signature verifies, and GİB's rules (the independent oracle) accept the document.
        assert verify(xml.content) == []
        verdict = oracle.check(xml.content)
        assert verdict.valid, verdict.errors

        html = c.get(f"/api/v1/invoices/{body['id']}/html")
        assert html.status_code == 200
        assert "EFA2026000000001" in html.text
        assert "<svg" in html.text and 'id="karekod"' in html.text
        assert "script-src" not in html.headers["content-security-policy"]
        assert "default-src 'none'" in html.headers["content-security-policy"]
        assert html.headers["x-entegrator-stylesheet"] == "entegrator"

        pdf = c.get(f"/api/v1/invoices/{body['id']}/pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        assert len(pdf.content) > 5000

    # The event chain is intact and ends at the document's head.
    doc_id = uuid.UUID(body["id"])
    with runtime.db.tenant(tenant.tenant_id) as conn:
        events = repo.list_events(conn, tenant.tenant_id, doc_id)
        head = conn.execute(
            text("SELECT head_hash FROM documents WHERE document_id = :d"), {"d": doc_id}
        ).scalar_one()
    assert repo.verify_chain(events, doc_id, bytes(head)) == []


def test_xml_body_gets_a_number_when_it_has_none(
    tenant: TenantHandle, runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    xml = _xml_from(tenant, "EFA2026000000999")
    placeholder = xml.replace(b">EFA2026000000999<", b">TASLAK<")
    with tenant.client() as c:
        r = c.post(
            "/api/v1/invoices?series=XML",
            content=placeholder,
            headers={"Content-Type": "application/xml"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["number"] == "XML2026000000001"
        # An ERP that numbers its own invoices keeps its number when it is the series' next
        # one; a gap (or a number far ahead, which would wreck the series) is refused.
        for far in ("ERP2026000000042", "ZZZ2026999999999"):
            ahead = _xml_from(tenant, far)
            refused = c.post(
                "/api/v1/invoices", content=ahead, headers={"Content-Type": "application/xml"}
            )
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "NUMBER_NOT_NEXT"
            assert refused.json()["error"]["where"] == "number"
        own = _xml_from(tenant, "ERP2026000000001")
        r2 = c.post("/api/v1/invoices", content=own, headers={"Content-Type": "application/xml"})
        assert r2.status_code == 201, r2.text
        assert r2.json()["number"] == "ERP2026000000001"
        again = _xml_from(tenant, "ERP2026000000001")
        r3 = c.post("/api/v1/invoices", content=again, headers={"Content-Type": "text/xml"})
        assert r3.status_code == 409
        assert r3.json()["error"]["code"] == "NUMBER_NOT_NEXT"
        assert "ERP2026000000002" in r3.json()["error"]["message_en"]
        # The series goes on after the ERP's own number, never into it; and the ERP's next.
        r4 = c.post("/api/v1/invoices?series=ERP", json=tenant.draft())
        assert r4.status_code == 201, r4.text
        assert r4.json()["number"] == "ERP2026000000002"
        follow = _xml_from(tenant, "ERP2026000000003")
        r5 = c.post("/api/v1/invoices", content=follow, headers={"Content-Type": "text/xml"})
        assert r5.status_code == 201, r5.text
        # A series at its end answers 409, not 500.
        with runtime.db.tenant(tenant.tenant_id) as conn:
            conn.execute(
                text(
                    "INSERT INTO numbering_series (tenant_id, prefix, year, last_value) "
                    "VALUES (:t, 'END', 2026, 999999999)"
                ),
                {"t": tenant.tenant_id},
            )
        full = c.post("/api/v1/invoices?series=END", json=tenant.draft())
        assert full.status_code == 409, full.text
        assert full.json()["error"]["code"] == "SERIES_EXHAUSTED"
        run_jobs()
        signed = c.get(f"/api/v1/invoices/{r.json()['id']}/xml")
        assert b"XML2026000000001" in signed.content
        assert b"TASLAK" not in signed.content
        assert oracle.check(signed.content).valid


def test_an_invalid_document_gets_422_with_findings_and_nothing_is_stored(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    xml = _xml_from(tenant, "EFA2026000000005")
    broken = xml.replace(b"<cbc:PayableAmount", b"<cbc:PayableAmount data-x='1'", 1)
    wrong_total = xml.replace(b">7200.00</cbc:PayableAmount>", b">7200.01</cbc:PayableAmount>")
    with tenant.client() as c:
        for body in (broken, wrong_total):
            r = c.post(
                "/api/v1/invoices", content=body, headers={"Content-Type": "application/xml"}
            )
            assert r.status_code == 422, r.text
            payload = r.json()
            assert payload["error"]["code"] == "VALIDATION_FAILED"
            assert payload["findings"], payload
            first = payload["findings"][0]
            assert {"code", "severity", "message_tr", "message_en"} <= first.keys()
        r = c.post("/api/v1/invoices", content=wrong_total, headers={"Content-Type": "text/xml"})
        assert any(f["code"].startswith("arith-") for f in r.json()["findings"])
    with runtime.db.tenant(tenant.tenant_id) as conn:
        count = conn.execute(text("SELECT count(*) FROM documents")).scalar_one()
        numbers = conn.execute(text("SELECT count(*) FROM numbering_series")).scalar_one()
    assert count == 0
    assert numbers == 0


def test_idempotency_key_replays_the_first_answer(tenant: TenantHandle, runtime: Runtime) -> None:
    with tenant.client() as c:
        headers = {"Idempotency-Key": "order-77"}
        first = c.post("/api/v1/invoices", json=tenant.draft(), headers=headers)
        second = c.post("/api/v1/invoices", json=tenant.draft(), headers=headers)
        assert first.status_code == second.status_code == 201
        assert second.headers.get("idempotent-replayed") == "true"
        assert first.json()["id"] == second.json()["id"]
        assert first.json()["number"] == second.json()["number"]
        other = c.post("/api/v1/invoices", json=tenant.draft(notes=["başka"]), headers=headers)
        assert other.status_code == 409

    # The same key from many clients at once: one invoice.
    def post(_: int) -> httpx.Response:
        with tenant.client() as client:
            return client.post(
                "/api/v1/invoices", json=tenant.draft(), headers={"Idempotency-Key": "race-1"}
            )

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    with runtime.db.tenant(tenant.tenant_id) as conn:
        count = conn.execute(text("SELECT count(*) FROM documents")).scalar_one()
    assert count == 2


def test_fifty_concurrent_requests_get_fifty_consecutive_numbers(
    tenant: TenantHandle, runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    def post(_: int) -> httpx.Response:
        with tenant.client() as client:
            return client.post("/api/v1/invoices?series=CON", json=tenant.draft())

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(post, range(50)))
    assert [a.status_code for a in answers] == [201] * 50
    numbers = sorted(a.json()["number"] for a in answers)
    assert numbers == [f"CON2026{n:09d}" for n in range(1, 51)]
    assert len({a.json()["ettn"] for a in answers}) == 50
    run_jobs()
    with runtime.db.tenant(tenant.tenant_id) as conn:
        statuses = conn.execute(
            text("SELECT status, count(*) FROM documents GROUP BY status")
        ).all()
    assert dict(statuses) == {"queued": 50}


def test_search_filters_and_cursor_pages(tenant: TenantHandle) -> None:
    other = "3221555337"
    with tenant.client() as c:
        ids = []
        for i in range(7):
            customer = tenant.draft()["customer"]
            if i % 2:
                customer = dict(customer, vkn=other, name="Diğer Alıcı A.Ş.")
            lines = [dict(tenant.draft()["lines"][0], quantity=str(i + 1))]
            ids.append(tenant.issue(c, customer=customer, lines=lines)["id"])

        pages, cursor = [], None
        while True:
            params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            page = c.get("/api/v1/invoices", params=params).json()
            pages.append([item["id"] for item in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        seen = [i for p in pages for i in p]
        assert seen == list(reversed(ids))  # newest first, each exactly once
        assert [len(p) for p in pages] == [3, 3, 1]

        by_party = c.get("/api/v1/invoices", params={"party": other}).json()["items"]
        assert {i["id"] for i in by_party} == {ids[1], ids[3], ids[5]}
        # quantity q of 1500.00 + 20 % KDV → payable 1800·q
        ranged = c.get("/api/v1/invoices", params={"min_total": "3600", "max_total": "7200"})
        assert {i["totals"]["payable"] for i in ranged.json()["items"]} == {
            "3600.00",
            "5400.00",
            "7200.00",
        }
        number = c.get(f"/api/v1/invoices/{ids[2]}").json()["number"]
        exact = c.get("/api/v1/invoices", params={"number": number}).json()["items"]
        assert [i["id"] for i in exact] == [ids[2]]
        dated = c.get(
            "/api/v1/invoices", params={"issued_from": "2026-11-25", "profile": "TEMELFATURA"}
        )
        assert dated.json()["items"] == []
        by_status = c.get("/api/v1/invoices", params={"status": "validated", "limit": 200})
        assert len(by_status.json()["items"]) == 7
        assert c.get("/api/v1/invoices", params={"cursor": "!!"}).status_code == 422
        assert c.get("/api/v1/invoices", params={"min_total": "abc"}).status_code == 422
        assert c.get("/api/v1/invoices", params={"limit": 0}).status_code == 422


def test_validate_endpoint_stores_nothing(tenant: TenantHandle, corpus: object) -> None:
    from pathlib import Path

    sample = (Path(str(corpus)) / "temel_fatura.xml").read_bytes()
    bad = (Path(str(corpus)) / "hatali_fatura.xml").read_bytes()
    with tenant.client() as c:
        good = c.post("/api/v1/validate", content=sample, headers={"Content-Type": "text/xml"})
        assert good.status_code == 200
        assert good.json()["valid"] is oracle.check(sample).valid
        wrong = c.post("/api/v1/validate", content=bad, headers={"Content-Type": "text/xml"})
        assert wrong.json()["valid"] is False
        assert wrong.json()["findings"]
        draft = c.post("/api/v1/validate", json=tenant.draft())
        assert draft.json()["valid"] is True, draft.json()
        assert c.get("/api/v1/invoices").json()["items"] == []


def test_operations_endpoints(base_url: str, tenant: TenantHandle) -> None:
    with httpx.Client(base_url=base_url) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        spec = c.get("/openapi.json").json()
        assert "/api/v1/invoices" in spec["paths"]
        assert "/api/v1/invoices/{document_id}/pdf" in spec["paths"]
        assert c.get("/docs").status_code == 200
        with tenant.client() as tc:
            tenant.issue(tc)
        text = c.get("/metrics").text
        assert "entegrator_invoices_issued_total" in text
        line = next(
            ln
            for ln in text.splitlines()
            if ln.startswith("entegrator_http_requests_total")
            and 'route="/api/v1/invoices"' in ln
            and 'status="201"' in ln
        )
        assert Decimal(line.rsplit(" ", 1)[1]) >= 1


_STYLESHEET = """<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
  xmlns:inv="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">
  <xsl:template match="/inv:Invoice"><html><body><h1>FIRMA GORUNUMU <xsl:value-of
    select="cbc:ID"/></h1>BODY</body></html></xsl:template>
</xsl:stylesheet>"""


def _with_stylesheet(xml: bytes, body: str) -> bytes:
    cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    root = etree.fromstring(xml)
    signature = root.find(f"{{{cac}}}Signature")
    assert signature is not None
    ref = etree.Element(f"{{{cac}}}AdditionalDocumentReference")
    etree.SubElement(ref, f"{{{cbc}}}ID").text = "view"
    etree.SubElement(ref, f"{{{cbc}}}IssueDate").text = root.findtext(f"{{{cbc}}}IssueDate")
    etree.SubElement(ref, f"{{{cbc}}}DocumentType").text = "XSLT"
    attachment = etree.SubElement(ref, f"{{{cac}}}Attachment")
    obj = etree.SubElement(attachment, f"{{{cbc}}}EmbeddedDocumentBinaryObject")
    obj.set("characterSetCode", "UTF-8")
    obj.set("encodingCode", "Base64")
    obj.set("filename", "firma.xslt")
    obj.set("mimeCode", "application/xml")
    obj.text = base64.b64encode(_STYLESHEET.replace("BODY", body).encode()).decode()
    signature.addprevious(ref)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_document_with_its_own_stylesheet_is_shown_with_it(
    tenant: TenantHandle, run_jobs: Callable[[], None]
) -> None:
    plain = _with_stylesheet(_xml_from(tenant, "STY2026000000001"), "")
    # A hostile stylesheet tries to read a local file: access is denied.
    hostile = _with_stylesheet(
        _xml_from(tenant, "STY2026000000002"),
        "<xsl:value-of select=\"document('file:///etc/passwd')\"/>",
    )
    with tenant.client() as c:
        ids = []
        for xml in (plain, hostile):
            r = c.post("/api/v1/invoices", content=xml, headers={"Content-Type": "text/xml"})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        run_jobs()
        own = c.get(f"/api/v1/invoices/{ids[0]}/html")
        assert own.headers["x-entegrator-stylesheet"] == "document"
        assert "FIRMA GORUNUMU STY2026000000001" in own.text
        assert "<svg" in own.text  # the QR code is added to any view
        bad = c.get(f"/api/v1/invoices/{ids[1]}/html")
        assert bad.status_code == 200
        assert "root:" not in bad.text
        pdf = c.get(f"/api/v1/invoices/{ids[0]}/pdf")
        assert pdf.content.startswith(b"%PDF-")


def test_json_body_of_other_shapes(tenant: TenantHandle) -> None:
    with tenant.client() as c:
        r = c.post(
            "/api/v1/invoices", content=b"[1, 2", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422
        assert r.json()["findings"][0]["source"] == "draft"
        r = c.post("/api/v1/invoices", content=json.dumps({"profile": "TEMELFATURA"}))
        assert r.status_code == 422
        assert any(f["xpath"] == "supplier" for f in r.json()["findings"])


def test_a_database_that_is_away_answers_503_with_retry_after(tmp_path: Path) -> None:
    from tests.testing.platform import free_port, make_settings, serve

    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    away = Runtime.from_settings(make_settings(closed, tmp_path))
    headers = {"Authorization": "Bearer ent_000000000000_x"}
    try:
        with serve(away) as base, httpx.Client(base_url=base, headers=headers) as c:
            for response in (
                c.post("/api/v1/invoices", json={"profile": "TEMELFATURA"}),
                c.get("/api/v1/invoices"),
            ):
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"] == "5"
                error = response.json()["error"]
                assert error["code"] == "DATABASE_UNAVAILABLE"
                assert error["message_tr"].startswith("Veritabanına")
            ready = c.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "unavailable"
            assert ready.json()["worker"] == "absent"
    finally:
        away.close()


def test_readyz_reports_the_worker_running_beside_the_api(runtime: Runtime) -> None:
    from entegrator.runtime import WorkerHealth, WorkerStatus
    from tests.testing.platform import serve

    health = WorkerHealth()
    with serve(runtime, worker=health) as base, httpx.Client(base_url=base) as c:
        for status, code in (
            (WorkerStatus.STARTING, 503),
            (WorkerStatus.RUNNING, 200),
            (WorkerStatus.STOPPING, 503),
            (WorkerStatus.RESTARTING, 503),
        ):
            health.status = status
            ready = c.get("/readyz")
            assert (ready.status_code, ready.json()["worker"]) == (code, str(status))
            assert ready.json()["status"] == ("ready" if code == 200 else "unavailable")


def test_an_unknown_draft_field_hides_no_other_problem(tenant: TenantHandle) -> None:
    draft = tenant.draft(profile="IHRACAT")  # an export invoice to a buyer who is not GTB
    draft["bogus"] = 1
    with tenant.client() as c:
        for path in ("/api/v1/invoices", "/api/v1/validate"):
            r = c.post(path, json=draft)
            assert r.status_code == 422, r.text
            codes = {(f["code"], f["xpath"]) for f in r.json()["findings"]}
            assert ("INVALID_FIELD", "bogus") in codes, codes
            assert ("GTB_CUSTOMER", "customer.vkn") in codes, codes


_UBL_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def _ticari_fatura_totals(xml: bytes) -> bytes:
    """The invoice written as GİB's TicariFaturaOrnegi writes totals: the first line gets a
    discount of 1.00 per unit (its price rises by 1.00, its amount stays), and the document's
    LineExtensionAmount is before that discount, with AllowanceTotalAmount holding it."""
    root = etree.fromstring(xml)
    cac, cbc = (f"{{{_UBL_NS[p]}}}" for p in ("cac", "cbc"))
    line = root.find("cac:InvoiceLine", _UBL_NS)
    assert line is not None
    quantity = Decimal(line.findtext("cbc:InvoicedQuantity", namespaces=_UBL_NS) or "")
    price = line.find("cac:Price/cbc:PriceAmount", _UBL_NS)
    assert price is not None
    currency = price.get("currencyID") or "TRY"
    price.text = str(Decimal(price.text or "") + 1)
    discount = (quantity * 1).quantize(Decimal("0.01"))
    allowance = etree.Element(cac + "AllowanceCharge")
    etree.SubElement(allowance, cbc + "ChargeIndicator").text = "false"
    etree.SubElement(allowance, cbc + "Amount", currencyID=currency).text = str(discount)
    line.find("cac:TaxTotal", _UBL_NS).addprevious(allowance)  # type: ignore[union-attr]
    totals = root.find("cac:LegalMonetaryTotal", _UBL_NS)
    assert totals is not None
    extension = totals.find("cbc:LineExtensionAmount", _UBL_NS)
    assert extension is not None
    extension.text = str(Decimal(extension.text or "") + discount)
    held = totals.find("cbc:AllowanceTotalAmount", _UBL_NS)
    if held is None:
        held = etree.Element(cbc + "AllowanceTotalAmount", currencyID=currency)
        held.text = "0.00"
        totals.find("cbc:TaxInclusiveAmount", _UBL_NS).addnext(held)  # type: ignore[union-attr]
    held.text = str(Decimal(held.text or "") + discount)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_an_erps_xml_with_gibs_ticari_fatura_totals_is_accepted_with_a_warning(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    """An ERP that writes totals as GİB's TicariFaturaOrnegi does is not refused on upload: the
    convention is a warning naming it. The same figures with a real error are refused."""
    erp = _ticari_fatura_totals(_xml_from(tenant, "ERV2026000000001"))
    root = etree.fromstring(erp)
    held = root.find("cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount", _UBL_NS)
    assert held is not None
    held.text = str(Decimal(held.text or "") + 7)
    wrong = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    xml_type = {"Content-Type": "application/xml"}
    with tenant.client() as c:
        checked = c.post("/api/v1/validate", content=erp, headers=xml_type)
        assert checked.status_code == 200, checked.text
        assert checked.json()["purpose"] == "upload"
        assert checked.json()["valid"] is True
        strict = c.post("/api/v1/validate?purpose=outbound", content=erp, headers=xml_type)
        assert strict.json()["purpose"] == "outbound"
        assert strict.json()["valid"] is False
        unknown = c.post("/api/v1/validate?purpose=sideways", content=erp, headers=xml_type)
        assert unknown.status_code == 422, unknown.text
        refused = c.post("/api/v1/invoices", content=wrong, headers=xml_type)
        assert refused.status_code == 422, refused.text
        assert "arith-allowance-total" in {f["code"] for f in refused.json()["findings"]}
        created = c.post("/api/v1/invoices", content=erp, headers=xml_type)
        assert created.status_code == 201, created.text
        warnings = created.json()["warnings"]
        named = [w for w in warnings if w["code"] == "arith-convention-line-discounts"]
        assert [w["severity"] for w in named] == ["warning"]
        assert "TicariFaturaOrnegi" in named[0]["message_en"]
    # The purpose it was judged by is recorded with the document.
    doc_id = uuid.UUID(created.json()["id"])
    with runtime.db.tenant(tenant.tenant_id) as conn:
        events = repo.list_events(conn, tenant.tenant_id, doc_id)
    validated = [e for e in events if e.type == "validated"]
    assert [e.data["purpose"] for e in validated] == ["upload"]


def test_a_draft_is_judged_as_outbound(tenant: TenantHandle, runtime: Runtime) -> None:
    with tenant.client() as c:
        checked = c.post("/api/v1/validate", json=tenant.draft())
        assert checked.json()["purpose"] == "outbound"
        created = c.post("/api/v1/invoices", json=tenant.draft())
        assert created.status_code == 201, created.text
    with runtime.db.tenant(tenant.tenant_id) as conn:
        events = repo.list_events(conn, tenant.tenant_id, uuid.UUID(created.json()["id"]))
    assert [e.data["purpose"] for e in events if e.type == "validated"] == ["outbound"]
