"""Human views of documents: HTML through an XSLT (the document's own or ours), PDF, QR code.

A document may carry its stylesheet (``AdditionalDocumentReference`` with an ``.xslt``
attachment); receivers render it with that. The stylesheet comes from outside, so it runs
with every file and network access denied, and the HTML it produces is served with a
content security policy that allows no script and no outside resource.

The QR code (karekod) carries the fields GİB's standard view encodes since 2023 [practice:
the key names follow GİB's published e-Fatura stylesheet].
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.errors import XMLError
from entegrator.documents.ns import CAC, CBC

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "embedded_stylesheet",
    "qr_payload",
    "qr_svg",
    "render_html",
    "render_pdf",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "sandbox; base-uri 'none'; form-action 'none'"
)
MAX_STYLESHEET_BYTES = 5 * 1024 * 1024
MAX_HTML_BYTES = 20 * 1024 * 1024

_ACCESS = etree.XSLTAccessControl.DENY_ALL  # type: ignore[attr-defined]


@cache
def _default_stylesheet() -> etree.XSLT:
    data = resources.files("entegrator.views").joinpath("invoice.xslt").read_bytes()
    return etree.XSLT(etree.fromstring(data), access_control=_ACCESS)


def embedded_stylesheet(root: etree._Element) -> bytes | None:
    """The document's own XSLT (base64 attachment named ``*.xslt``), if it carries one."""
    for ref in root.iterfind(f"{CAC}AdditionalDocumentReference"):
        obj = ref.find(f"{CAC}Attachment/{CBC}EmbeddedDocumentBinaryObject")
        if obj is None or not obj.text:
            continue
        name = (obj.get("filename") or "").lower()
        kind = (ref.findtext(f"{CBC}DocumentType") or "").strip().upper()
        if name.endswith(".xslt") or kind == "XSLT":
            try:
                data = base64.b64decode(re.sub(r"\s+", "", obj.text), validate=True)
            except (binascii.Error, ValueError):
                return None
            return data if len(data) <= MAX_STYLESHEET_BYTES else None
    return None


def _decimal(text: str | None) -> str:
    try:
        value = Decimal((text or "0").strip())
    except InvalidOperation:
        return "0"
    return format(value.normalize(), "f") if value else "0"


def qr_payload(root: etree._Element) -> dict[str, str]:
    """The karekod fields of an invoice (JSON object, values as text)."""

    def party_id(role: str) -> str:
        for node in root.iterfind(f"{CAC}{role}/{CAC}Party/{CAC}PartyIdentification/{CBC}ID"):
            if node.get("schemeID") in ("VKN", "TCKN"):
                return (node.text or "").strip()
        return ""

    total = root.find(f"{CAC}LegalMonetaryTotal")

    def money(name: str) -> str:
        return _decimal(total.findtext(f"{CBC}{name}") if total is not None else None)

    data: dict[str, str] = {
        "vkntckn": party_id("AccountingSupplierParty"),
        "avkntckn": party_id("AccountingCustomerParty"),
        "senaryo": (root.findtext(f"{CBC}ProfileID") or "").strip(),
        "tip": (root.findtext(f"{CBC}InvoiceTypeCode") or "").strip(),
        "tarih": (root.findtext(f"{CBC}IssueDate") or "").strip(),
        "no": (root.findtext(f"{CBC}ID") or "").strip(),
        "ettn": (root.findtext(f"{CBC}UUID") or "").strip(),
        "parabirimi": (root.findtext(f"{CBC}DocumentCurrencyCode") or "").strip(),
        "malhizmettoplam": money("LineExtensionAmount"),
    }
    for sub in root.iterfind(f"{CAC}TaxTotal/{CAC}TaxSubtotal"):
        if sub.findtext(f"{CAC}TaxCategory/{CAC}TaxScheme/{CBC}TaxTypeCode") != "0015":
            continue
        rate = _decimal(sub.findtext(f"{CBC}Percent"))
        data[f"kdvmatrah({rate})"] = _decimal(sub.findtext(f"{CBC}TaxableAmount"))
        data[f"hesaplanankdv({rate})"] = _decimal(sub.findtext(f"{CBC}TaxAmount"))
    data["vergidahil"] = money("TaxInclusiveAmount")
    data["odenecek"] = money("PayableAmount")
    return data


def qr_svg(text: str) -> str:
    """An inline SVG QR code for ``text`` (error correction M)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        out, kind="svg", xmldecl=False, svgns=True, nl=False, border=2, scale=4
    )
    return out.getvalue().decode()


def render_html(xml: bytes) -> tuple[str, str]:
    """HTML for a stored invoice and which stylesheet made it (``document`` or ``entegrator``).

    A document whose own stylesheet fails (bad XSLT, runaway template) is shown with ours.
    """
    root = safe_xml.parse(xml)
    stylesheet, source = _default_stylesheet(), "entegrator"
    own = embedded_stylesheet(root)
    if own is not None:
        try:
            xslt_root = safe_xml.parse(own, max_bytes=MAX_STYLESHEET_BYTES)
            stylesheet, source = etree.XSLT(xslt_root, access_control=_ACCESS), "document"
        except (etree.XSLTParseError, etree.XMLSyntaxError, XMLError, ValueError):
            pass  # not a usable stylesheet: ours shows the document
    try:
        result = stylesheet(root.getroottree())
    except etree.XSLTApplyError:
        if source == "entegrator":
            raise
        result, source = _default_stylesheet()(root.getroottree()), "entegrator"
    html = str(result)
    if len(html) > MAX_HTML_BYTES:
        html, source = str(_default_stylesheet()(root.getroottree())), "entegrator"
    return _with_qr(html, qr_payload(root)), source


def _with_qr(html: str, payload: dict[str, Any]) -> str:
    svg = qr_svg(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
    block = f'<div id="karekod" title="Karekod">{svg}</div>'
    if '<div id="karekod"></div>' in html:
        return html.replace('<div id="karekod"></div>', block, 1)
    if 'id="karekod"' in html:  # the stylesheet drew its own QR code
        return html
    match = re.search(r"<body[^>]*>", html, flags=re.IGNORECASE)
    if match is None:
        return block + html
    return html[: match.end()] + f'<div style="float:right">{block}</div>' + html[match.end() :]


def render_pdf(html: str) -> bytes:
    """A PDF of the HTML view (A4), with no outside resource fetched."""
    import warnings

    with warnings.catch_warnings():  # a missing optional font-subsetting library is not fatal
        warnings.simplefilter("ignore", DeprecationWarning)
        import weasyprint
        from weasyprint.urls import URLFetcher

    # Inline ``data:`` images only: nothing from the network or the file system.
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    pdf = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert pdf is not None
    return bytes(pdf)
