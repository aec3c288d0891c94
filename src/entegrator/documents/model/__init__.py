"""Frozen pydantic models of UBL-TR documents as drafts (the platform's public input)."""

from entegrator.documents.model.despatch import (
    DespatchDraft,
    DespatchLine,
    DespatchShipment,
    Driver,
    ReceiptDraft,
    ReceiptLine,
)
from entegrator.documents.model.invoice import (
    AllowanceCharge,
    Carrier,
    Delivery,
    DocumentReference,
    InternetSale,
    InvoiceDraft,
    ItemIdentifier,
    Line,
    LineDelivery,
    OtherTax,
    PaymentMeans,
    PaymentTerms,
    Period,
)
from entegrator.documents.model.party import Address, Contact, Party, PartyIdentifier

__all__ = [
    "Address",
    "AllowanceCharge",
    "Carrier",
    "Contact",
    "Delivery",
    "DespatchDraft",
    "DespatchLine",
    "DespatchShipment",
    "DocumentReference",
    "Driver",
    "InternetSale",
    "InvoiceDraft",
    "ItemIdentifier",
    "Line",
    "LineDelivery",
    "OtherTax",
    "Party",
    "PartyIdentifier",
    "PaymentMeans",
    "PaymentTerms",
    "Period",
    "ReceiptDraft",
    "ReceiptLine",
]
