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

from entegrator.documents.rounding import round_amount
from entegrator.rules.findings import Finding, Severity, Source
from entegrator.rules.paths import element_path, line_of

__all__ = ["TOLERANCE", "check"]

TOLERANCE = Decimal("0.01")
_CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
_CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
_HUNDRED = Decimal(100)
_OTHER_CURRENCY = etree.XPath("//*[@currencyID != $c]")
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


def _child(node: etree._Element | None, *tags: str) -> etree._Element | None:
    """The first child chain ``tags`` below ``node`` (C-filtered, no path parsing)."""
    for tag in tags:
        if node is None:
            return None
        node = next(node.iterchildren(tag), None)
    return node


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


def _allowances(node: etree._Element) -> tuple[Decimal, Decimal]:
    allowance = charge = Decimal(0)
    for ac in node.iterchildren(_CAC + "AllowanceCharge"):
        amount = _amount(_child(ac, _CBC + "Amount"))
        if amount is None:
            continue
        if _text(_child(ac, _CBC + "ChargeIndicator")) == "true":
            charge += amount
        else:
            allowance += amount
    return allowance, charge


def _taxes(node: etree._Element, where: str, out: list[Finding]) -> tuple[Decimal, Decimal]:
    """Check the TaxTotals under ``node``; return (Σ taxes, Σ KDV)."""
    total = kdv = Decimal(0)
    for tax_total in node.iterchildren(_CAC + "TaxTotal"):
        subtotal_sum = Decimal(0)
        for sub in tax_total.iterchildren(_CAC + "TaxSubtotal"):
            amount_node = _child(sub, _CBC + "TaxAmount")
            amount = _amount(amount_node)
            if amount is None or amount_node is None:
                continue
            subtotal_sum += amount
            code = _text(
                _child(sub, _CAC + "TaxCategory", _CAC + "TaxScheme", _CBC + "TaxTypeCode")
            )
            if code == _KDV:
                kdv += amount
            base = _amount(_child(sub, _CBC + "TaxableAmount"))
            percent = _amount(_child(sub, _CBC + "Percent"))
            if base is not None and percent is not None:
                expected = base * percent / _HUNDRED
                if _off(expected, amount):
                    out.append(
                        _mismatch("arith-tax-subtotal", amount_node, expected, amount, where)
                    )
        written_node = _child(tax_total, _CBC + "TaxAmount")
        written = _amount(written_node)
        if written is not None and written_node is not None and _not_sum(subtotal_sum, written):
            out.append(_mismatch("arith-tax-total", written_node, subtotal_sum, written, where))
        total += subtotal_sum
    return total, kdv


def _withholding(node: etree._Element, where: str, out: list[Finding]) -> Decimal:
    total = Decimal(0)
    for wt in node.iterchildren(_CAC + "WithholdingTaxTotal"):
        subtotal_sum = Decimal(0)
        for sub in wt.iterchildren(_CAC + "TaxSubtotal"):
            amount_node = _child(sub, _CBC + "TaxAmount")
            amount = _amount(amount_node)
            if amount is None or amount_node is None:
                continue
            subtotal_sum += amount
            base = _amount(_child(sub, _CBC + "TaxableAmount"))
            percent = _amount(_child(sub, _CBC + "Percent"))
            if base is not None and percent is not None:
                expected = base * percent / _HUNDRED
                if _off(expected, amount):
                    out.append(_mismatch("arith-withholding", amount_node, expected, amount, where))
        written_node = _child(wt, _CBC + "TaxAmount")
        written = _amount(written_node)
        if written is not None and written_node is not None and _not_sum(subtotal_sum, written):
            out.append(
                _mismatch("arith-withholding-total", written_node, subtotal_sum, written, where)
            )
        total += subtotal_sum
    return total


