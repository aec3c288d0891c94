"""Layer 4: the invoice's figures add up (GİB does not check this; a wrong total is money).

One ``Decimal`` pass over the parsed tree, with the formulas of ``docs/draft.md`` (the same
policy the builder uses) and a tolerance of one kuruş:

* line: ``LineExtensionAmount = round(quantity × price) − allowances + charges``;
* tax subtotals: ``TaxAmount = TaxableAmount × Percent / 100``; ``TaxTotal/TaxAmount = Σ
  subtotals`` (line and document); withholding likewise;
* document: ``LineExtensionAmount = Σ lines``; ``AllowanceTotalAmount`` and
  ``ChargeTotalAmount`` = the document's allowances and charges; ``TaxExclusive = lines −
  allowances + charges``; ``TaxInclusive = TaxExclusive + Σ taxes``; ``Payable = TaxInclusive
  − Σ withholding + rounding``; ``LineCountNumeric`` = number of lines;
* currency: every ``currencyID`` is the document currency.

Sums of written figures must be exact; a computed product (``quantity × price``, ``base ×
percent``) may differ from the written amount by one kuruş, the room other software's rounding
needs. A figure that is missing or not a number is left to the XSD and schematron layers.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from entegrator.documents.ns import CAC as _CAC
from entegrator.documents.ns import CBC as _CBC
from entegrator.documents.rounding import round_amount
from entegrator.findings import Finding, Severity, Source
from entegrator.findings.paths import child, element_path, line_of

__all__ = ["TOLERANCE", "check"]

TOLERANCE = Decimal("0.01")
_HUNDRED = Decimal(100)
_CURRENCY_IDS = etree.XPath("//@currencyID")
_KDV = "0015"

_MESSAGES: dict[str, tuple[str, str]] = {
    "arith-line": (
        "Satır tutarı miktar × birim fiyat − iskonto + artırım ile tutmuyor",
        "The line amount is not quantity × price − allowances + charges",
    ),
    "arith-tax-subtotal": (
        "Vergi tutarı matrah × oran ile tutmuyor",
        "The tax amount is not taxable amount × percent",
    ),
    "arith-tax-total": (
        "Vergi toplamı alt toplamların toplamı değil",
        "The tax total is not the sum of its subtotals",
    ),
    "arith-withholding": (
        "Tevkifat tutarı KDV × tevkifat oranı ile tutmuyor",
        "The withholding amount is not KDV × withholding percent",
    ),
    "arith-withholding-total": (
        "Tevkifat toplamı alt toplamların toplamı değil",
        "The withholding total is not the sum of its subtotals",
    ),
    "arith-line-extension": (
        "Mal/hizmet toplam tutarı satır tutarlarının toplamı değil",
        "LineExtensionAmount is not the sum of the line amounts",
    ),
    "arith-allowance-total": (
        "Toplam iskonto belge iskontolarının toplamı değil",
        "AllowanceTotalAmount is not the sum of the document allowances",
    ),
    "arith-charge-total": (
        "Toplam artırım belge artırımlarının toplamı değil",
        "ChargeTotalAmount is not the sum of the document charges",
    ),
    "arith-tax-exclusive": (
        "Vergiler hariç tutar satırlar − iskonto + artırım değil",
        "TaxExclusiveAmount is not lines − allowances + charges",
    ),
    "arith-tax-inclusive": (
        "Vergiler dahil tutar vergiler hariç tutar + vergiler değil",
        "TaxInclusiveAmount is not TaxExclusiveAmount + taxes",
    ),
    "arith-payable": (
        "Ödenecek tutar vergiler dahil tutar − tevkifat + yuvarlama değil",
        "PayableAmount is not TaxInclusiveAmount − withholding + rounding",
    ),
    "arith-line-count": (
        "Satır sayısı (LineCountNumeric) fatura satırı sayısına eşit değil",
        "LineCountNumeric is not the number of invoice lines",
    ),
}


def _text(node: etree._Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def _amount(node: etree._Element | None) -> Decimal | None:
    if node is None or node.text is None:
        return None
    try:
        value = Decimal(node.text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _mismatch(
    code: str, node: etree._Element, expected: Decimal, written: Decimal, where: str = ""
) -> Finding:
    tr, en = _MESSAGES[code]
    shown = round_amount(expected)
    return Finding(
        code=code,
        severity=Severity.ERROR,
        source=Source.ARITHMETIC,
        line=line_of(node),
        xpath=element_path(node),
        message_tr=f"{where}{tr}: yazılan {written}, hesaplanan {shown}",
        message_en=f"{where}{en}: written {written}, computed {shown}",
        hint="Tutarları Decimal ile yeniden hesaplayın; kuruşa yarım yukarı yuvarlayın.",
        hint_en="Recompute the amounts in decimal arithmetic, rounding half up to the kuruş.",
    )


def _off(expected: Decimal, written: Decimal) -> bool:
    """A computed product (quantity × price, base × percent) off by more than a kuruş."""
    return abs(round_amount(expected) - written) > TOLERANCE


def _not_sum(expected: Decimal, written: Decimal) -> bool:
    """A sum of written figures must be exact: a kuruş off is an error."""
    return expected != written


def _index(node: etree._Element) -> dict[object, list[etree._Element]]:
    """The node's children by tag, in one pass (cheaper than a lookup per field)."""
    kids: dict[object, list[etree._Element]] = {}
    for kid in node:
        kids.setdefault(kid.tag, []).append(kid)
    return kids


