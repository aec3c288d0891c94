"""e-Arşiv bilgileri: the e-Arşiv fields of a built (or signed) invoice, read back.

What the e-Arşiv report (``gonderimSekli``, ``internetSatisBilgi``) and the buyer's delivery
need from an EARSIVFATURA invoice, read from its XML the way
:mod:`entegrator.documents.build` writes it (``docs/earsiv.md``, "The e-Arşiv invoice"):

>>> from entegrator.documents import read_earsiv
>>> read_earsiv(b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>")
EArsivFields(sending_type=None, website=None, internet_sale=None)
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from pydantic import ValidationError

from entegrator.documents._validation import problems_from_validation
from entegrator.documents.codes import SENDING_TYPE
from entegrator.documents.errors import ParseError
from entegrator.documents.model import InternetSale
from entegrator.documents.ns import CAC, CBC, INVOICE
from entegrator.documents.parse.invoice import internet_sale_data
from entegrator.documents.safe_xml import parse as safe_parse

__all__ = ["EArsivFields", "read_earsiv"]


@dataclass(frozen=True, slots=True)
class EArsivFields:
    """The e-Arşiv fields of one invoice.

    ``sending_type`` is gönderim şekli (KAGIT or ELEKTRONIK), ``website`` the supplier's
    WebsiteURI (the report's ``webAdresi``), ``internet_sale`` the internet-sale data when
    the invoice is marked as an internet sale.
    """

    sending_type: str | None
    website: str | None
    internet_sale: InternetSale | None


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path)
    value = (found.text or "").strip() if found is not None else ""
    return value or None


def read_earsiv(data: bytes | etree._Element) -> EArsivFields:
    """The e-Arşiv fields of an invoice (XML bytes, parsed safely, or a parsed root).

    Raises :class:`ParseError` when the root is not an Invoice or the invoice is marked as an
    internet sale but its internet-sale fields are missing or malformed.
    """
    root = safe_parse(data) if isinstance(data, bytes) else data
    if root.tag != "{" + INVOICE + "}Invoice":
        raise ParseError(
            detail_tr=f"kök eleman Invoice değil: {root.tag}",
            detail_en=f"root element is not an Invoice: {root.tag}",
            where="/",
        )
    sending = None
    for ref in root.iterfind(CAC + "AdditionalDocumentReference"):
        if _text(ref, CBC + "DocumentTypeCode") == SENDING_TYPE:
            sending = _text(ref, CBC + "DocumentType")
    website = _text(root, CAC + "AccountingSupplierParty/" + CAC + "Party/" + CBC + "WebsiteURI")
    data_ = internet_sale_data(root)
    sale = None
    if data_ is not None:
        try:
            sale = InternetSale.model_validate(data_)
        except ValidationError as exc:
            first = problems_from_validation(exc)[0]
            raise ParseError(
                detail_tr=f"internet_sale.{first.where}: {first.message_tr}",
                detail_en=f"internet_sale.{first.where}: {first.message_en}",
                where=f"internet_sale.{first.where}",
            ) from None
    return EArsivFields(sending_type=sending, website=website, internet_sale=sale)
