"""XML namespaces of UBL-TR documents (``ubl-tr.md`` §1)."""

from __future__ import annotations

__all__ = [
    "CAC",
    "CBC",
    "DESPATCH",
    "EXT",
    "INVOICE",
    "NSMAP",
    "RECEIPT",
    "UNSIGNED",
    "XSI",
    "nsmap_for",
]

INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# The element that holds the signature's place in an unsigned document (ExtensionContent
# must contain exactly one element); signing replaces it with ds:Signature.
UNSIGNED = "{urn:entegrator:unsigned}Placeholder"

CAC = "{" + CAC_NS + "}"
CBC = "{" + CBC_NS + "}"
EXT = "{" + EXT_NS + "}"
XSI = "{" + XSI_NS + "}"

NSMAP = {None: INVOICE, "cac": CAC_NS, "cbc": CBC_NS, "ext": EXT_NS, "xsi": XSI_NS}

DESPATCH = "urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2"
RECEIPT = "urn:oasis:names:specification:ubl:schema:xsd:ReceiptAdvice-2"


def nsmap_for(default: str) -> dict[str | None, str]:
    """The namespace map of a UBL-TR document whose root lives in ``default``."""
    return {None: default, "cac": CAC_NS, "cbc": CBC_NS, "ext": EXT_NS, "xsi": XSI_NS}
