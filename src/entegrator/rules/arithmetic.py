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

Withholding (tevkifat) is the KDV × the withholding percent: ``TaxableAmount`` of a
withholding subtotal is the KDV withheld from (``ubl-tr.md`` §7); a producer that writes the
line amount there instead (izibiz ``FATURA_13.xml``) is read by the KDV of the same line.

GİB's own samples write some totals in other ways: those amount conventions are recognised
(:mod:`entegrator.rules.conventions`) and reported once each, with the ``convention`` severity.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from entegrator.documents.ns import CAC as _CAC
from entegrator.documents.ns import CBC as _CBC
from entegrator.documents.rounding import round_amount
from entegrator.findings import Finding, Severity, Source
from entegrator.findings.paths import child, element_path, line_of
from entegrator.rules.conventions import TOTALS, Facts, best_reading, finding

__all__ = ["TOLERANCE", "check"]

TOLERANCE = Decimal("0.01")
_HUNDRED = Decimal(100)
_CURRENCY_IDS = etree.XPath("//@currencyID")
_KDV = "0015"
_FIXED_LEVY = "8006"

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


@dataclass
class _Context:
    """What one pass collects: findings, the conventions seen (name → first node)."""

    convention: Severity
    out: list[Finding] = field(default_factory=list)
    seen: dict[str, etree._Element] = field(default_factory=dict)

    def note(self, name: str, node: etree._Element) -> None:
        self.seen.setdefault(name, node)


@dataclass
class _TaxSums:
    """One TaxTotal: Σ subtotals, the KDV among them and the exempt KDV (YTB İSTİSNA)."""

    total: Decimal = Decimal(0)
    kdv: Decimal = Decimal(0)
    exempt_kdv: Decimal = Decimal(0)
    written: Decimal | None = None
    written_node: etree._Element | None = None


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


def _mismatch(  # noqa: PLR0917 - code, place, the two figures, where, severity
    code: str,
    node: etree._Element,
    expected: Decimal,
    written: Decimal,
    where: str = "",
    severity: Severity = Severity.ERROR,
) -> Finding:
    tr, en = _MESSAGES[code]
    shown = round_amount(expected)
    return Finding(
        code=code,
        severity=severity,
        source=Source.ARITHMETIC,
        line=line_of(node),
        xpath=element_path(node),
        message_tr=f"{where}{tr}: yazılan {written}, hesaplanan {shown}",
        message_en=f"{where}{en}: written {written}, computed {shown}",
        hint="Tutarları Decimal ile yeniden hesaplayın; kuruşa yarım yukarı yuvarlayın.",
        hint_en="Recompute the amounts in decimal arithmetic, rounding half up to the kuruş.",
    )


def _sum_mismatch(  # noqa: PLR0917 - as _mismatch, with the context
    ctx: _Context, code: str, node: etree._Element, expected: Decimal, written: Decimal, where: str
) -> None:
    """A sum of written figures that is not exact (even a kuruş off is an error)."""
    ctx.out.append(_mismatch(code, node, expected, written, where))


def _off(expected: Decimal, written: Decimal) -> bool:
    """A computed product (quantity × price, base × percent) off by more than a kuruş."""
    return abs(round_amount(expected) - written) > TOLERANCE


def _index(node: etree._Element) -> dict[object, list[etree._Element]]:
    """The node's children by tag, in one pass (cheaper than a lookup per field)."""
    kids: dict[object, list[etree._Element]] = {}
    for kid in node:
        kids.setdefault(kid.tag, []).append(kid)
    return kids


def _first(kids: dict[object, list[etree._Element]], tag: str) -> etree._Element | None:
    found = kids.get(tag)
    return found[0] if found else None


def _allowances(kids: dict[object, list[etree._Element]]) -> tuple[Decimal, Decimal, Decimal]:
    """(Σ allowances, Σ charges, Σ HKS deductions among the allowances)."""
    allowance = charge = hks = Decimal(0)
    for ac in kids.get(_CAC + "AllowanceCharge", ()):
        amount = _amount(child(ac, _CBC + "Amount"))
        if amount is None:
            continue
        if _text(child(ac, _CBC + "ChargeIndicator")) == "true":
            charge += amount
        else:
            allowance += amount
            if _text(child(ac, _CBC + "AllowanceChargeReason")).startswith("HKS"):
                hks += amount
    return allowance, charge, hks


