"""The invoice view: QR payload, entegrator's stylesheet, hostile stylesheets, PDF."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from lxml import etree

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.rendering import (
    embedded_stylesheet,
    html_view,
    qr_payload,
    qr_svg,
    render_html,
    render_pdf,
)
from tests.rendering.stylesheets import pdf_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "invoice.json"


@pytest.fixture(scope="module")
def xml() -> bytes:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data |= {"number": "EFA2026000000007", "ettn": "0D3E8AE2-8D75-4C8B-9D5B-A8C1E8F6A001"}
    return build_invoice(InvoiceDraft.model_validate(data))


def test_the_qr_payload_carries_gibs_fields(xml: bytes) -> None:
    payload = qr_payload(etree.fromstring(xml))
    assert payload == {
        "vkntckn": "8799758740",
        "avkntckn": "7047649710",
        "senaryo": "TEMELFATURA",
        "tip": "SATIS",
        "tarih": "2026-11-24",
        "no": "EFA2026000000007",
        "ettn": "0D3E8AE2-8D75-4C8B-9D5B-A8C1E8F6A001",
        "parabirimi": "TRY",
        "malhizmettoplam": "6000",
        "kdvmatrah(20)": "6000",
        "hesaplanankdv(20)": "1200",
        "vergidahil": "7200",
        "odenecek": "7200",
    }
    svg = qr_svg(json.dumps(payload))
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")


def test_entegrators_view_shows_the_invoice(xml: bytes) -> None:
    html, source = render_html(xml)
    assert source == "entegrator"
    for text in (
        "e-FATURA",
        "EFA2026000000007",
        "Örnek Yazılım A.Ş.",
        "Işık Tekstil",
        "Yazılım lisansı",
        "7.200,00 TL",
        "Adet",
        "Saat",
        "<svg",
    ):
        assert text in html, text
    assert html.count('id="karekod"') == 1
    assert render_pdf(html).startswith(b"%PDF-")


def _with(xml: bytes, stylesheet: bytes, filename: str = "own.xslt") -> bytes:
    cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    root = etree.fromstring(xml)
    ref = etree.Element(f"{{{cac}}}AdditionalDocumentReference")
    etree.SubElement(ref, f"{{{cbc}}}ID").text = "x"
    etree.SubElement(ref, f"{{{cbc}}}IssueDate").text = "2026-11-24"
    att = etree.SubElement(
        etree.SubElement(ref, f"{{{cac}}}Attachment"), f"{{{cbc}}}EmbeddedDocumentBinaryObject"
    )
    att.set("filename", filename)
    att.text = base64.b64encode(stylesheet).decode()
    root.find(f"{{{cac}}}Signature").addprevious(ref)  # type: ignore[union-attr]
    return etree.tostring(root)


XSL = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:template match="/">BODY</xsl:template></xsl:stylesheet>"""


def test_a_broken_or_runaway_stylesheet_falls_back_to_ours(xml: bytes) -> None:
    broken = _with(xml, b"<xsl:stylesheet")
    assert embedded_stylesheet(etree.fromstring(broken)) == b"<xsl:stylesheet"
    assert render_html(broken)[1] == "entegrator"
    runaway = XSL.replace(
        b'<xsl:template match="/">BODY</xsl:template>',
        b'<xsl:template match="/"><xsl:call-template name="r"/></xsl:template>'
        b'<xsl:template name="r"><xsl:call-template name="r"/></xsl:template>',
    )
    html, source = render_html(_with(xml, runaway))
    assert source == "entegrator"
    assert "EFA2026000000007" in html


def test_a_stylesheet_cannot_read_files_or_write_them(xml: bytes, tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    reads = XSL.replace(b"BODY", b"<xsl:copy-of select=\"document('/etc/passwd')\"/>")
    html, _ = render_html(_with(xml, reads))
    assert "root:" not in html
    writes = (
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
        b'xmlns:exsl="http://exslt.org/common" extension-element-prefixes="exsl">'
        b'<xsl:template match="/"><exsl:document href="' + str(target).encode() + b'">x'
        b"</exsl:document>ok</xsl:template></xsl:stylesheet>"
    )
    render_html(_with(xml, writes))
    assert not target.exists()
    # A DOCTYPE in the attached stylesheet is refused like any outside XML.
    entity = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + XSL.replace(
        b"BODY", b"&e;"
    )
    html, source = render_html(_with(xml, entity))
    assert source == "entegrator" and "root:" not in html


def test_the_pdf_renderer_fetches_nothing_from_outside(xml: bytes) -> None:
    own = XSL.replace(b"BODY", b'<img src="http://127.0.0.1:9/x.png"/><p>ok</p>')
    html, source = render_html(_with(xml, own))
    assert source == "document"
    assert render_pdf(html).startswith(b"%PDF-")  # the image is skipped, not fetched


@pytest.mark.parametrize("element", ["include", "import"])
def test_a_stylesheet_cannot_pull_in_a_local_stylesheet(
    xml: bytes, tmp_path: Path, element: str
) -> None:
    local = tmp_path / "local.xsl"
    local.write_bytes(
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        b'<xsl:template name="s">LOCAL-SECRET</xsl:template></xsl:stylesheet>'
    )
    own = (
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        b"<xsl:" + element.encode() + b' href="' + local.as_uri().encode() + b'"/>'
        b'<xsl:template match="/"><xsl:call-template name="s"/></xsl:template></xsl:stylesheet>'
    )
    view = html_view(_with(xml, own))
    assert (view.source, view.fallback) == ("entegrator", "stylesheet-refused")
    assert "LOCAL-SECRET" not in view.html
    assert "EFA2026000000007" in view.html


def test_the_pdf_keeps_only_web_mail_and_inner_links(xml: bytes) -> None:
    own = XSL.replace(
        b"BODY",
        b'<p><a href="javascript:alert(document.domain)">pay</a>'
        b' <a href=" JavaScript:alert(2)">pay</a> <a href="file:///etc/passwd">file</a>'
        b' <a href="https://example.com/fatura">web</a> <a href="mailto:a@example.com">mail</a>'
        b' <a href="#end">end</a></p><p id="end">end</p>',
    )
    html, source = render_html(_with(xml, own))
    assert source == "document"
    text = pdf_text(render_pdf(html))
    assert b"/URI" in text  # the check below reads the link annotations
    assert b"javascript" not in text.lower() and b"/JS" not in text
    assert b"file:" not in text
    assert b"https://example.com/fatura" in text and b"mailto:a@example.com" in text
