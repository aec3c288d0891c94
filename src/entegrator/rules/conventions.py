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

from dataclasses import dataclass

__all__ = ["CONVENTIONS", "Convention"]


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
