"""Human views of documents: HTML through an XSLT (the document's own or ours), PDF, QR code.

A document may carry its stylesheet (``AdditionalDocumentReference`` with an ``.xslt``
attachment); receivers render it with that. The stylesheet comes from outside, so it runs
with every file and network access denied, may not pull in other stylesheets
(``xsl:include``/``xsl:import``), and the HTML it produces is served with a content security
policy that allows no script and no outside resource. Its PDF keeps only ``http``/``https``/
``mailto`` links and links inside the document.

The functions here render in the calling process without time or memory limits: a server
renders documents from outside through :class:`entegrator.rendering.sandbox.Renderer`, which runs
them in limited child processes and falls back to entegrator's own view.

The QR code (karekod) carries the fields GİB's standard view encodes since 2023 [practice:
the key names follow GİB's published e-Fatura stylesheet].
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.errors import XMLError
from entegrator.documents.ns import CAC, CBC, DESPATCH, RECEIPT

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "HtmlView",
    "embedded_stylesheet",
    "html_view",
    "qr_payload",
    "qr_svg",
    "render_html",
    "render_pdf",
    "with_logo",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "sandbox; base-uri 'none'; form-action 'none'"
)
MAX_STYLESHEET_BYTES = 5 * 1024 * 1024
MAX_HTML_BYTES = 20 * 1024 * 1024

_ACCESS = etree.XSLTAccessControl.DENY_ALL  # type: ignore[attr-defined]
_XSL = "{http://www.w3.org/1999/XSL/Transform}"
# Links a PDF may keep: the web, e-mail; anything else (javascript:, file:, data:…) is dropped.
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


# Our stylesheet for each kind of document, by the root element's namespace; anything else
# (an Invoice) gets the invoice view.
_STYLESHEETS = {DESPATCH: "despatch.xslt", RECEIPT: "despatch.xslt"}


@cache
def _stylesheet(name: str) -> etree.XSLT:
    data = resources.files("entegrator.rendering").joinpath(name).read_bytes()
    return etree.XSLT(etree.fromstring(data), access_control=_ACCESS)


def _default_stylesheet(root: etree._Element) -> etree.XSLT:
    """entegrator's view for the document: e-İrsaliye, irsaliye yanıtı or invoice."""
    return _stylesheet(_STYLESHEETS.get(etree.QName(root).namespace or "", "invoice.xslt"))


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


def _party_id(root: etree._Element, role: str) -> str:
    for node in root.iterfind(f"{CAC}{role}/{CAC}Party/{CAC}PartyIdentification/{CBC}ID"):
        if node.get("schemeID") in ("VKN", "TCKN"):
            return (node.text or "").strip()
    return ""


def _text(root: etree._Element, path: str) -> str:
    return (root.findtext(path) or "").strip()


def _despatch_qr(root: etree._Element) -> dict[str, str]:
    """The karekod fields of an e-İrsaliye, with the keys of GİB's e-İrsaliye view."""
    shipment = f"{CAC}Shipment"
    despatch = f"{shipment}/{CAC}Delivery/{CAC}Despatch"
    carrier = ""
    for node in root.iterfind(
        f"{shipment}/{CAC}Delivery/{CAC}CarrierParty/{CAC}PartyIdentification/{CBC}ID"
    ):
        if node.get("schemeID") in ("VKN", "TCKN"):
            carrier = (node.text or "").strip()
            break
    return {
        "vkntckn": _party_id(root, "DespatchSupplierParty"),
        "avkntckn": _party_id(root, "DeliveryCustomerParty"),
        "senaryo": _text(root, f"{CBC}ProfileID"),
        "tip": _text(root, f"{CBC}DespatchAdviceTypeCode"),
        "tarih": _text(root, f"{CBC}IssueDate"),
        "no": _text(root, f"{CBC}ID"),
        "ettn": _text(root, f"{CBC}UUID"),
        "sevktarihi": _text(root, f"{despatch}/{CBC}ActualDespatchDate"),
        "sevkzamani": _text(root, f"{despatch}/{CBC}ActualDespatchTime"),
        "tasiyicivkn": carrier,
        "plaka": _text(
            root,
            f"{shipment}/{CAC}ShipmentStage/{CAC}TransportMeans/{CAC}RoadTransport/"
            f"{CBC}LicensePlateID",
        ),
    }