def _tax_subtotals(total_node: etree._Element, where: str, ctx: _Context) -> _TaxSums:
    """Check the subtotals of one TaxTotal; the total itself waits for the withholding."""
    sums = _TaxSums()
    for part in total_node:
        if part.tag == _CBC + "TaxAmount":
            sums.written_node, sums.written = part, _amount(part)
            continue
        if part.tag != _CAC + "TaxSubtotal":
            continue
        kids = _index(part)
        amount_node = _first(kids, _CBC + "TaxAmount")
        amount = _amount(amount_node)
        if amount is None or amount_node is None:
            continue
        sums.total += amount
        category = _first(kids, _CAC + "TaxCategory")
        tax_type = _text(child(category, _CAC + "TaxScheme", _CBC + "TaxTypeCode"))
        if tax_type == _KDV:
            sums.kdv += amount
            if _text(_first(kids, _CBC + "CalculationSequenceNumeric")) == "-1":
                sums.exempt_kdv += amount
        base = _amount(_first(kids, _CBC + "TaxableAmount"))
        percent = _amount(_first(kids, _CBC + "Percent"))
        if tax_type == _FIXED_LEVY and percent == 0 and amount != 0:
            ctx.note("fixed-levy", amount_node)
            continue
        if base is not None and percent is not None:
            expected = base * percent / _HUNDRED
            if _off(expected, amount):
                found = _mismatch("arith-tax-subtotal", amount_node, expected, amount, where)
                ctx.out.append(found)
    return sums


def _tax_total(sums: _TaxSums, withheld: Decimal, where: str, ctx: _Context) -> None:
    """TaxTotal/TaxAmount: Σ subtotals, or a convention that leaves a part out."""
    node, written = sums.written_node, sums.written
    if node is None or written is None or written == sums.total:
        return
    if withheld and sums.kdv and written == sums.total - withheld:
        ctx.note("withholding-net-tax-total", node)
    elif sums.exempt_kdv and written == sums.total - sums.exempt_kdv:
        ctx.note("ytb-istisna", node)
    else:
        _sum_mismatch(ctx, "arith-tax-total", node, sums.total, written, where)


def _withholding(
    kids: dict[object, list[etree._Element]], kdv: Decimal, where: str, ctx: _Context
) -> Decimal:
    """Check the WithholdingTaxTotals among ``kids`` (withheld = KDV × percent); return Σ."""
    total = Decimal(0)
    for wt in kids.get(_CAC + "WithholdingTaxTotal", ()):
        subtotal_sum = Decimal(0)
        written_node = None
        for part in wt:
            if part.tag == _CBC + "TaxAmount":
                written_node = part
                continue
            if part.tag != _CAC + "TaxSubtotal":
                continue
            sub = _index(part)
            amount_node = _first(sub, _CBC + "TaxAmount")
            amount = _amount(amount_node)
            if amount is None or amount_node is None:
                continue
            subtotal_sum += amount
            base = _amount(_first(sub, _CBC + "TaxableAmount"))
            if kdv and (base is None or base > kdv + TOLERANCE):
                # The base written is not a part of the KDV (the line amount, or nothing):
                # what is withheld is always a share of the KDV of the same line or document.
                base = kdv
            percent = _amount(_first(sub, _CBC + "Percent"))
            if base is not None and percent is not None:
                expected = base * percent / _HUNDRED
                if _off(expected, amount):
                    ctx.out.append(
                        _mismatch("arith-withholding", amount_node, expected, amount, where)
                    )
        written = _amount(written_node)
        if written is not None and written_node is not None and written != subtotal_sum:
            code = "arith-withholding-total"
            _sum_mismatch(ctx, code, written_node, subtotal_sum, written, where)
        total += subtotal_sum
    return total


