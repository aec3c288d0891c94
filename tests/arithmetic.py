"""Independent recomputation of an invoice's amounts from its XML (not from our totals module).

Used by the tests to check that every figure the builder writes adds up: line amounts,
tax subtotals, tax totals, withholding and the monetary totals, to the kuruş.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")


def _d(node: etree._Element, path: str, default: str | None = None) -> Decimal:
    found = node.find(path, NS)
    if found is None:
        if default is None:
            raise AssertionError(f"missing {path}")
        return Decimal(default)
    return Decimal(found.text or "")


def _allowances(node: etree._Element) -> Decimal:
    net = Decimal(0)
    for ac in node.findall("cac:AllowanceCharge", NS):
        amount = _d(ac, "cbc:Amount")
        net += amount if ac.findtext("cbc:ChargeIndicator", namespaces=NS) == "true" else -amount
    return net


def _tax_total(node: etree._Element, problems: list[str], where: str) -> Decimal:
    total = Decimal(0)
    for tt in node.findall("cac:TaxTotal", NS):
        subs = Decimal(0)
        for sub in tt.findall("cac:TaxSubtotal", NS):
            amount = _d(sub, "cbc:TaxAmount")
            subs += amount
            if sub.find("cbc:Percent", NS) is not None:
                expected = _d(sub, "cbc:TaxableAmount") * _d(sub, "cbc:Percent") / 100
                if abs(expected - amount) > HALF_CENT:
                    problems.append(f"{where} subtotal {amount} != {expected}")
        if subs != _d(tt, "cbc:TaxAmount"):
            problems.append(f"{where} TaxTotal {_d(tt, 'cbc:TaxAmount')} != Σ {subs}")
        total += subs
    return total


def _withholding(node: etree._Element, problems: list[str], where: str) -> Decimal:
    total = Decimal(0)
    for wt in node.findall("cac:WithholdingTaxTotal", NS):
        subs = Decimal(0)
        for sub in wt.findall("cac:TaxSubtotal", NS):
            amount = _d(sub, "cbc:TaxAmount")
            expected = _d(sub, "cbc:TaxableAmount") * _d(sub, "cbc:Percent") / 100
            if abs(expected - amount) > HALF_CENT:
                problems.append(f"{where} withholding {amount} != {expected}")
            subs += amount
        if subs != _d(wt, "cbc:TaxAmount"):
            problems.append(f"{where} WithholdingTaxTotal != Σ subtotals")
        total += subs
    return total


def recompute(xml: bytes) -> list[str]:
    """Every arithmetic inconsistency in the invoice; empty when all figures add up."""
    root = etree.fromstring(xml)
    problems: list[str] = []
    currency = root.findtext("cbc:DocumentCurrencyCode", namespaces=NS)
    for el in root.iter():
        if el.get("currencyID") not in (None, currency):
            problems.append(f"currencyID {el.get('currencyID')} != {currency}")
    lines = root.findall("cac:InvoiceLine", NS)
    if int(root.findtext("cbc:LineCountNumeric", namespaces=NS) or -1) != len(lines):
        problems.append("LineCountNumeric does not match the lines")
    line_sum = Decimal(0)
    line_kdv_withheld = Decimal(0)
    for line in lines:
        where = f"line {line.findtext('cbc:ID', namespaces=NS)}"
        le = _d(line, "cbc:LineExtensionAmount")
        gross = _d(line, "cbc:InvoicedQuantity") * _d(line, "cac:Price/cbc:PriceAmount")
        if abs(gross + _allowances(line) - le) > HALF_CENT:
            problems.append(f"{where} amount {le} != {gross + _allowances(line)}")
        line_sum += le
        _tax_total(line, problems, where)
        if line.find("cac:WithholdingTaxTotal", NS) is not None:
            _withholding(line, problems, where)
            for sub in line.findall("cac:TaxTotal/cac:TaxSubtotal", NS):
                if (
                    sub.findtext("cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode", namespaces=NS)
                    == "0015"
                ):
                    line_kdv_withheld += _d(sub, "cbc:TaxAmount")
    lmt = root.find("cac:LegalMonetaryTotal", NS)
    assert lmt is not None
    taxes = _tax_total(root, problems, "document")
    withheld = _withholding(root, problems, "document")
    doc_withheld_base = sum(
        (
            _d(s, "cbc:TaxableAmount")
            for s in root.findall("cac:WithholdingTaxTotal/cac:TaxSubtotal", NS)
        ),
        Decimal(0),
    )
    if doc_withheld_base != line_kdv_withheld:
        problems.append(f"withheld KDV base {doc_withheld_base} != lines' KDV {line_kdv_withheld}")
    le = _d(lmt, "cbc:LineExtensionAmount")
    at = _d(lmt, "cbc:AllowanceTotalAmount", "0")
    ct = _d(lmt, "cbc:ChargeTotalAmount", "0")
    if le != line_sum:
        problems.append(f"LineExtensionAmount {le} != Σ lines {line_sum}")
    if ct - at != _allowances(root):
        problems.append("allowance/charge totals do not match the document allowances")
    te = _d(lmt, "cbc:TaxExclusiveAmount")
    ti = _d(lmt, "cbc:TaxInclusiveAmount")
    if te != le - at + ct:
        problems.append(f"TaxExclusive {te} != {le - at + ct}")
    if ti != te + taxes:
        problems.append(f"TaxInclusive {ti} != {te + taxes}")
    payable = _d(lmt, "cbc:PayableAmount")
    if payable != ti - withheld + _d(lmt, "cbc:PayableRoundingAmount", "0"):
        problems.append(f"Payable {payable} != {ti - withheld}")
    for node in [lmt, *root.findall("cac:TaxTotal", NS)]:
        for el in node.iter():
            if el.get("currencyID") and Decimal(el.text or "0") != Decimal(el.text or "0").quantize(
                CENT
            ):
                problems.append(f"{etree.QName(el).localname} has more than 2 decimals")
    return problems
