"""Amount conventions (tutar gösterim biçimleri): GİB's own samples add up in other ways.

GİB does not check the arithmetic (``shared/docs/gib/checks.md`` §5), and its own sample
documents write some totals differently from the plain formulas of ``ubl-tr.md`` §8. Each
convention below names the GİB sample it comes from (in ``shared/corpus/external/``). The
arithmetic layer recognises a convention only when the document's figures add up exactly under
it; then it reports one finding naming the convention instead of the mismatches. Its severity
is the purpose's (``rules/purposes.py``): an error for what we send, a warning otherwise.

* ``line-discounts``: ``LegalMonetaryTotal/LineExtensionAmount`` is the lines' amount *before*
  their discounts, and ``AllowanceTotalAmount`` holds the line discounts.
  GİB's ``TicariFaturaOrnegi.xml`` (``phax__phive-rules/TicariFaturaOrnegi.xml``).
* ``withholding-net-tax-total``: on a withholding invoice ``TaxTotal/TaxAmount`` is the KDV
  minus the withheld part. GİB's ``TEVKIFAT.xml`` and the YTB samples
  (``phax__phive-rules/TEVKIFAT.xml``, ``phax__phive-rules/YTB_Tevkifat_EArsiv.xml``).
* ``ytb-istisna``: a YTB İSTİSNA invoice shows the exempt KDV in its subtotal
  (``CalculationSequenceNumeric`` -1) but counts it neither in ``TaxTotal/TaxAmount`` nor in
  ``TaxInclusiveAmount``. GİB's ``YTB_Istisna_EArsiv.xml`` and ``YTB_Istisna_Efatura.xml``.
* ``ozelmatrah``: an ÖZELMATRAH invoice computes KDV on the special base but leaves it out of
  ``TaxInclusiveAmount``. GİB's ``OZELMATRAH.xml`` (``phax__phive-rules/OZELMATRAH.xml``).
* ``hks-komisyoncu``: an HKS KOMISYONCU invoice writes the market deductions (``HKS…``
  allowances: commission, freight, rüsum and their KDV) as ``ChargeTotalAmount`` and takes them
  off ``PayableAmount``, not off ``TaxExclusiveAmount``. GİB's ``HKS-Ornek2.xml``
  (``phax__phive-rules/HKS-Ornek2.xml``).
* ``fixed-levy``: a fixed levy (tax code 8006, telekomünikasyon kullanım ücreti) is an amount,
  not a rate: its subtotal carries ``Percent`` 0 with a non-zero ``TaxAmount``. No corpus
  document shows it; GİB's tax-code list has 8006 and the schematron allows any percent.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from entegrator.findings import Finding, Severity, Source
from entegrator.findings.paths import element_path, line_of

__all__ = ["CONVENTIONS", "TOTALS", "Convention", "Facts", "Mismatch", "best_reading", "finding"]

TOTALS = (
    "LineExtensionAmount",
    "AllowanceTotalAmount",
    "ChargeTotalAmount",
    "TaxExclusiveAmount",
    "TaxInclusiveAmount",
    "PayableRoundingAmount",
    "PayableAmount",
)
_HKS_KOMISYONCU = frozenset({"KOMISYONCU", "HKSKOMISYONCU"})
_KURUS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Convention:
    """One amount convention: its name, the GİB sample it comes from and what it means."""

    name: str
    sample: str
    message_tr: str
    message_en: str

    @property
    def code(self) -> str:
        return f"arith-convention-{self.name}"


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "line-discounts",
            "TicariFaturaOrnegi.xml",
            "LineExtensionAmount satır iskontolarından önceki tutar, AllowanceTotalAmount "
            "satır iskontolarını içeriyor",
            "LineExtensionAmount is before the line discounts and AllowanceTotalAmount holds them",
        ),
        Convention(
            "withholding-net-tax-total",
            "TEVKIFAT.xml, YTB_Tevkifat_*.xml",
            "TaxTotal/TaxAmount KDV'den tevkif edilen kısım düşülerek yazılmış",
            "TaxTotal/TaxAmount is the KDV minus the withheld part",
        ),
        Convention(
            "ytb-istisna",
            "YTB_Istisna_EArsiv.xml, YTB_Istisna_Efatura.xml",
            "İstisna edilen KDV alt toplamda gösterilmiş, vergi toplamına ve vergiler dahil "
            "tutara katılmamış",
            "The exempt KDV is shown in its subtotal but not counted in the tax total or "
            "TaxInclusiveAmount",
        ),
        Convention(
            "ozelmatrah",
            "OZELMATRAH.xml",
            "Özel matrah üzerinden hesaplanan KDV vergiler dahil tutara katılmamış",
            "The KDV computed on the special base is not in TaxInclusiveAmount",
        ),
        Convention(
            "hks-komisyoncu",
            "HKS-Ornek2.xml",
            "HKS kesintileri ChargeTotalAmount olarak yazılmış ve ödenecek tutardan düşülmüş",
            "The HKS deductions are written as ChargeTotalAmount and taken off PayableAmount",
        ),
        Convention(
            "fixed-levy",
            "none in the corpus (tax code 8006)",
            "Maktu vergi (8006) %0 oranla sabit tutar olarak yazılmış",
            "A fixed levy (8006) is written as an amount at Percent 0",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Facts:
    """The figures a document's LegalMonetaryTotal is checked against (Σ of what is written)."""

    lines: Decimal  # Σ line LineExtensionAmount
    line_allowances: Decimal
    line_charges: Decimal
    allowances: Decimal  # document-level, HKS deductions included
    charges: Decimal
    hks: Decimal  # document allowances whose reason starts with HKS
    taxes: Decimal  # Σ TaxTotal subtotals
    kdv: Decimal  # Σ KDV (0015) subtotals
    exempt_kdv: Decimal  # KDV subtotals with CalculationSequenceNumeric -1 (YTB İSTİSNA)
    withheld: Decimal