def _lines(root: etree._Element, out: list[Finding]) -> tuple[Decimal, int]:
    line_sum = Decimal(0)
    count = 0
    for line in root.iterchildren(_CAC + "InvoiceLine"):
        count += 1
        amount_node = _child(line, _CBC + "LineExtensionAmount")
        amount = _amount(amount_node)
        if amount is None or amount_node is None:
            continue
        line_sum += amount
        quantity = _amount(_child(line, _CBC + "InvoicedQuantity"))
        price = _amount(_child(line, _CAC + "Price", _CBC + "PriceAmount"))
        where = f"Satır/line {_text(_child(line, _CBC + 'ID')) or '?'}: "
        if quantity is not None and price is not None:
            allowance, charge = _allowances(line)
            expected = round_amount(quantity * price) - allowance + charge
            if _off(expected, amount):
                out.append(_mismatch("arith-line", amount_node, expected, amount, where))
        _taxes(line, where, out)
        _withholding(line, where, out)
    return line_sum, count


def _currency(root: etree._Element) -> Iterator[Finding]:
    currency = (root.findtext(_CBC + "DocumentCurrencyCode") or "").strip()
    if not currency:
        return
    found_nodes: Any = _OTHER_CURRENCY(root, c=currency)
    for el in found_nodes:
        found = el.get("currencyID")
        if found is not None:
            yield Finding(
                code="arith-currency",
                severity=Severity.ERROR,
                source=Source.ARITHMETIC,
                line=line_of(el),
                xpath=element_path(el, "currencyID"),
                message_tr=f"Tutarın para birimi {found}, belgenin para birimi {currency}",
                message_en=f"The amount is in {found}, the document currency is {currency}",
                hint="Bütün tutarlar belge para biriminde (DocumentCurrencyCode) yazılır.",
                hint_en="Every amount is written in the document currency.",
            )


def check(root: etree._Element) -> list[Finding]:
    """Arithmetic findings of an Invoice (empty when every figure adds up)."""
    out: list[Finding] = []
    line_sum, count = _lines(root, out)
    taxes, _kdv = _taxes(root, "", out)
    withheld = _withholding(root, "", out)
    count_node = root.find(_CBC + "LineCountNumeric")
    written_count = _amount(count_node)
    if count_node is not None and written_count is not None and written_count != count:
        out.append(_mismatch("arith-line-count", count_node, Decimal(count), written_count))
    out.extend(_currency(root))
    totals = root.find(_CAC + "LegalMonetaryTotal")
    if totals is None:
        return out
    allowance, charge = _allowances(root)

    def field(name: str) -> tuple[etree._Element | None, Decimal | None]:
        node = totals.find(_CBC + name)
        return node, _amount(node)

    checks: list[tuple[str, str, Decimal]] = []
    line_node, line_total = field("LineExtensionAmount")
    checks.append(("LineExtensionAmount", "arith-line-extension", line_sum))
    _at_node, allowance_total = field("AllowanceTotalAmount")
    _ct_node, charge_total = field("ChargeTotalAmount")
    checks.append(("AllowanceTotalAmount", "arith-allowance-total", allowance))
    checks.append(("ChargeTotalAmount", "arith-charge-total", charge))
    base = line_total if line_total is not None else line_sum
    allowance_used = allowance_total if allowance_total is not None else allowance
    charge_used = charge_total if charge_total is not None else charge
    exclusive_expected = base - allowance_used + charge_used
    checks.append(("TaxExclusiveAmount", "arith-tax-exclusive", exclusive_expected))
    _te_node, exclusive = field("TaxExclusiveAmount")
    exclusive_used = exclusive if exclusive is not None else exclusive_expected
    checks.append(("TaxInclusiveAmount", "arith-tax-inclusive", exclusive_used + taxes))
    _ti_node, inclusive = field("TaxInclusiveAmount")
    inclusive_used = inclusive if inclusive is not None else exclusive_used + taxes
    _r_node, rounding = field("PayableRoundingAmount")
    payable_expected = inclusive_used - withheld + (rounding or Decimal(0))
    checks.append(("PayableAmount", "arith-payable", payable_expected))
    for name, code, expected in checks:
        node, written = field(name)
        if node is None or written is None:
            continue
        if name in ("AllowanceTotalAmount", "ChargeTotalAmount") and written == 0 and not expected:
            continue
        if _not_sum(expected, written):
            out.append(_mismatch(code, node, expected, written))
    del line_node
    return out
