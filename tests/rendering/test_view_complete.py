"""The view a buyer receives is complete: exchange rate, exemption, the export buyer,
INCOTERMS and GTİP, labelled discounts and charges, the e-Arşiv and İrsaliye notes, the
cancellation mark, A4 framing; in the HTML and in the PDF."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree, html

from entegrator.documents import build_invoice
from entegrator.documents.model import AllowanceCharge, Contact, InvoiceDraft
from entegrator.documents.samples import generate
from entegrator.rendering import html_view, render_pdf
from tests.documents.factory import CUSTOMER, draft, line

CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"


def export_draft() -> InvoiceDraft:
    for sample in generate(60, seed=7):
        if sample.profile == "IHRACAT" and len(sample.lines) < 5:
            return sample
    raise AssertionError("the samples have no small IHRACAT invoice")


def text_of(markup: str) -> str:
    return " ".join("".join(str(t) for t in html.fromstring(markup).itertext()).split())


def texts(root: etree._Element, path: str) -> list[str]:
    """The text of every element at ``path`` (cbc:/cac: prefixes)."""
    ns = {"cbc": CBC_NS, "cac": CAC_NS}
    return [str(node.text) for node in root.iterfind(path, ns) if node.text]


def test_an_export_shows_rate_buyer_incoterms_gtip_and_exemption() -> None:
    d = export_draft()
    assert d.buyer_customer is not None and d.exchange_rate is not None
    xml = build_invoice(d)
    root = etree.fromstring(xml)
    shown = text_of(html_view(xml).html)
    rate = f"{d.exchange_rate:.6f}".replace(".", ",")
    assert f"1 {d.currency} = {rate} TL" in shown
    assert "ALICI" in shown
    buyer = d.buyer_customer.registration_name or d.buyer_customer.name
    assert buyer and buyer in shown
    assert "Almanya" in shown
    gtips = texts(root, ".//cbc:RequiredCustomsID")
    assert gtips and all(gtip in shown for gtip in gtips)
    incoterms = texts(root, ".//cac:DeliveryTerms/cbc:ID")
    assert incoterms and all(term in shown for term in incoterms)
    assert "Teslim Şartı" in shown and "GTİP" in shown
    codes = texts(root, ".//cbc:TaxExemptionReasonCode")
    assert codes and all(f"Vergi İstisna Muafiyet Sebebi: {c}" in shown for c in codes)


def test_discounts_and_charges_are_labelled() -> None:
    d = draft(
        lines=[
            line(
                allowances_charges=[
                    AllowanceCharge(charge=False, rate=Decimal("0.1"), reason="Kampanya"),
                    AllowanceCharge(charge=True, amount=Decimal(5)),
                ]
            )
        ]
    )
    shown = text_of(html_view(build_invoice(d)).html)
    assert "İskonto %10 (Kampanya): -10,00 TL" in shown
    assert "Artırım: 5,00 TL" in shown


# An electronically delivered e-Arşiv invoice needs the buyer's e-mail (or telephone).
_BUYER = CUSTOMER.model_copy(update={"contact": Contact(email="ayse@example.com")})


@pytest.mark.parametrize(
    ("profile", "sending", "noted"),
    [
        ("EARSIVFATURA", "ELEKTRONIK", True),
        ("EARSIVFATURA", "KAGIT", False),
        ("TEMELFATURA", None, False),
    ],
)
def test_the_earsiv_note(profile: str, sending: str | None, noted: bool) -> None:
    xml = build_invoice(draft(profile=profile, sending_type=sending, customer=_BUYER))
    note = "e-Arşiv izni kapsamında elektronik ortamda iletilmiştir."
    assert (note in text_of(html_view(xml).html)) is noted


def test_irsaliye_yerine_gecer_only_without_a_despatch_reference() -> None:
    without = text_of(html_view(build_invoice(draft())).html)
    assert "İrsaliye yerine geçer." in without
    data = draft().model_dump()
    data["despatch_references"] = [{"id": "IRS2026000000001", "issue_date": "2026-11-01"}]
    referenced = InvoiceDraft.model_validate(data)
    shown = text_of(html_view(build_invoice(referenced)).html)
    assert "IRS2026000000001" in shown
    assert "İrsaliye yerine geçer." not in shown


def test_a_cancelled_invoice_is_marked_in_html_and_pdf() -> None:
    xml = build_invoice(draft(profile="EARSIVFATURA", sending_type="ELEKTRONIK", customer=_BUYER))
    assert "İPTAL EDİLMİŞTİR" not in html_view(xml).html
    cancelled = html_view(xml, cancelled=True).html
    assert "İPTAL EDİLMİŞTİR" in text_of(cancelled)
    import pypdfium2

    pdf = pypdfium2.PdfDocument(render_pdf(cancelled))
    assert "İPTAL EDİLMİŞTİR" in pdf[0].get_textpage().get_text_range()


def test_the_page_is_framed_as_a4() -> None:
    page = html_view(build_invoice(draft())).html
    assert "size: A4" in page  # the printed page
    assert "width: 210mm" in page and "min-height: 297mm" in page  # on screen
