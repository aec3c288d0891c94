"""The e-İrsaliye views: a despatch (e-İRSALİYE) and its answer (İRSALİYE YANITI) shown in
GİB's style through the same entry point as invoices, complete for their reader, with a QR
code that decodes from the PDF and from the HTML as a browser draws it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree, html

from entegrator.documents import build_invoice, safe_xml
from entegrator.documents.build import build_despatch, build_receipt
from entegrator.documents.despatch_samples import generate_receipts
from entegrator.documents.errors import XMLError
from entegrator.documents.model import DespatchDraft, Party
from entegrator.rendering import html_view, qr_payload, render_html, render_pdf
from entegrator.rendering.sandbox import Renderer, RenderLimits
from tests.conftest import CORPUS
from tests.documents.factory import draft
from tests.rendering.test_views import XSL, _with

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAIRS = list(generate_receipts(12, seed=11))

UNIT_NAMES = {"C62": "Adet", "KGM": "kg", "LTR": "lt", "MTR": "m"}


def text_of(markup: str) -> str:
    """The page's body text, its pieces (cells, blocks) separated by a space."""
    body = html.fromstring(markup).find("body")
    assert body is not None
    return " ".join(" ".join(str(t) for t in body.itertext()).split())


def cell_text(cell: etree._Element) -> str:
    return " ".join("".join(str(t) for t in cell.itertext()).split())


def tr_quantity(value: Decimal) -> str:
    """A quantity as the view writes it: Turkish decimal comma, thousands with dots."""
    whole, _, fraction = f"{value:f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    fraction = fraction.rstrip("0")
    return f"{grouped},{fraction}" if fraction else grouped


def tr_date(day: dt.date) -> str:
    return day.strftime("%d-%m-%Y")


def shown_party(party: Party) -> str:
    return party.display_name


def rich_despatch() -> DespatchDraft:
    """A sample with two drivers, trailers, a carrier and a partial line."""
    for despatch, _ in PAIRS:
        s = despatch.shipment
        if len(s.drivers) > 1 and s.trailer_plates and s.carrier is not None:
            return despatch
    raise AssertionError("no sample with drivers, trailers and a carrier")


@pytest.mark.parametrize("index", range(len(PAIRS)))
def test_the_despatch_view_shows_parties_shipment_and_lines(index: int) -> None:
    d = PAIRS[index][0]
    view = html_view(build_despatch(d))
    assert (view.source, view.fallback) == ("entegrator", None)
    shown = text_of(view.html)
    assert "e-İRSALİYE" in shown
    assert d.number is not None and d.ettn is not None
    assert f"İrsaliye No: {d.number}" in shown
    assert f"ETTN: {d.ettn.upper()}" in shown
    assert f"Senaryo: {d.profile}" in shown and f"İrsaliye Tipi: {d.type}" in shown
    assert shown_party(d.supplier) in shown
    assert f"SAYIN {shown_party(d.customer)}" in shown
    for title, party in (
        ("Asıl Alıcı", d.buyer_customer),
        ("Asıl Satıcı", d.seller_supplier),
        ("Siparişi Veren", d.originator_customer),
    ):
        if party is None:
            assert title not in shown
        else:
            assert f"{title} {shown_party(party)}" in shown
    s = d.shipment
    assert f"Fiili Sevk Tarihi: {tr_date(s.actual_despatch_date)}" in shown
    assert f"Fiili Sevk Zamanı: {s.actual_despatch_time.isoformat()}" in shown
    for driver in s.drivers:
        assert f"Şoför: {driver.first_name} {driver.family_name}, TCKN: {driver.tckn}" in shown
    if s.plate is not None:
        assert f"Araç plaka numarası: {s.plate}" in shown
    for trailer in s.trailer_plates:
        assert f"Dorse plaka numarası: {trailer}" in shown
    if s.carrier is not None:
        assert f"Taşıyıcı Firma: {shown_party(s.carrier)}" in shown
    if d.paper_document is not None:
        assert f"Matbu Belge No: {d.paper_document.id}" in shown
    rows = html.fromstring(view.html).findall(".//table[@class='lines']/tbody/tr")
    assert len(rows) == len(d.lines)
    for row, line in zip(rows, d.lines, strict=True):
        cells = [cell_text(c) for c in row.findall("td")]
        assert cells[1].startswith(line.name)
        assert cells[2] == f"{tr_quantity(line.quantity)} {UNIT_NAMES[line.unit_code]}"
        if line.outstanding_quantity is not None:
            unit = UNIT_NAMES[line.unit_code]
            assert cells[3] == f"{tr_quantity(line.outstanding_quantity)} {unit}"
            assert line.outstanding_reason and line.outstanding_reason in cells[4]
        else:
            assert cells[3] == ""
        for kunye in line.additional_item_ids:
            assert f"Künye Numarası: {kunye.value}" in cells[1]