def _first(kids: dict[object, list[etree._Element]], tag: str) -> etree._Element | None:
    found = kids.get(tag)
    return found[0] if found else None


def _allowances(kids: dict[object, list[etree._Element]]) -> tuple[Decimal, Decimal]:
    allowance = charge = Decimal(0)
    for ac in kids.get(_CAC + "AllowanceCharge", ()):
        amount = _amount(child(ac, _CBC + "Amount"))
        if amount is None:
            continue
        if _text(child(ac, _CBC + "ChargeIndicator")) == "true":
            charge += amount
        else:
            allowance += amount
    return allowance, charge


def _subtotals(
    total_node: etree._Element, code: str, where: str, out: list[Finding]
) -> tuple[Decimal, Decimal]:
    """Check the subtotals of one TaxTotal (or WithholdingTaxTotal); return (Σ, Σ KDV)."""
    subtotal_sum = kdv = Decimal(0)
    written_node = None
    for part in total_node:
        if part.tag == _CBC + "TaxAmount":
            written_node = part
            continue
        if part.tag != _CAC + "TaxSubtotal":
            continue
        kids = _index(part)
        amount_node = _first(kids, _CBC + "TaxAmount")
        amount = _amount(amount_node)
        if amount is None or amount_node is None:
            continue
        subtotal_sum += amount
        if code == "arith-tax-subtotal":
            category = _first(kids, _CAC + "TaxCategory")
            tax_type = _text(child(category, _CAC + "TaxScheme", _CBC + "TaxTypeCode"))
            if tax_type == _KDV:
                kdv += amount
        base = _amount(_first(kids, _CBC + "TaxableAmount"))
        percent = _amount(_first(kids, _CBC + "Percent"))
        if base is not None and percent is not None:
            expected = base * percent / _HUNDRED
            if _off(expected, amount):
                out.append(_mismatch(code, amount_node, expected, amount, where))
    written = _amount(written_node)
    if written is not None and written_node is not None and _not_sum(subtotal_sum, written):
        total_code = (
            "arith-tax-total" if code == "arith-tax-subtotal" else "arith-withholding-total"
        )
        out.append(_mismatch(total_code, written_node, subtotal_sum, written, where))
    return subtotal_sum, kdv


def _taxes(
    kids: dict[object, list[etree._Element]], where: str, out: list[Finding]
) -> tuple[Decimal, Decimal]:
    """Check the TaxTotals among ``kids``; return (Σ taxes, Σ KDV)."""
    total = kdv = Decimal(0)
    for tax_total in kids.get(_CAC + "TaxTotal", ()):
        part, part_kdv = _subtotals(tax_total, "arith-tax-subtotal", where, out)
        total += part
        kdv += part_kdv
    return total, kdv


def _withholding(
    kids: dict[object, list[etree._Element]], where: str, out: list[Finding]
) -> Decimal:
    total = Decimal(0)
    for wt in kids.get(_CAC + "WithholdingTaxTotal", ()):
        total += _subtotals(wt, "arith-withholding", where, out)[0]
    return total


