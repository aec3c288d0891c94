"""The tax figures of an invoice as its XML states them, for reports (KDV return, partners).

Read from the document-level ``cac:TaxTotal`` and ``cac:WithholdingTaxTotal`` (never from the
lines: the totals are what the document declares), ``cac:PricingExchangeRate`` for a foreign
currency and ``cac:LegalMonetaryTotal``. Amounts stay in the document's currency here; a report
converts them at ``rate``. Figures are kept as strings of the exact decimal written in the XML,
so that they can be cached as JSON and summed as ``Decimal`` again.

>>> facts = tax_facts(b'''<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
... xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
... xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
... <cbc:InvoiceTypeCode>SATIS</cbc:InvoiceTypeCode>
... <cbc:DocumentCurrencyCode>TRY</cbc:DocumentCurrencyCode>
... <cac:TaxTotal><cbc:TaxAmount>20.00</cbc:TaxAmount><cac:TaxSubtotal>
... <cbc:TaxableAmount>100.00</cbc:TaxableAmount><cbc:TaxAmount>20.00</cbc:TaxAmount>
... <cbc:Percent>20</cbc:Percent><cac:TaxCategory><cac:TaxScheme>
... <cbc:TaxTypeCode>0015</cbc:TaxTypeCode></cac:TaxScheme></cac:TaxCategory>
... </cac:TaxSubtotal></cac:TaxTotal></Invoice>''')
>>> facts["taxes"]
[{'code': '0015', 'percent': '20', 'base': '100.00', 'amount': '20.00', 'exemption': None}]
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.ns import CAC, CBC

__all__ = ["FACTS_VERSION", "KDV", "tax_facts"]

FACTS_VERSION = 1  # bump when the shape or the reading changes: cached facts are recomputed
KDV = "0015"


def _number(value: str | None) -> str:
    """A decimal as written (``0`` for a missing or unreadable one)."""
    text = (value or "").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return "0"
    return text if number.is_finite() else "0"


def _text(parent: etree._Element, path: str) -> str | None:
    found = parent.findtext(path)
    return found.strip() if found is not None else None


def _subtotals(total: etree._Element | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if total is None:
        return out
    for sub in total.iterfind(CAC + "TaxSubtotal"):
        category = sub.find(CAC + "TaxCategory")
        code = exemption = None
        if category is not None:
            code = _text(category, f"{CAC}TaxScheme/{CBC}TaxTypeCode")
            exemption = _text(category, CBC + "TaxExemptionReasonCode") or None
        out.append(
            {
                "code": code or "",
                "percent": _number(_text(sub, CBC + "Percent")),
                "base": _number(_text(sub, CBC + "TaxableAmount")),
                "amount": _number(_text(sub, CBC + "TaxAmount")),
                "exemption": exemption,
            }
        )
    return out


def tax_facts(xml: bytes) -> dict[str, Any]:
    """The figures a report needs from a stored invoice (UBL-TR), JSON-ready."""
    root = safe_xml.parse(xml)
    currency = _text(root, CBC + "DocumentCurrencyCode") or "TRY"
    rate = _text(root, f"{CAC}PricingExchangeRate/{CBC}CalculationRate")
    totals = root.find(CAC + "LegalMonetaryTotal")
    withholding: list[dict[str, Any]] = []
    for total in root.iterfind(CAC + "WithholdingTaxTotal"):
        withholding += _subtotals(total)
    taxes: list[dict[str, Any]] = []
    for total in root.iterfind(CAC + "TaxTotal"):
        taxes += _subtotals(total)
    return {
        "type": _text(root, CBC + "InvoiceTypeCode"),
        "currency": currency.upper(),
        "rate": _number(rate) if rate is not None else None,
        "taxes": taxes,
        "withholding": withholding,
        "tax_exclusive": _number(
            _text(totals, CBC + "TaxExclusiveAmount") if totals is not None else None
        ),
        "payable": _number(_text(totals, CBC + "PayableAmount") if totals is not None else None),
    }
