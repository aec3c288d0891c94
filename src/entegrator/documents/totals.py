"""Tutarlar: every amount of an invoice, computed in ``Decimal`` from the draft.

Rounding policy (``ubl-tr.md`` §8, ``checks.md`` §5):

* Amounts are rounded half-up to the kuruş (0.01) by :func:`round_amount` (``rounding.py``,
  the only place in the code base that calls ``quantize``). Quantities, unit prices and
  rates keep their given precision.
* A line: ``LineExtensionAmount = round(quantity × price) − allowances + charges``; each
  allowance is ``round(base × rate)`` or its fixed amount. Other taxes are
  ``round(line amount × percent)`` (or a fixed amount); the KDV base is the line amount plus
  the taxes that enter it (ÖTV), or the special base (özel matrah); ``KDV = round(base × percent)``;
  withholding (tevkifat) is ``round(KDV × withholding percent)``.
* The document: tax subtotals are grouped per tax code, percent and exemption code, their
  taxable amount is the sum of the lines' bases, and their tax amount is computed **once from
  that sum** (``round(Σ base × percent)``), so every subtotal satisfies
  ``TaxAmount = TaxableAmount × Percent`` to the kuruş however many lines there are. Line tax
  amounts are rounded per line and may therefore differ from the document's by accumulated
  rounding. Withholding subtotals are ``round(Σ withheld lines' KDV × percent)``.
* Document-level allowances and charges change ``TaxExclusiveAmount`` and are spread over the
  KDV subtotals in proportion to their taxable amounts (the last subtotal takes the remainder
  so the parts add up exactly).
* ``TaxInclusive = TaxExclusive + Σ taxes``; ``Payable = TaxInclusive − Σ withholding +
  PayableRoundingAmount``.

>>> round_amount(Decimal("2.675")), round_amount(Decimal("-0.005"))
(Decimal('2.68'), Decimal('-0.01'))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from entegrator.documents.codes import rules, tax_name
from entegrator.documents.model import AllowanceCharge, InvoiceDraft, Line
from entegrator.documents.rounding import round_amount

__all__ = [
    "KDV",
    "AllowanceChargeAmount",
    "InvoiceTotals",
    "LineTotals",
    "TaxAmount",
    "WithholdingAmount",
    "compute",
    "compute_line",
    "round_amount",
]

KDV = "0015"
_HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class AllowanceChargeAmount:
    charge: bool
    reason: str | None
    rate: Decimal | None
    amount: Decimal
    base_amount: Decimal | None


@dataclass(frozen=True, slots=True)
class TaxAmount:
    """One TaxSubtotal."""

    code: str
    name: str
    percent: Decimal | None
    taxable: Decimal
    amount: Decimal
    exemption_code: str | None = None
    exemption_reason: str | None = None


@dataclass(frozen=True, slots=True)
class WithholdingAmount:
    """One withholding (tevkifat) subtotal: ``taxable`` is the KDV withheld from."""

    code: str
    percent: Decimal
    taxable: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LineTotals:
    gross: Decimal
    allowances_charges: tuple[AllowanceChargeAmount, ...]
    line_extension: Decimal
    taxes: tuple[TaxAmount, ...]
    tax_amount: Decimal
    kdv: TaxAmount
    withholding: WithholdingAmount | None


@dataclass(frozen=True, slots=True)
class InvoiceTotals:
    lines: tuple[LineTotals, ...]
    allowances_charges: tuple[AllowanceChargeAmount, ...]
    taxes: tuple[TaxAmount, ...]
    tax_amount: Decimal
    withholdings: tuple[WithholdingAmount, ...]
    withholding_amount: Decimal
    line_extension: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    tax_exclusive: Decimal
    tax_inclusive: Decimal
    payable_rounding: Decimal | None
    payable: Decimal


def _allowance(ac: AllowanceCharge, base: Decimal) -> AllowanceChargeAmount:
    if ac.rate is not None:
        return AllowanceChargeAmount(
            ac.charge, ac.reason, ac.rate, round_amount(base * ac.rate), base
        )
    if ac.amount is None:
        raise ValueError("an allowance or charge needs an amount or a rate")
    return AllowanceChargeAmount(ac.charge, ac.reason, None, round_amount(ac.amount), None)


def _net(items: Iterable[AllowanceChargeAmount]) -> Decimal:
    return sum((a.amount if a.charge else -a.amount for a in items), ZERO)


def _in_kdv_base(code: str, override: bool | None) -> bool:
    if override is not None:
        return override
    taxes = rules()["taxes"]
    return bool(taxes.get(code, {}).get("in_kdv_base", False))


def exemption_reason(code: str | None, reason: str | None) -> str | None:
    """The reason text written for an exemption code: the draft's, or GİB's known name."""
    if reason or code is None:
        return reason
    names: dict[str, str] = rules()["exemption_names"]
    return names.get(code)


def compute_line(line: Line) -> LineTotals:
    """All amounts of one line."""
    gross = line.quantity * line.unit_price
    rounded_gross = round_amount(gross)
    acs = tuple(_allowance(ac, rounded_gross) for ac in line.allowances_charges)
    line_extension = rounded_gross + _net(acs)
    others: list[TaxAmount] = []
    kdv_base = line_extension
    for tax in line.other_taxes:
        if tax.percent is not None and tax.amount is None:
            amount = round_amount(line_extension * tax.percent / _HUNDRED)
        else:
            if tax.amount is None:
                raise ValueError("a tax needs an amount or a percent")
            amount = round_amount(tax.amount)
        others.append(TaxAmount(tax.code, tax_name(tax.code), tax.percent, line_extension, amount))
        if _in_kdv_base(tax.code, tax.in_kdv_base):
            kdv_base += amount
    if line.special_base is not None:
        kdv_base = round_amount(line.special_base)
    kdv = TaxAmount(
        KDV,
        "KDV",
        line.kdv_percent,
        kdv_base,
        round_amount(kdv_base * line.kdv_percent / _HUNDRED),
        line.exemption_code,
        exemption_reason(line.exemption_code, line.exemption_reason),
    )
    withholding = None
    if line.withholding_code is not None and line.withholding_percent is not None:
        withholding = WithholdingAmount(
            line.withholding_code,
            line.withholding_percent,
            kdv.amount,
            round_amount(kdv.amount * line.withholding_percent / _HUNDRED),
        )
    taxes = (*others, kdv)
    return LineTotals(
        gross,
        acs,
        line_extension,
        taxes,
        sum((t.amount for t in taxes), ZERO),
        kdv,
        withholding,
    )


def _group_taxes(lines: Sequence[LineTotals]) -> list[TaxAmount]:
    groups: dict[tuple[str, Decimal | None, str | None, str | None], list[TaxAmount]] = {}
    for lt in lines:
        for t in lt.taxes:
            key = (t.code, t.percent, t.exemption_code, t.exemption_reason)
            groups.setdefault(key, []).append(t)
    out = []
    for (code, percent, ex_code, ex_reason), items in groups.items():
        taxable = sum((t.taxable for t in items), ZERO)
        if percent is not None:
            amount = round_amount(taxable * percent / _HUNDRED)
        else:
            amount = sum((t.amount for t in items), ZERO)
        out.append(TaxAmount(code, items[0].name, percent, taxable, amount, ex_code, ex_reason))
    # Other taxes first in order of appearance, then KDV from the highest rate down.
    others = [t for t in out if t.code != KDV]
    kdvs = sorted((t for t in out if t.code == KDV), key=lambda t: -(t.percent or 0))
    return others + kdvs


def _spread(taxes: list[TaxAmount], net: Decimal) -> list[TaxAmount]:
    """Spread a document-level net allowance/charge over the KDV subtotals pro rata."""
    kdv_idx = [i for i, t in enumerate(taxes) if t.code == KDV]
    base = sum((taxes[i].taxable for i in kdv_idx), ZERO)
    if net == 0 or not kdv_idx:
        return taxes
    out = list(taxes)
    left = net
    for n, i in enumerate(kdv_idx):
        t = taxes[i]
        share = (
            left
            if n == len(kdv_idx) - 1
            else round_amount(net * t.taxable / base)
            if base
            else ZERO
        )
        left -= share
        taxable = t.taxable + share
        amount = round_amount(taxable * (t.percent or 0) / _HUNDRED)
        out[i] = TaxAmount(
            t.code, t.name, t.percent, taxable, amount, t.exemption_code, t.exemption_reason
        )
    return out


def _group_withholdings(lines: Sequence[LineTotals]) -> list[WithholdingAmount]:
    groups: dict[tuple[str, Decimal], Decimal] = {}
    for lt in lines:
        if lt.withholding is not None:
            key = (lt.withholding.code, lt.withholding.percent)
            groups[key] = groups.get(key, ZERO) + lt.withholding.taxable
    return [
        WithholdingAmount(code, pct, taxable, round_amount(taxable * pct / _HUNDRED))
        for (code, pct), taxable in groups.items()
    ]


def compute(draft: InvoiceDraft) -> InvoiceTotals:
    """All amounts of an invoice draft, as they are written to the XML."""
    lines = tuple(compute_line(line) for line in draft.lines)
    line_extension = sum((lt.line_extension for lt in lines), ZERO)
    acs = tuple(_allowance(ac, line_extension) for ac in draft.allowances_charges)
    allowance_total = sum((a.amount for a in acs if not a.charge), ZERO)
    charge_total = sum((a.amount for a in acs if a.charge), ZERO)
    tax_exclusive = line_extension - allowance_total + charge_total
    taxes = _spread(_group_taxes(lines), charge_total - allowance_total)
    tax_amount = sum((t.amount for t in taxes), ZERO)
    withholdings = tuple(_group_withholdings(lines))
    withholding_amount = sum((w.amount for w in withholdings), ZERO)
    tax_inclusive = tax_exclusive + tax_amount
    rounding = draft.payable_rounding
    payable = tax_inclusive - withholding_amount + (rounding or ZERO)
    return InvoiceTotals(
        lines=lines,
        allowances_charges=acs,
        taxes=tuple(taxes),
        tax_amount=tax_amount,
        withholdings=withholdings,
        withholding_amount=withholding_amount,
        line_extension=line_extension,
        allowance_total=allowance_total,
        charge_total=charge_total,
        tax_exclusive=tax_exclusive,
        tax_inclusive=tax_inclusive,
        payable_rounding=rounding,
        payable=payable,
    )