def _receipt_qr(root: etree._Element) -> dict[str, str]:
    """The karekod fields of an irsaliye yanıtı. GİB's view of the answer draws no QR code;
    ours follows the despatch's keys: the answer's issuer (the receiver of the goods) is
    ``vkntckn``, the sender ``avkntckn``, and ``irsaliyeettn``/``irsaliyetarihi`` name the
    despatch it answers [practice]."""
    ref = f"{CAC}DespatchDocumentReference"
    return {
        "vkntckn": _party_id(root, "DeliveryCustomerParty"),
        "avkntckn": _party_id(root, "DespatchSupplierParty"),
        "senaryo": _text(root, f"{CBC}ProfileID"),
        "tip": _text(root, f"{CBC}ReceiptAdviceTypeCode"),
        "tarih": _text(root, f"{CBC}IssueDate"),
        "no": _text(root, f"{CBC}ID"),
        "ettn": _text(root, f"{CBC}UUID"),
        "irsaliyeettn": _text(root, f"{ref}/{CBC}ID"),
        "irsaliyetarihi": _text(root, f"{ref}/{CBC}IssueDate"),
        "teslimtarihi": _text(root, f"{CAC}Shipment/{CAC}Delivery/{CBC}ActualDeliveryDate"),
    }


def qr_payload(root: etree._Element) -> dict[str, str]:
    """The karekod fields of a document (JSON object, values as text): an invoice's, an
    e-İrsaliye's (``DespatchAdvice``) or an irsaliye yanıtı's (``ReceiptAdvice``)."""
    namespace = etree.QName(root).namespace
    if namespace == DESPATCH:
        return _despatch_qr(root)
    if namespace == RECEIPT:
        return _receipt_qr(root)
    return _invoice_qr(root)


