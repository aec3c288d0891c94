"""e-Arşiv parts of the invoice XML: the internet-sale marker, payment and shipment.

Where each field goes (``docs/earsiv.md`` "The e-Arşiv invoice" gives the reasons):

* the internet-sale marker: ``AdditionalDocumentReference`` with DocumentTypeCode
  ``EArchiveType`` and DocumentType ``INTERNET`` (as in the integrators' e-Arşiv samples);
* ödeme şekli, aracı, tarih: a ``PaymentMeans`` whose InstructionNote is GİB's ödeme şekli
  exactly as the report writes it, PaymentChannelCode the payment intermediary, and
  PaymentDueDate the payment date;
* gönderi: ``Delivery/CarrierParty`` (VKN + unvan, or TCKN + ad soyad) and
  ``Delivery/Despatch/ActualDespatchDate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from entegrator.documents.codes import EARCHIVE_TYPE, INTERNET, INTERNET_PAYMENT_MEANS
from entegrator.documents.model import InvoiceDraft
from entegrator.documents.ns import CAC, CBC

if TYPE_CHECKING:
    from lxml import etree

    from entegrator.documents.build.invoice import _Writer

__all__ = ["carrier_and_despatch", "internet_marker", "internet_payment"]


def internet_marker(w: _Writer, root: etree._Element, d: InvoiceDraft) -> None:
    """The reference that marks an internet sale (after the SendingType reference)."""
    if d.internet_sale is None or d.number is None:
        return
    node = w.el(root, CAC + "AdditionalDocumentReference")
    w.el(node, CBC + "ID", d.number)
    w.date(node, CBC + "IssueDate", d.issue_date)
    w.el(node, CBC + "DocumentTypeCode", EARCHIVE_TYPE)
    w.el(node, CBC + "DocumentType", INTERNET)


def internet_payment(w: _Writer, root: etree._Element, d: InvoiceDraft) -> None:
    """The internet sale's PaymentMeans (before the draft's own payment means)."""
    sale = d.internet_sale
    if sale is None:
        return
    node = w.el(root, CAC + "PaymentMeans")
    kind = sale.payment_type.split(" ", 1)[0]
    w.el(node, CBC + "PaymentMeansCode", INTERNET_PAYMENT_MEANS[kind])
    w.date(node, CBC + "PaymentDueDate", sale.payment_date)
    w.opt(node, CBC + "PaymentChannelCode", sale.payment_intermediary)
    w.el(node, CBC + "InstructionNote", sale.payment_type)


def carrier_and_despatch(w: _Writer, delivery: etree._Element, d: InvoiceDraft) -> None:
    """CarrierParty and Despatch inside the document's Delivery (UBL order: after the
    delivery address, before the delivery terms)."""
    sale = d.internet_sale
    if sale is None:
        return
    c = sale.carrier
    party = w.el(delivery, CAC + "CarrierParty")
    scheme, ident = ("VKN", c.vkn) if c.vkn else ("TCKN", c.tckn or "")
    w.el(w.el(party, CAC + "PartyIdentification"), CBC + "ID", ident, schemeID=scheme)
    if c.name:
        w.el(w.el(party, CAC + "PartyName"), CBC + "Name", c.name)
    w.address(party, CAC + "PostalAddress", c.address)
    if c.first_name and c.family_name:
        person = w.el(party, CAC + "Person")
        w.el(person, CBC + "FirstName", c.first_name)
        w.el(person, CBC + "FamilyName", c.family_name)
    despatch = w.el(delivery, CAC + "Despatch")
    w.date(despatch, CBC + "ActualDespatchDate", sale.shipment_date)