Mismatch = tuple[str, str, Decimal, Decimal]  # total name, code, expected, written


def _applicable(facts: Facts, profile: str, type_: str) -> list[str]:
    """The conventions whose structure the document has (whether its figures fit is next)."""
    found = []
    if facts.line_allowances or facts.line_charges:
        found.append("line-discounts")
    komisyoncu = type_ == "HKSKOMISYONCU" or (profile == "HKS" and type_ in _HKS_KOMISYONCU)
    if komisyoncu and facts.hks:
        found.append("hks-komisyoncu")
    if type_ == "OZELMATRAH" and facts.kdv:
        found.append("ozelmatrah")
    if facts.exempt_kdv:
        found.append("ytb-istisna")
    return found


def read_totals(
    values: dict[str, Decimal | None], facts: Facts, reading: frozenset[str]
) -> list[Mismatch]:
    """The document totals that do not add up when read with the conventions in ``reading``
    (empty: the plain formulas of ``ubl-tr.md`` §8). A total that is not written is skipped."""

    def used(name: str, fallback: Decimal) -> Decimal:
        value = values[name]
        return value if value is not None else fallback

    hks = facts.hks if "hks-komisyoncu" in reading else Decimal(0)
    line_ext = facts.lines
    allowances, charges = facts.allowances - hks, facts.charges + hks
    if "line-discounts" in reading:
        line_ext += facts.line_allowances - facts.line_charges
        # Some producers also copy the line discounts into a document allowance (izibiz
        # FATURA_9.xml): then AllowanceTotalAmount holds them once, not twice.
        if allowances != facts.line_allowances:
            allowances += facts.line_allowances
        charges += facts.line_charges
    exclusive = (
        used("LineExtensionAmount", line_ext)
        - used("AllowanceTotalAmount", allowances)
        + used("ChargeTotalAmount", charges)
        - hks
    )
    taxes = facts.taxes
    if "ozelmatrah" in reading:
        taxes -= facts.kdv
    if "ytb-istisna" in reading:
        taxes -= facts.exempt_kdv
    inclusive = used("TaxExclusiveAmount", exclusive) + taxes
    payable = (
        used("TaxInclusiveAmount", inclusive)
        - facts.withheld
        - hks
        + used("PayableRoundingAmount", Decimal(0))
    )
    checks = (
        ("LineExtensionAmount", "arith-line-extension", line_ext),
        ("AllowanceTotalAmount", "arith-allowance-total", allowances),
        ("ChargeTotalAmount", "arith-charge-total", charges),
        ("TaxExclusiveAmount", "arith-tax-exclusive", exclusive),
        ("TaxInclusiveAmount", "arith-tax-inclusive", inclusive),
        ("PayableAmount", "arith-payable", payable),
    )
    out: list[Mismatch] = []
    for name, code, expected in checks:
        written = values[name]
        if written is None:
            continue
        if name in ("AllowanceTotalAmount", "ChargeTotalAmount") and written == 0 and not expected:
            continue
        if expected != written:
            out.append((name, code, expected, written))
    return out


def best_reading(
    values: dict[str, Decimal | None], facts: Facts, *, profile: str, type_: str
) -> tuple[frozenset[str], list[Mismatch]]:
    """The reading of the totals (a set of conventions) and what does not add up under it.

    Every combination of the conventions the document's structure allows is tried, smallest
    first; the one with the fewest mismatches (those beyond a kuruş counting first) wins, the
    plain reading on a tie. So a document that fits no convention is judged plainly.
    """
    best: tuple[tuple[int, int], frozenset[str], list[Mismatch]] | None = None
    applicable = _applicable(facts, profile, type_)
    for size in range(len(applicable) + 1):
        for combo in itertools.combinations(applicable, size):
            reading = frozenset(combo)
            found = read_totals(values, facts, reading)
            beyond = sum(
                1 for _n, _c, expected, written in found if abs(expected - written) > _KURUS
            )
            score = (beyond, len(found))
            if best is None or score < best[0]:
                best = (score, reading, found)
    assert best is not None  # noqa: S101 - the plain reading always runs
    return best[1], best[2]


def finding(name: str, node: etree._Element, severity: Severity) -> Finding:
    """The one finding that says the document follows convention ``name`` (at ``node``)."""
    convention = CONVENTIONS[name]
    return Finding(
        code=convention.code,
        severity=severity,
        source=Source.ARITHMETIC,
        line=line_of(node),
        xpath=element_path(node),
        message_tr=f"Tutar gösterim biçimi '{name}' (GİB örneği {convention.sample}): "
        f"{convention.message_tr}",
        message_en=f"Amount convention '{name}' (GİB sample {convention.sample}): "
        f"{convention.message_en}",
        hint="Gönderdiğimiz belgelerde tutarlar ubl-tr.md §8'deki düz formüllerle yazılır.",
        hint_en="Documents we send write the plain formulas of ubl-tr.md §8.",
    )