@pytest.mark.parametrize("index", range(len(PAIRS)))
def test_the_receipt_view_shows_each_lines_answer(index: int) -> None:
    despatch, r = PAIRS[index]
    view = html_view(build_receipt(r, despatch))
    assert (view.source, view.fallback) == ("entegrator", None)
    shown = text_of(view.html)
    assert "İRSALİYE YANITI" in shown
    assert f"İrsaliye Yanıtı No: {r.number}" in shown
    assert f"İrsaliye ETTN: {r.despatch_ettn.upper()}" in shown
    assert r.despatch_number is not None
    assert f"İrsaliye No: {r.despatch_number}" in shown
    assert f"İrsaliye Tarihi: {tr_date(r.despatch_date)}" in shown
    assert f"Fiili Teslim Tarihi: {tr_date(r.actual_delivery_date)}" in shown
    assert f"Teslim Alan {shown_party(r.customer)}" in shown
    assert f"SAYIN Teslim Eden {shown_party(r.supplier)}" in shown
    rows = html.fromstring(view.html).findall(".//table[@class='lines']/tbody/tr")
    assert len(rows) == len(r.lines)

    def cell(value: Decimal | None, unit: str) -> str:
        return "" if value is None else f"{tr_quantity(value)} {UNIT_NAMES[unit]}"

    for row, line in zip(rows, r.lines, strict=True):
        cells = [cell_text(c) for c in row.findall("td")]
        assert cells[1].startswith(line.name)
        assert cells[2] == line.despatch_line_id
        assert cells[3] == cell(line.received, line.unit_code)
        assert cells[4] == cell(line.rejected, line.unit_code)
        assert cells[5] == (line.reject_reason or "")
        assert cells[6] == cell(line.short, line.unit_code)
        assert cells[7] == cell(line.oversupply, line.unit_code)
        assert cells[8] == (line.timing_complaint or "")


def test_the_samples_show_rejections_shortages_and_oversupply() -> None:
    """The receipt view test above meets every kind of answer."""
    lines = [line for _, r in PAIRS for line in r.lines]
    assert any(line.rejected for line in lines)
    assert any(line.short for line in lines)
    assert any(line.oversupply for line in lines)
    assert any(line.timing_complaint for line in lines)
    assert any(d.paper_document for d, _ in PAIRS)


def test_the_despatch_qr_payload_carries_gibs_fields() -> None:
    d = rich_despatch()
    payload = qr_payload(etree.fromstring(build_despatch(d)))
    assert d.ettn is not None and d.shipment.carrier is not None
    assert payload == {
        "vkntckn": d.supplier.identifier,
        "avkntckn": d.customer.identifier,
        "senaryo": d.profile,
        "tip": d.type,
        "tarih": d.issue_date.isoformat(),
        "no": d.number,
        "ettn": d.ettn.upper(),
        "sevktarihi": d.shipment.actual_despatch_date.isoformat(),
        "sevkzamani": d.shipment.actual_despatch_time.isoformat(),
        "tasiyicivkn": d.shipment.carrier.identifier,
        "plaka": d.shipment.plate,
    }


def test_the_receipt_qr_payload_names_the_answered_despatch() -> None:
    despatch, r = PAIRS[1]
    payload = qr_payload(etree.fromstring(build_receipt(r, despatch)))
    assert payload["vkntckn"] == r.customer.identifier
    assert payload["avkntckn"] == r.supplier.identifier
    assert payload["irsaliyeettn"] == r.despatch_ettn.upper()
    assert payload["irsaliyetarihi"] == r.despatch_date.isoformat()
    assert payload["no"] == r.number and payload["tip"] == "SEVK"


def _documents() -> list[tuple[str, bytes]]:
    despatch = rich_despatch()
    receipt = next(r for d, r in PAIRS if d is despatch)
    return [
        ("despatch", build_despatch(despatch)),
        ("receipt", build_receipt(receipt, despatch)),
    ]


def decoded(image: Any) -> list[dict[str, str]]:
    import zxingcpp

    return [json.loads(r.text) for r in zxingcpp.read_barcodes(image) if r.text]


@pytest.mark.parametrize("dpi", [96, 216])
@pytest.mark.parametrize(("kind", "xml"), _documents())
def test_the_qr_code_in_the_pdf_decodes(kind: str, xml: bytes, dpi: int) -> None:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(render_pdf(html_view(xml).html))
    image = pdf[0].render(scale=dpi / 72).to_pil()
    assert decoded(image) == [qr_payload(etree.fromstring(xml))]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize(("kind", "xml"), _documents())