def _taxes(
    kids: dict[object, list[etree._Element]], where: str, ctx: _Context
) -> tuple[_TaxSums, Decimal]:
    """Check the taxes and withholding among ``kids``; return (Σ taxes, Σ withheld)."""
    found = [_tax_subtotals(t, where, ctx) for t in kids.get(_CAC + "TaxTotal", ())]
    sums = _TaxSums(
        total=sum((s.total for s in found), Decimal(0)),
        kdv=sum((s.kdv for s in found), Decimal(0)),
        exempt_kdv=sum((s.exempt_kdv for s in found), Decimal(0)),
    )
    withheld = _withholding(kids, sums.kdv, where, ctx)
    for one in found:
        _tax_total(one, withheld, where, ctx)
    return sums, withheld


def _lines(lines: list[etree._Element], ctx: _Context) -> tuple[Decimal, Decimal, Decimal]:
    """Check every line; return (Σ line amounts, Σ line allowances, Σ line charges)."""
    line_sum = allowances = charges = Decimal(0)
    for line in lines:
        kids = _index(line)
        allowance, charge, _hks = _allowances(kids)
        allowances += allowance
        charges += charge
        amount_node = _first(kids, _CBC + "LineExtensionAmount")
        amount = _amount(amount_node)
        if amount is None or amount_node is None:
            continue
        line_sum += amount
        quantity = _amount(_first(kids, _CBC + "InvoicedQuantity"))
        price = _amount(child(_first(kids, _CAC + "Price"), _CBC + "PriceAmount"))
        where = f"Satır/line {_text(_first(kids, _CBC + 'ID')) or '?'}: "
        if quantity is not None and price is not None:
            expected = round_amount(quantity * price) - allowance + charge
            if _off(expected, amount):
                ctx.out.append(_mismatch("arith-line", amount_node, expected, amount, where))
        _taxes(kids, where, ctx)
    return line_sum, allowances, charges


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


def _totals(totals: etree._Element, facts: Facts, profile: str, type_: str, ctx: _Context) -> None:
    """LegalMonetaryTotal, read plainly or with the conventions that make it add up."""
    total_kids = _index(totals)
    nodes = {name: _first(total_kids, _CBC + name) for name in TOTALS}
    values = {name: _amount(node) for name, node in nodes.items()}
    reading, found = best_reading(values, facts, profile=profile, type_=type_)
    for name in sorted(reading):
        ctx.note(name, totals)
    for name, code, expected, written in found:
        node = nodes[name]
        if node is not None:
            _sum_mismatch(ctx, code, node, expected, written, "")


def check(
    root: etree._Element,
    *,
    profile: str = "",
    type_: str = "",
    convention: Severity = Severity.ERROR,
) -> list[Finding]:
    """Arithmetic findings of an Invoice (empty when every figure adds up).

    ``convention``: the severity of a recognised amount convention, an error for what we send
    and a warning otherwise (``rules/purposes.py``).
    """
    ctx = _Context(convention=convention)
    kids = _index(root)
    lines = kids.get(_CAC + "InvoiceLine", [])
    line_sum, line_allowances, line_charges = _lines(lines, ctx)
    taxes, withheld = _taxes(kids, "", ctx)
    count_node = _first(kids, _CBC + "LineCountNumeric")
    written_count = _amount(count_node)
    if count_node is not None and written_count is not None and written_count != len(lines):
        ctx.out.append(
            _mismatch("arith-line-count", count_node, Decimal(len(lines)), written_count)
        )
    ctx.out.extend(_currency(root, _text(_first(kids, _CBC + "DocumentCurrencyCode"))))
    totals = _first(kids, _CAC + "LegalMonetaryTotal")
    if totals is not None:
        allowances, charges, hks = _allowances(kids)
        facts = Facts(
            lines=line_sum,
            line_allowances=line_allowances,
            line_charges=line_charges,
            allowances=allowances,
            charges=charges,
            hks=hks,
            taxes=taxes.total,
            kdv=taxes.kdv,
            exempt_kdv=taxes.exempt_kdv,
            withheld=withheld,
        )
        _totals(totals, facts, profile, type_, ctx)
    ctx.out.extend(finding(name, node, ctx.convention) for name, node in ctx.seen.items())
    return ctx.out