def _lines(lines: list[etree._Element], out: list[Finding]) -> Decimal:
    line_sum = Decimal(0)
    for line in lines:
        kids = _index(line)
        amount_node = _first(kids, _CBC + "LineExtensionAmount")
        amount = _amount(amount_node)
        if amount is None or amount_node is None:
            continue
        line_sum += amount
        quantity = _amount(_first(kids, _CBC + "InvoicedQuantity"))
        price = _amount(child(_first(kids, _CAC + "Price"), _CBC + "PriceAmount"))
        where = f"Satır/line {_text(_first(kids, _CBC + 'ID')) or '?'}: "
        if quantity is not None and price is not None:
            allowance, charge = _allowances(kids)
            expected = round_amount(quantity * price) - allowance + charge
            if _off(expected, amount):
                out.append(_mismatch("arith-line", amount_node, expected, amount, where))
        _taxes(kids, where, out)
        _withholding(kids, where, out)
    return line_sum


def _currency(root: etree._Element, currency: str) -> Iterator[Finding]:
    if not currency:
        return
    values: Any = _CURRENCY_IDS(root)
    for value in values:
        if value == currency:
            continue
        el = value.getparent()
        yield Finding(
            code="arith-currency",
            severity=Severity.ERROR,
            source=Source.ARITHMETIC,
            line=line_of(el),
            xpath=element_path(el, "currencyID") if el is not None else None,
            message_tr=f"Tutarın para birimi {value}, belgenin para birimi {currency}",
            message_en=f"The amount is in {value}, the document currency is {currency}",
            hint="Bütün tutarlar belge para biriminde (DocumentCurrencyCode) yazılır.",
            hint_en="Every amount is written in the document currency.",
        )


_TOTALS = (
    "LineExtensionAmount",
    "AllowanceTotalAmount",
    "ChargeTotalAmount",
    "TaxExclusiveAmount",
    "TaxInclusiveAmount",
    "PayableRoundingAmount",
    "PayableAmount",
)


def check(root: etree._Element) -> list[Finding]:
    """Arithmetic findings of an Invoice (empty when every figure adds up)."""
    out: list[Finding] = []
    kids = _index(root)
    lines = kids.get(_CAC + "InvoiceLine", [])
    line_sum = _lines(lines, out)
    taxes, _kdv = _taxes(kids, "", out)
    withheld = _withholding(kids, "", out)
    count_node = _first(kids, _CBC + "LineCountNumeric")
    written_count = _amount(count_node)
    if count_node is not None and written_count is not None and written_count != len(lines):
        out.append(_mismatch("arith-line-count", count_node, Decimal(len(lines)), written_count))
    out.extend(_currency(root, _text(_first(kids, _CBC + "DocumentCurrencyCode"))))
    totals = _first(kids, _CAC + "LegalMonetaryTotal")
    if totals is None:
        return out
    allowance, charge = _allowances(kids)
    total_kids = _index(totals)
    nodes = {name: _first(total_kids, _CBC + name) for name in _TOTALS}
    values = {name: _amount(node) for name, node in nodes.items()}

    def used(name: str, fallback: Decimal) -> Decimal:
        value = values[name]
        return value if value is not None else fallback

    exclusive_expected = (
        used("LineExtensionAmount", line_sum)
        - used("AllowanceTotalAmount", allowance)
        + used("ChargeTotalAmount", charge)
    )
    exclusive = used("TaxExclusiveAmount", exclusive_expected)
    inclusive = used("TaxInclusiveAmount", exclusive + taxes)
    payable = inclusive - withheld + used("PayableRoundingAmount", Decimal(0))
    checks = (
        ("LineExtensionAmount", "arith-line-extension", line_sum),
        ("AllowanceTotalAmount", "arith-allowance-total", allowance),
        ("ChargeTotalAmount", "arith-charge-total", charge),
        ("TaxExclusiveAmount", "arith-tax-exclusive", exclusive_expected),
        ("TaxInclusiveAmount", "arith-tax-inclusive", exclusive + taxes),
        ("PayableAmount", "arith-payable", payable),
    )
    for name, code, expected in checks:
        node, written = nodes[name], values[name]
        if node is None or written is None:
            continue
        if name in ("AllowanceTotalAmount", "ChargeTotalAmount") and written == 0 and not expected:
            continue
        if _not_sum(expected, written):
            out.append(_mismatch(code, node, expected, written))
    return out
