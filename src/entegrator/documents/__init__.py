"""The pure document core: UBL-TR drafts, totals, XML build and parse (no I/O).

>>> from entegrator.documents import InvoiceDraft, build_invoice, parse_invoice
"""

from entegrator.documents.build import build_invoice
from entegrator.documents.checks import check_draft, ensure_buildable, normalize
from entegrator.documents.codes import InvoiceTypeCode, ProfileID
from entegrator.documents.errors import (
    CombinationError,
    DocumentError,
    DraftError,
    IdentifierError,
    ParseError,
    Problem,
    UnsafeXMLError,
    XMLError,
)
from entegrator.documents.model import (
    Address,
    AllowanceCharge,
    Contact,
    Delivery,
    DocumentReference,
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
from entegrator.documents.totals import InvoiceTotals, compute
from entegrator.documents.words import amount_in_words

__all__ = [
    "Address",
    "AllowanceCharge",
    "CombinationError",
    "Contact",
    "Delivery",
    "DocumentError",
    "DocumentReference",
    "DraftError",
    "IdentifierError",
    "InvoiceDraft",
    "InvoiceTotals",
    "InvoiceTypeCode",
    "ItemIdentifier",
    "Line",
    "LineDelivery",
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
]