def _invoice_qr(root: etree._Element) -> dict[str, str]:
    """The karekod fields of an invoice."""
    total = root.find(f"{CAC}LegalMonetaryTotal")

    def money(name: str) -> str:
        return _decimal(total.findtext(f"{CBC}{name}") if total is not None else None)

    data: dict[str, str] = {
        "vkntckn": _party_id(root, "AccountingSupplierParty"),
        "avkntckn": _party_id(root, "AccountingCustomerParty"),
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
    """An inline SVG QR code for ``text`` (error correction M, a quiet zone of 4 modules).

    The SVG has a ``viewBox`` and no size of its own, so the stylesheet's CSS scales the whole
    code into its box; with a fixed width and height a smaller box clipped it and the code
    did not decode."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        out, kind="svg", xmldecl=False, svgns=True, nl=False, border=4, omitsize=True
    )
    return out.getvalue().decode()


@dataclass(frozen=True)
class HtmlView:
    """An HTML view, which stylesheet made it, and why ours stood in for the document's own.

    ``source`` is ``document`` or ``entegrator``; ``fallback`` is None when nothing went wrong,
    else ``stylesheet-error`` (does not compile or stops with an error), ``stylesheet-refused``
    (pulls in other stylesheets) or ``output-too-large``; the sandbox adds ``time-limit``,
    ``memory-limit`` and ``crash``.
    """

    html: str
    source: str
    fallback: str | None = None


class _RefusedError(Exception):
    """The document's stylesheet asks for something it may not have."""


def _own_stylesheet(data: bytes) -> etree.XSLT:
    """Compile a document's stylesheet; raise :class:`_RefusedError` or an lxml error."""
    root = safe_xml.parse(data, max_bytes=MAX_STYLESHEET_BYTES)
    # libxslt loads included and imported stylesheets while compiling, before any access
    # control of the transformation applies: a stylesheet from outside may name none.
    if next(root.iter(f"{_XSL}include", f"{_XSL}import"), None) is not None:
        raise _RefusedError
    return etree.XSLT(root, access_control=_ACCESS)


def html_view(xml: bytes, *, own_stylesheet: bool = True, cancelled: bool = False) -> HtmlView:
    """The HTML view of a stored document (invoice, e-İrsaliye or irsaliye yanıtı, by its
    root element), with the QR code.

    With ``own_stylesheet`` the document's own XSLT is used when it carries one; one that does
    not compile, is refused, fails or writes more than ``MAX_HTML_BYTES`` leaves the view to ours.
    ``cancelled`` (the caller knows the document's status) marks the view "İPTAL EDİLMİŞTİR".
    """
    root = safe_xml.parse(xml)
    own = embedded_stylesheet(root) if own_stylesheet else None
    html: str | None = None
    fallback: str | None = None
    if own is not None:
        try:
            html = str(_own_stylesheet(own)(root.getroottree()))
        except _RefusedError:
            fallback = "stylesheet-refused"
        except (etree.XSLTParseError, etree.XSLTApplyError, etree.XMLSyntaxError, XMLError):
            fallback = "stylesheet-error"
        except ValueError:  # e.g. a stylesheet that is not UTF-8 text
            fallback = "stylesheet-error"
        if html is not None and len(html) > MAX_HTML_BYTES:
            html, fallback = None, "output-too-large"
    if html is None:
        flag = etree.XSLT.strparam("1" if cancelled else "")
        made = _default_stylesheet(root)(root.getroottree(), cancelled=flag)
        view = HtmlView(str(made), "entegrator", fallback)
    else:
        view = HtmlView(_with_banner(html) if cancelled else html, "document")
    return HtmlView(_with_qr(view.html, qr_payload(root)), view.source, view.fallback)


CANCELLED = "İPTAL EDİLMİŞTİR"
_BANNER = (
    '<div class="iptal" style="border:3px solid #c00;color:#c00;font-size:20pt;'
    f'font-weight:bold;text-align:center;padding:2mm;margin:2mm 0">{CANCELLED}</div>'
)


def _with_banner(html: str) -> str:
    """A document's own view, marked as cancelled at the top of its body."""
    match = re.search(r"<body[^>]*>", html, flags=re.IGNORECASE)
    if match is None:
        return _BANNER + html
    return html[: match.end()] + _BANNER + html[match.end() :]


#: The logo media a view may print (what the portal accepts).
LOGO_MEDIA = frozenset({"image/png", "image/jpeg"})


def with_logo(html: str, logo: tuple[bytes, str] | None) -> str:
    """entegrator's view with the issuer's logo (PNG or JPEG bytes and their media type) at
    the top of its body, inline as a ``data:`` image (the views fetch nothing from outside).
    Without a logo, or with another media type, the view is returned unchanged.

    >>> with_logo("<html><body><p>x</p></body></html>", (b"PNG", "image/png"))[:79]
    '<html><body><div class="firma-logo" style="float:left;margin:0 4mm 2mm 0"><img '
    >>> with_logo("<body></body>", (b"GIF89a", "image/gif"))
    '<body></body>'
    """
    if logo is None or logo[1] not in LOGO_MEDIA or not logo[0]:
        return html
    data = base64.b64encode(logo[0]).decode("ascii")
    block = (
        '<div class="firma-logo" style="float:left;margin:0 4mm 2mm 0">'
        f'<img alt="Logo" src="data:{logo[1]};base64,{data}" '
        'style="max-height:22mm;max-width:55mm"></div>'
    )
    match = re.search(r"<body[^>]*>", html, flags=re.IGNORECASE)
    if match is None:
        return block + html
    return html[: match.end()] + block + html[match.end() :]


def render_html(xml: bytes) -> tuple[str, str]:
    """HTML for a stored document and which stylesheet made it (``document`` or ``entegrator``).

    A document whose own stylesheet fails (bad XSLT, runaway template) is shown with ours.
    """
    view = html_view(xml)
    return view.html, view.source


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


def _allowed_link(link_type: str, target: str) -> bool:
    if link_type == "internal":
        return True
    if link_type != "external":  # attachments embed a file in the PDF
        return False
    try:
        return urlsplit(target.strip()).scheme.lower() in _LINK_SCHEMES
    except ValueError:
        return False


def render_pdf(html: str) -> bytes:
    """A PDF of the HTML view (A4), with no outside resource fetched.

    Links other than ``http``/``https``/``mailto`` and those inside the document (a
    ``javascript:`` one from a document's own stylesheet) are left out of the PDF.
    """
    import warnings

    with warnings.catch_warnings():  # a missing optional font-subsetting library is not fatal
        warnings.simplefilter("ignore", DeprecationWarning)
        import weasyprint
        from weasyprint.urls import URLFetcher

    # Inline ``data:`` images only: nothing from the network or the file system.
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render()
    for page in document.pages:
        page.links[:] = [link for link in page.links if _allowed_link(link[0], link[1])]
    pdf = document.write_pdf()
    if pdf is None:  # WeasyPrint returns None only when given a target to write to
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)