def test_the_qr_code_in_the_html_decodes_in_a_browser(
    kind: str, xml: bytes, tmp_path: Path
) -> None:
    from PIL import Image

    page = tmp_path / "view.html"
    page.write_text(html_view(xml).html, encoding="utf-8")
    shot = tmp_path / "view.png"
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    subprocess.run(
        [*browser, f"--screenshot={shot}", "--window-size=1240,1754", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert decoded(Image.open(shot)) == [qr_payload(etree.fromstring(xml))]


@pytest.mark.parametrize(("kind", "xml"), _documents())
def test_the_pdf_carries_the_essentials(kind: str, xml: bytes) -> None:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(render_pdf(html_view(xml).html))
    text = " ".join(pdf[0].get_textpage().get_text_range().split())
    root = etree.fromstring(xml)
    assert (root.findtext("{*}ID") or "") in text
    if kind == "despatch":
        assert "e-İRSALİYE" in text and "Dorse plaka numarası" in text and "Şoför" in text
    else:
        assert "İRSALİYE YANITI" in text and "Kabul Edilen" in text


@pytest.mark.parametrize(("kind", "xml"), _documents())
def test_a_despatch_own_stylesheet_is_used_and_ours_stands_in(kind: str, xml: bytes) -> None:
    own = _with(xml, XSL.replace(b"BODY", b"<p>OWN VIEW</p>"))
    view = html_view(own)
    assert view.source == "document" and "OWN VIEW" in view.html
    assert 'id="karekod"' in view.html  # the QR code is added to a document's own view
    assert render_html(_with(xml, b"<xsl:stylesheet"))[1] == "entegrator"
    assert html_view(own, own_stylesheet=False).source == "entegrator"


@pytest.mark.parametrize(("kind", "xml"), _documents())
def test_a_cancelled_despatch_view_is_marked(kind: str, xml: bytes) -> None:
    assert "İPTAL EDİLMİŞTİR" not in html_view(xml).html
    assert "İPTAL EDİLMİŞTİR" in text_of(html_view(xml, cancelled=True).html)


def test_the_limited_renderer_the_api_uses_draws_both_views() -> None:
    """The API's /html and /pdf routes go through the limited renderer with the stored XML."""
    docs = _documents()

    async def main() -> list[tuple[str, str, bytes]]:
        renderer = Renderer(RenderLimits())
        try:
            out = []
            for _, xml in docs:
                view = await renderer.html(xml)
                pdf = await renderer.pdf(xml)
                out.append((view.source, view.html, pdf.pdf))
            return out
        finally:
            await renderer.aclose()

    (d_source, d_html, d_pdf), (r_source, r_html, r_pdf) = asyncio.run(main())
    assert d_source == r_source == "entegrator"
    assert "e-İRSALİYE" in text_of(d_html) and "İRSALİYE YANITI" in text_of(r_html)
    assert d_pdf.startswith(b"%PDF-") and r_pdf.startswith(b"%PDF-")


def test_an_invoice_still_gets_the_invoice_view() -> None:
    shown = text_of(html_view(build_invoice(draft())).html)
    assert "e-FATURA" in shown and "e-İRSALİYE" not in shown


GIB_SAMPLES = Path("/work/shared/gib-packages/samples/gib")


def _others() -> list[Path]:
    """Despatches and answers others wrote: GİB's samples and the public corpus's."""
    found = sorted(GIB_SAMPLES.glob("*advice/*.xml"))
    manifest = CORPUS / "external" / "manifest.json"
    if manifest.is_file():
        entries = json.loads(manifest.read_text(encoding="utf-8"))
        found += [
            CORPUS / "external" / e["file"]
            for e in entries
            if e["kind"] in ("DespatchAdvice", "ReceiptAdvice")
        ]
    return found


@pytest.mark.parametrize("path", _others(), ids=lambda p: p.name)
def test_what_others_wrote_is_shown_with_our_view(path: Path) -> None:
    xml = path.read_bytes()
    try:
        root = safe_xml.parse(xml)
    except XMLError:  # not well-formed for us: the view says so too, it does not crash
        with pytest.raises(XMLError):
            html_view(xml)
        return
    view = html_view(xml, own_stylesheet=False)
    shown = text_of(view.html)
    title = "e-İRSALİYE" if etree.QName(root).localname == "DespatchAdvice" else "İRSALİYE YANITI"
    assert view.source == "entegrator" and title in shown
    number = root.findtext("{*}ID") or ""
    assert number.strip() in shown
    names = [" ".join(n.text.split()) for n in root.iterfind("{*}*/{*}Item/{*}Name") if n.text]
    assert all(name in shown for name in names)
    labels = [
        (x.get("schemeID"), (x.text or "").strip())
        for x in root.iterfind("{*}DespatchLine/{*}Item/{*}AdditionalItemIdentification/{*}ID")
    ]
    for scheme, value in labels:
        label = {"KUNYENO": "Künye Numarası", "ETIKETNO": "Etiket Numarası"}.get(scheme or "")
        assert f"{label or scheme}: {value}" in shown


def test_others_include_both_kinds() -> None:
    kinds = {p.parent.name for p in _others() if p.parent.parent == GIB_SAMPLES}
    assert kinds == {"despatchadvice", "receiptadvice"}
