from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from entegrator.documents import AllowanceCharge, OtherTax, build_invoice, compute, parse_invoice
from entegrator.documents.totals import round_amount
from tests.arithmetic import recompute
from tests.documents.factory import draft, line
from tests.oracle import check

D = Decimal


def test_withholding_worked_example() -> None:
    # ubl-tr.md §7: 10,000.00 + KDV 20 % with 612 (9/10) → withheld 1,800, payable 10,200.
    d = draft(
        type="TEVKIFAT",
        lines=[line(unit_price=D("10000"), withholding_code="612", withholding_percent=D(90))],
    )
    t = compute(d)
    assert t.tax_amount == D("2000.00")
    assert t.withholding_amount == D("1800.00")
    assert t.tax_inclusive == D("12000.00")
    assert t.payable == D("10200.00")
    xml = build_invoice(d)
    assert check(xml).errors == []
    assert b"<cbc:Percent>90</cbc:Percent>" in xml  # written as GİB's list spells it


def test_single_allowed_withholding_percent_is_filled_in() -> None:
    # 602 allows only 90; 612 allows 70 and 90, so it must be chosen.
    xml = build_invoice(draft(type="TEVKIFAT", lines=[line(withholding_code="602")]))
    assert b"<cbc:TaxTypeCode>602</cbc:TaxTypeCode>" in xml and check(xml).errors == []


def test_minimal_skeleton_amounts() -> None:
    # ubl-tr.md §14: 2 × 500.00 at KDV 20 % → 1000.00 + 200.00 = 1200.00.
    t = compute(draft(lines=[line(quantity=D(2), unit_price=D(500))]))
    assert (t.line_extension, t.tax_amount, t.payable) == (D("1000.00"), D("200.00"), D("1200.00"))


def test_line_allowance_rate_and_otv_in_kdv_base() -> None:
    d = draft(
        lines=[
            line(
                quantity=D(3),
                unit_price=D("33.333"),
                kdv_percent=D(10),
                allowances_charges=[AllowanceCharge(rate=D("0.1"))],
                other_taxes=[OtherTax(code="0071", percent=D(5))],
            )
        ]
    )
    lt = compute(d).lines[0]
    assert lt.line_extension == D("100.00") - D("10.00")  # round(99.999) = 100.00, 10 % off
    otv, kdv = lt.taxes
    assert otv.amount == D("4.50")
    assert kdv.taxable == D("94.50") and kdv.amount == D("9.45")


def test_document_allowance_reduces_kdv_bases_pro_rata() -> None:
    d = draft(
        lines=[
            line(unit_price=D(300), kdv_percent=D(20)),
            line(unit_price=D(100), kdv_percent=D(10)),
        ],
        allowances_charges=[AllowanceCharge(amount=D(40))],
    )
    t = compute(d)
    assert t.tax_exclusive == D("360.00")
    bases = {tax.percent: tax.taxable for tax in t.taxes}
    assert bases == {D(20): D("270.00"), D(10): D("90.00")}
    assert t.tax_amount == D("54.00") + D("9.00")
    assert recompute(build_invoice(d)) == []


def test_rounding_is_half_up() -> None:
    assert round_amount(D("0.125")) == D("0.13")
    assert round_amount(D("0.124999")) == D("0.12")


prices = st.decimals(min_value=D("0.01"), max_value=D("99999"), places=4)
quantities = st.decimals(min_value=D("0.001"), max_value=D("10000"), places=3)
rates = st.sampled_from([D(0), D(1), D(10), D(20)])
allowance_rates = st.sampled_from([None, D("0.05"), D("0.1"), D("0.333")])


@st.composite
def lines(draw: st.DrawFn) -> list:  # type: ignore[type-arg]
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=30))):
        kdv = draw(rates)
        rate = draw(allowance_rates)
        out.append(
            line(
                quantity=draw(quantities),
                unit_price=draw(prices),
                kdv_percent=kdv,
                exemption_code="351" if kdv == 0 else None,
                allowances_charges=[AllowanceCharge(rate=rate)] if rate else [],
            )
        )
    return out


@settings(max_examples=60, deadline=None)
@given(lines(), st.sampled_from(["TRY", "USD"]))
def test_totals_invariants_and_round_trip(ls: list, currency: str) -> None:  # type: ignore[type-arg]
    extra = {"currency": currency, "exchange_rate": D("34.5678")} if currency != "TRY" else {}
    d = draft(lines=ls, **extra)
    t = compute(d)
    assert t.line_extension == sum(lt.line_extension for lt in t.lines)
    assert t.tax_amount == sum(x.amount for x in t.taxes)
    assert t.payable == t.tax_exclusive + t.tax_amount - t.withholding_amount
    for x in t.taxes:
        assert abs(x.taxable * (x.percent or 0) / 100 - x.amount) <= D("0.005")
    # Document subtotals never drift from the lines by more than half a kuruş per line.
    line_kdv = sum((lt.kdv.amount for lt in t.lines), D(0))
    assert abs(line_kdv - sum(x.amount for x in t.taxes)) <= D("0.005") * len(ls) + D("0.005")
    xml = build_invoice(d)
    assert recompute(xml) == []
    assert build_invoice(parse_invoice(xml)) == xml
