"""The pure document core: UBL-TR drafts, totals, XML build and parse (no I/O).

>>> from entegrator.documents import InvoiceDraft, build_invoice, parse_invoice
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entegrator.documents.build import build_invoice
    from entegrator.documents.checks import check_draft, ensure_buildable, normalize
    from entegrator.documents.codes import InvoiceTypeCode, ProfileID
    from entegrator.documents.earsiv import EArsivFields, read_earsiv
    from entegrator.documents.errors import (
        CombinationError,
        DocumentError,
        DraftError,
        IdentifierError,
        MalformedJSONError,
        ParseError,
        Problem,
        UnsafeXMLError,
        XMLError,
    )
    from entegrator.documents.model import (
        Address,
        AllowanceCharge,
        Carrier,
        Contact,
        Delivery,
        DocumentReference,
        InternetSale,
        InvoiceDraft,
        ItemIdentifier,
        Line,
        LineDelivery,
        OtherTax,
        Party,
        PartyIdentifier,
        PaymentMeans,
        PaymentTerms,
        Period,
    )
    from entegrator.documents.parse import parse_invoice
    from entegrator.documents.read import read_draft
    from entegrator.documents.totals import InvoiceTotals, compute
    from entegrator.documents.words import amount_in_words

# Names load on first use: importing one submodule (safe_xml, codes) stays cheap.
_LAZY = {
    "build_invoice": "entegrator.documents.build",
    "check_draft": "entegrator.documents.checks",
    "ensure_buildable": "entegrator.documents.checks",
    "normalize": "entegrator.documents.checks",
    "InvoiceTypeCode": "entegrator.documents.codes",
    "ProfileID": "entegrator.documents.codes",
    "EArsivFields": "entegrator.documents.earsiv",
    "read_earsiv": "entegrator.documents.earsiv",
    "CombinationError": "entegrator.documents.errors",
    "DocumentError": "entegrator.documents.errors",
    "DraftError": "entegrator.documents.errors",
    "IdentifierError": "entegrator.documents.errors",
    "MalformedJSONError": "entegrator.documents.errors",
    "ParseError": "entegrator.documents.errors",
    "Problem": "entegrator.documents.errors",
    "UnsafeXMLError": "entegrator.documents.errors",
    "XMLError": "entegrator.documents.errors",
    "Address": "entegrator.documents.model",
    "AllowanceCharge": "entegrator.documents.model",
    "Carrier": "entegrator.documents.model",
    "Contact": "entegrator.documents.model",
    "Delivery": "entegrator.documents.model",
    "DocumentReference": "entegrator.documents.model",
    "InternetSale": "entegrator.documents.model",
    "InvoiceDraft": "entegrator.documents.model",
    "ItemIdentifier": "entegrator.documents.model",
    "Line": "entegrator.documents.model",
    "LineDelivery": "entegrator.documents.model",
    "OtherTax": "entegrator.documents.model",
    "Party": "entegrator.documents.model",
    "PartyIdentifier": "entegrator.documents.model",
    "PaymentMeans": "entegrator.documents.model",
    "PaymentTerms": "entegrator.documents.model",
    "Period": "entegrator.documents.model",
    "parse_invoice": "entegrator.documents.parse",
    "read_draft": "entegrator.documents.read",
    "InvoiceTotals": "entegrator.documents.totals",
    "compute": "entegrator.documents.totals",
    "amount_in_words": "entegrator.documents.words",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Address",
    "AllowanceCharge",
    "Carrier",
    "CombinationError",
    "Contact",
    "Delivery",
    "DocumentError",
    "DocumentReference",
    "DraftError",
    "EArsivFields",
    "IdentifierError",
    "InternetSale",
    "InvoiceDraft",
    "InvoiceTotals",
    "InvoiceTypeCode",
    "ItemIdentifier",
    "Line",
    "LineDelivery",
    "MalformedJSONError",
    "OtherTax",
    "ParseError",
    "Party",
    "PartyIdentifier",
    "PaymentMeans",
    "PaymentTerms",
    "Period",
    "Problem",
    "ProfileID",
    "UnsafeXMLError",
    "XMLError",
    "amount_in_words",
    "build_invoice",
    "check_draft",
    "compute",
    "ensure_buildable",
    "normalize",
    "parse_invoice",
    "read_draft",
    "read_earsiv",
]
