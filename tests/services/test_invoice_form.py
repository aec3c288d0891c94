"""The portal's invoice form below the web layer: form fields → draft → findings per field,
totals as the user types, drafts, buyer lookup, partners and reports, against PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from entegrator.documents import parse_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.runtime import Runtime
from entegrator.services import buyers, company, invoice_form
from entegrator.services import monthly_reports as reports
from entegrator.services.invoice_form import (
    FieldProblem,
    FormLine,
    InvoiceForm,
    field_of,
    parse_number,
)
from entegrator.store import drafts, gib_users, keys, parties
from entegrator.store.keys import ApiKey
from tests.testing.platform import TenantHandle

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "invoice.json"
DETAILS = {
    "tax_office": "Çankaya",
    "district": "Çankaya",
    "city": "Ankara",
    "street": "Atatürk Blv.",
}
TODAY = dt.date(2026, 11, 24)


def _key(runtime: Runtime, tenant: TenantHandle) -> ApiKey:
    with runtime.db.system() as conn:
        key = keys.authenticate(conn, tenant.token)
    assert key is not None
    return key


def _form(**changes: str) -> InvoiceForm:
    fields = {
        "profile": "TEMELFATURA",
        "type": "SATIS",
        "issue_date": "24.11.2026",
        "buyer_id": "7047649710",
        "buyer_name": "Işık Tekstil A.Ş.",
        "buyer_tax_office": "Nilüfer",
        "buyer_district": "Konak",
        "buyer_city": "İzmir",
        "lines-0-name": "Yazılım lisansı",
        "lines-0-quantity": "2",
        "lines-0-unit_code": "C62",
        "lines-0-unit_price": "1.500,00",
        "lines-0-kdv_percent": "20",
        "lines-1-name": "Temizlik hizmeti",
        "lines-1-quantity": "1",
        "lines-1-unit_code": "HUR",
        "lines-1-unit_price": "10000",
        "lines-1-kdv_percent": "20",
    }
    fields.update(changes)
    return InvoiceForm.from_fields(fields)


def _draft(
    tenant: TenantHandle, form: InvoiceForm
) -> tuple[InvoiceDraft | None, list[FieldProblem]]:
    return invoice_form.to_draft(
        form,
        supplier_vkn=tenant.vkn,
        supplier_name=f"Test {tenant.vkn}",
        company=DETAILS,
        today=TODAY,
    )


def test_turkish_and_plain_numbers_are_read() -> None:
    assert parse_number("1.234,56") == Decimal("1234.56")
    assert parse_number("1234.56") == Decimal("1234.56")
    assert parse_number("12,5") == Decimal("12.5")
    assert parse_number("") is None
    assert parse_number("1,2,3") is None
    assert parse_number("abc") is None


def test_lines_are_read_in_order_and_empty_ones_dropped() -> None:
    form = InvoiceForm.from_fields(
        {"lines-3-name": "c", "lines-3-unit_price": "1", "lines-0-name": "a", "lines-1-name": ""}
    )
    assert [ln.name for ln in form.lines] == ["a", "c"]
    assert InvoiceForm.from_fields(form.to_fields()) == form


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("lines[1].unit_code", "lines-1-unit_code"),
        ("lines[0].allowances_charges[0].rate", "lines-0-discount_percent"),
        ("customer.address.city", "buyer_city"),
        ("customer.vkn", "buyer_id"),
        ("supplier.address.district", "supplier"),
        ("/Invoice/cac:InvoiceLine[2]/cbc:InvoicedQuantity/@unitCode", "lines-1-unit_code"),
        ("/Invoice/cac:InvoiceLine/cac:Price/cbc:PriceAmount", "lines-0-unit_price"),
        (
            "/Invoice/cac:InvoiceLine[3]/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/"
            "cbc:TaxExemptionReasonCode",
            "lines-2-exemption_code",
        ),
        (
            "/Invoice/cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cbc:CityName",
            "buyer_city",
        ),
        ("/Invoice/cbc:InvoiceTypeCode", "type"),
        ("/Invoice/cac:TaxTotal/cbc:TaxAmount", "_form"),
        (None, "_form"),
    ],
)
def test_a_problem_is_shown_next_to_its_field(where: str | None, field: str) -> None:
    assert field_of(where) == field


def test_totals_follow_the_lines_as_typed() -> None:
    form = _form(**{"lines-1-withholding": "612-90", "lines-0-discount_percent": "10"})
    form.lines.append(FormLine(name="yarım", unit_price="12,3,4"))
    result = invoice_form.preview(form)
    assert result.unread == [2]
    totals = result.totals
    assert totals is not None
    # 2 × 1500 − 10 % = 2700; 10000; KDV 20 % of 12700 = 2540; 612 withholds 9/10 of 2000.
    assert result.line_amounts == {0: Decimal("2700.00"), 1: Decimal("10000.00")}
    assert totals.tax_exclusive == Decimal("12700.00")
    assert totals.tax_amount == Decimal("2540.00")
    assert totals.withholding_amount == Decimal("1800.00")
    assert totals.payable == Decimal("13440.00")


def test_a_wrong_field_gets_gibs_finding_in_turkish(runtime: Runtime, tenant: TenantHandle) -> None:
    draft, problems = _draft(tenant, _form(**{"lines-1-unit_code": "ADET"}))
    if draft is not None:
        draft, findings = runtime.invoices.check_draft(tenant.tenant_id, draft)
        problems = invoice_form.findings_to_problems(findings)
    errors = [p for p in problems if p.severity == "error"]
    assert errors and {p.field for p in errors} == {"lines-1-unit_code"}
    assert all(p.message_tr and p.message_tr != p.message_en for p in errors)


def test_an_unreadable_number_is_named_once(tenant: TenantHandle) -> None:
    draft, problems = _draft(tenant, _form(**{"lines-0-quantity": "iki"}))
    assert draft is None
    assert [p.field for p in problems] == ["lines-0-quantity"]
    assert "sayı" in problems[0].message_tr


def test_missing_company_details_point_at_the_settings(tenant: TenantHandle) -> None:
    draft, problems = invoice_form.to_draft(
        _form(), supplier_vkn=tenant.vkn, supplier_name="T", company={}, today=TODAY
    )
    assert draft is None and {p.field for p in problems} == {"supplier"}


def test_the_form_issues_through_the_api_use_case(
    runtime: Runtime, tenant: TenantHandle, run_jobs: Callable[[], None]
) -> None:
    draft, problems = _draft(tenant, _form(**{"lines-1-withholding": "612-90", "type": "TEVKIFAT"}))
    assert problems == [] and draft is not None
    checked, findings = runtime.invoices.check_draft(tenant.tenant_id, draft)
    assert not [f for f in findings if f.severity.value == "error"], findings
    xml = runtime.invoices.preview_xml(tenant.tenant_id, checked)
    assert b"000000000" in xml and b"Signature" not in xml.split(b"UBLExtensions")[0]
    result = runtime.invoices.issue(_key(runtime, tenant), draft=checked)
    run_jobs()
    with runtime.db.tenant(tenant.tenant_id) as conn:
        status = conn.execute(
            text("SELECT status FROM documents WHERE document_id = :d"), {"d": result.id}
        ).scalar()
    assert status not in ("draft", "validated")
    # the month's report reads KDV by rate and the withholding from the XML
    months = reports.monthly(runtime.db, tenant.tenant_id, 2026)
    assert months[10].sales_count == 1 and months[10].sales_payable == Decimal("13800.00")
    detail = reports.breakdown(runtime.db, tenant.tenant_id, dt.date(2026, 11, 1))
    assert detail.kdv["out"] == {Decimal(20): (Decimal("13000.00"), Decimal("2600.00"))}
    assert detail.withholding["out"] == {
        ("612", Decimal(90)): (Decimal("2000.00"), Decimal("1800.00"))
    }
    book = load_workbook(io.BytesIO(reports.to_xlsx(2026, months, detail)))
    row = [c.value for c in book["2026"][12]]
    assert row[0] == "2026-11" and row[1] == 1 and row[4] == pytest.approx(13800)
    assert isinstance(row[4], (int, float))  # a number in the sheet, not text
    kdv = [c.value for c in book["KDV 2026-11"][2]]
    assert kdv[:3] == ["Satış", "KDV", 20]
    # the buyer is a partner now
    with runtime.db.tenant(tenant.tenant_id) as conn:
        found = parties.partners(conn, tenant.tenant_id)
    assert [(p.identifier, p.sales_count) for p in found] == [("7047649710", 1)]
    assert found[0].sales_total == Decimal("13800.00")
    # duplicating it gives the same lines back
    with runtime.db.tenant(tenant.tenant_id) as conn:
        sha = conn.execute(
            text("SELECT xml_sha256 FROM documents WHERE document_id = :d"), {"d": result.id}
        ).scalar()
        data = conn.execute(text("SELECT data FROM blobs WHERE sha256 = :s"), {"s": sha}).scalar()
    assert data is not None
    again = invoice_form.form_from_draft(parse_invoice(bytes(data)))
    assert [(ln.name, ln.unit_price, ln.withholding) for ln in again.lines] == [
        ("Yazılım lisansı", "1500", ""),
        ("Temizlik hizmeti", "10000", "612-90"),
    ]
    assert again.buyer_id == "7047649710" and again.type == "TEVKIFAT"


def test_a_return_swaps_the_parties_and_refers_to_the_invoice() -> None:
    incoming = InvoiceDraft.model_validate(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    form = invoice_form.return_form(incoming, number="ABC2026000000001", issue_date=TODAY)
    assert form.type == "IADE" and form.buyer_id == "8799758740"
    assert form.ref_number == "ABC2026000000001" and form.ref_date == "2026-11-24"
    assert [ln.name for ln in form.lines] == ["Yazılım lisansı", "Kurulum hizmeti"]


def test_drafts_are_saved_listed_and_kept_per_tenant(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle]
) -> None:
    one, other = make_tenant(seal=False), make_tenant(seal=False)
    form = _form()
    with runtime.db.tenant(one.tenant_id) as conn:
        draft_id = drafts.save_draft(
            conn, one.tenant_id, None, title=form.title, form=form.to_fields(), actor="user:a"
        )
    assert draft_id is not None
    with runtime.db.tenant(other.tenant_id) as conn:
        assert drafts.get_draft(conn, other.tenant_id, draft_id) is None
        assert (
            drafts.save_draft(conn, other.tenant_id, draft_id, title="x", form={}, actor="b")
            is None
        )
    with runtime.db.tenant(one.tenant_id) as conn:
        row = drafts.get_draft(conn, one.tenant_id, draft_id)
        assert row is not None and InvoiceForm.from_fields(row.form) == form
        assert [d.draft_id for d in drafts.list_drafts(conn, one.tenant_id)] == [draft_id]
        assert drafts.delete_draft(conn, one.tenant_id, draft_id)
        assert drafts.list_drafts(conn, one.tenant_id) == []


@pytest.fixture
def one_registered_user(runtime: Runtime) -> Iterator[str]:
    with runtime.db.system() as conn:
        rows = conn.execute(
            text("SELECT identifier, title, mailboxes, sender_units FROM gib_users")
        ).all()
        gib_users.replace_users(
            conn,
            [
                gib_users.GibUser(
                    "1234567890", "ÖRNEK TİCARET A.Ş.", ["urn:mail:defaultpk@ornek"], []
                )
            ],
        )
    yield "1234567890"
    with runtime.db.system() as conn:
        gib_users.replace_users(conn, [gib_users.GibUser(*r) for r in rows])


def test_the_buyer_lookup_says_efatura_or_earsiv(
    runtime: Runtime, tenant: TenantHandle, one_registered_user: str
) -> None:
    info = buyers.lookup_buyer(runtime.db, tenant.tenant_id, one_registered_user)
    assert info.valid and info.kind == "efatura" and info.title == "ÖRNEK TİCARET A.Ş."
    assert info.profile_for("EARSIVFATURA") == "TEMELFATURA"
    other = buyers.lookup_buyer(runtime.db, tenant.tenant_id, "7047649710")
    assert other.kind == "earsiv" and other.profile_for("TICARIFATURA") == "EARSIVFATURA"
    assert "e-Arşiv" in other.message_tr
    bad = buyers.lookup_buyer(runtime.db, tenant.tenant_id, "1234567891")
    assert not bad.valid and bad.kind is None


def test_company_details_and_logo(runtime: Runtime, tenant: TenantHandle) -> None:
    problems = company.save_details(runtime.db, tenant.tenant_id, {"city": "Ankara"}, actor="t")
    assert set(problems) == {"tax_office", "district"}
    assert company.details(runtime.db, tenant.tenant_id) == {}
    assert company.save_details(runtime.db, tenant.tenant_id, DETAILS, actor="t") == {}
    assert company.details(runtime.db, tenant.tenant_id)["city"] == "Ankara"
    with pytest.raises(company.LogoError):
        company.save_logo(runtime.db, tenant.tenant_id, b"<svg/>", actor="t")
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    company.save_logo(runtime.db, tenant.tenant_id, png, actor="t")
    assert company.logo(runtime.db, tenant.tenant_id) == (png, "image/png")
    with runtime.db.tenant(tenant.tenant_id) as conn:
        actions = conn.execute(text("SELECT action FROM audit_log ORDER BY audit_id")).scalars()
        assert [a for a in actions if a.startswith("company.")] == [
            "company.details",
            "company.logo",
        ]


def test_an_invoice_in_another_currency_takes_its_rate_and_stays_out_of_tl_sums(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    without = _draft(tenant, _form(currency="USD"))
    checked = runtime.invoices.check_draft(tenant.tenant_id, without[0]) if without[0] else None
    problems = (
        without[1]
        if checked is None
        else invoice_form.findings_to_problems(
            [f for f in checked[1] if f.severity.value == "error"]
        )
    )
    assert "exchange_rate" in {p.field for p in problems}, problems
    draft, problems = _draft(tenant, _form(currency="USD", exchange_rate="34,5612"))
    assert draft is not None and draft.exchange_rate == Decimal("34.5612"), problems
    _, findings = runtime.invoices.check_draft(tenant.tenant_id, draft)
    assert not [f for f in findings if f.severity.value == "error"], findings
    runtime.invoices.issue(_key(runtime, tenant), draft=draft)
    months = reports.monthly(runtime.db, tenant.tenant_id, 2026)
    assert months[10].sales_count == 0  # not added to TL sums
    assert reports.breakdown(runtime.db, tenant.tenant_id, TODAY).other_currency == 1
