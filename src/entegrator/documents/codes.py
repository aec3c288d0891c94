"""GİB code lists (kod listeleri) and our invoice rule tables, as read-only data.

Code values keep GİB's spelling (``ProfileID.TICARIFATURA``). The lists come from
``data/code_lists.json`` (regenerated from GİB's package by ``scripts/gen_code_lists.py``);
the profile × type matrix and tax tables from ``data/invoice_rules.json``
(``scripts/gen_invoice_rules.py``).

>>> is_in("UnitCodeList", "C62"), is_in("UnitCodeList", "ADET")
(True, False)
>>> allowed_types(ProfileID.TICARIFATURA).__contains__(InvoiceTypeCode.IADE)
False
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "EARCHIVE_TYPE",
    "INTERNET",
    "INTERNET_PAYMENT_MEANS",
    "SENDING_TYPE",
    "InvoiceTypeCode",
    "ProfileID",
    "allowed_types",
    "code_list",
    "code_lists_source",
    "is_in",
    "rules",
    "tax_name",
    "withholding_percents",
]


# e-Arşiv markers in ``AdditionalDocumentReference`` (DocumentTypeCode → DocumentType):
# the sending type (KAGIT/ELEKTRONIK) and the internet-sale marker, as integrators write them
# (``earsiv-and-others.md`` §1.2; the internet marker as in the izibiz e-Arşiv samples).
SENDING_TYPE = "SendingType"
EARCHIVE_TYPE = "EArchiveType"
INTERNET = "INTERNET"
# PaymentMeansCode (UN/EDIFACT 4461) written for each e-Arşiv ödeme şekli; the exact ödeme
# şekli travels in InstructionNote, which is what a reader trusts.
INTERNET_PAYMENT_MEANS = {
    "KREDIKARTI/BANKAKARTI": "48",
    "EFT/HAVALE": "42",
    "KAPIDAODEME": "1",
    "ODEMEARACISI": "ZZZ",
    "DIGER": "ZZZ",
}


class ProfileID(StrEnum):
    """Senaryo: the invoice scenario (``overview.md`` §3)."""

    TEMELFATURA = "TEMELFATURA"
    TICARIFATURA = "TICARIFATURA"
    IHRACAT = "IHRACAT"
    YOLCUBERABERFATURA = "YOLCUBERABERFATURA"
    OZELFATURA = "OZELFATURA"
    KAMU = "KAMU"
    HKS = "HKS"
    ENERJI = "ENERJI"
    ILAC_TIBBICIHAZ = "ILAC_TIBBICIHAZ"
    YATIRIMTESVIK = "YATIRIMTESVIK"
    IDIS = "IDIS"
    EARSIVFATURA = "EARSIVFATURA"


class InvoiceTypeCode(StrEnum):
    """Fatura tipi (``overview.md`` §4)."""

    SATIS = "SATIS"
    IADE = "IADE"
    TEVKIFAT = "TEVKIFAT"
    TEVKIFATIADE = "TEVKIFATIADE"
    ISTISNA = "ISTISNA"
    OZELMATRAH = "OZELMATRAH"
    IHRACKAYITLI = "IHRACKAYITLI"
    SGK = "SGK"
    KOMISYONCU = "KOMISYONCU"
    HKSSATIS = "HKSSATIS"
    HKSKOMISYONCU = "HKSKOMISYONCU"
    KONAKLAMAVERGISI = "KONAKLAMAVERGISI"
    SARJ = "SARJ"
    SARJANLIK = "SARJANLIK"
    TEKNOLOJIDESTEK = "TEKNOLOJIDESTEK"
    YTBSATIS = "YTBSATIS"
    YTBIADE = "YTBIADE"
    YTBISTISNA = "YTBISTISNA"
    YTBTEVKIFAT = "YTBTEVKIFAT"
    YTBTEVKIFATIADE = "YTBTEVKIFATIADE"


def _load(name: str) -> dict[str, Any]:
    text = resources.files("entegrator.documents.data").joinpath(name).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _code_lists() -> dict[str, Any]:
    return _load("code_lists.json")


@cache
def rules() -> dict[str, Any]:
    """The invoice rule tables (profile × type, exemption families, taxes)."""
    return _load("invoice_rules.json")


@cache
def code_list(name: str) -> frozenset[str]:
    """One GİB code list by its GİB name, e.g. ``UnitCodeList``, ``CurrencyCodeList``."""
    return frozenset(_code_lists()["lists"][name])


def code_lists_source() -> dict[str, Any]:
    """Where the code lists came from (package and GİB versions)."""
    source: dict[str, Any] = _code_lists()["_source"]
    return source


def is_in(name: str, value: str) -> bool:
    return value in code_list(name)


@cache
def allowed_types(profile: ProfileID) -> frozenset[InvoiceTypeCode]:
    return frozenset(InvoiceTypeCode(t) for t in rules()["profile_types"][str(profile)])


def tax_name(code: str) -> str:
    taxes: dict[str, dict[str, Any]] = rules()["taxes"]
    return str(taxes[code]["name"]) if code in taxes else code


@cache
def withholding_percents(code: str) -> tuple[str, ...]:
    """The percents GİB allows for a withholding (tevkifat) code, e.g. ``612`` → ``('90',)``."""
    if code not in code_list("WithholdingTaxType"):
        return ()
    pairs = code_list("WithholdingTaxTypeWithPercent")
    return tuple(sorted(p[len(code) :] for p in pairs if p.startswith(code)))
