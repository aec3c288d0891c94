"""Regenerate ``src/entegrator/documents/data/invoice_rules.json``.

The tables below transcribe GİB's e-Fatura Paketi schematron (rule ids in the comments) and,
where GİB is silent, the stricter reading of ``shared/docs/gib/overview.md`` §3–4 and
``ubl-tr.md`` §5–7. Edit this script, run it, commit both; never edit the JSON by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "src/entegrator/documents/data/invoice_rules.json"

E_FATURA_GENERAL = [
    "SATIS",
    "TEVKIFAT",
    "TEVKIFATIADE",
    "ISTISNA",
    "OZELMATRAH",
    "IHRACKAYITLI",
    "SGK",
    "KOMISYONCU",
    "KONAKLAMAVERGISI",
]

PROFILE_TYPES = {
    # IADE only in these profiles: InvoiceTypeCodeCheck-2.
    "TEMELFATURA": [*E_FATURA_GENERAL, "IADE"],
    "KAMU": [*E_FATURA_GENERAL, "IADE"],
    # A TICARIFATURA is returned by a RED application response, never by IADE.
    "TICARIFATURA": E_FATURA_GENERAL,
    # Stricter reading (overview.md §3): an export invoice is an ISTISNA with 301/302 and friends.
    "IHRACAT": ["ISTISNA"],
    # Tax-free sale to a traveller: KDV shown (SATIS) or exempt (ISTISNA) [unconfirmed].
    "YOLCUBERABERFATURA": ["SATIS", "ISTISNA"],
    "OZELFATURA": ["ISTISNA"],
    # GİB's schematron restricts no type to HKS beyond the general rules, and its own HKS
    # samples are SATIS (HKS-Ornek1.xml) and KOMISYONCU (HKS-Ornek2.xml).
    "HKS": [*E_FATURA_GENERAL, "HKSSATIS", "HKSKOMISYONCU"],
    # InvoiceTypeCodeCheck-3: SARJ/SARJANLIK <=> ENERJI in e-Fatura mode.
    "ENERJI": ["SARJ", "SARJANLIK"],
    # IlacTibbiCihazInvoiceTypeCodeCheck-1, YatirimTesvikInvoiceTypeCodeCheck-1,
    # IdisInvoiceTypeCodeCheck-1.
    "ILAC_TIBBICIHAZ": ["SATIS", "ISTISNA", "TEVKIFAT", "TEVKIFATIADE", "IADE", "IHRACKAYITLI"],
    "YATIRIMTESVIK": ["SATIS", "ISTISNA", "IADE", "TEVKIFAT", "TEVKIFATIADE"],
    "IDIS": ["SATIS", "ISTISNA", "IADE", "TEVKIFAT", "TEVKIFATIADE", "IHRACKAYITLI"],
    # e-Arşiv: the general list, TEKNOLOJIDESTEK (InvoiceTypeCodeCheck-4) and the YTB* types.
    "EARSIVFATURA": [
        *E_FATURA_GENERAL,
        "IADE",
        "HKSSATIS",
        "HKSKOMISYONCU",
        "SARJ",
        "SARJANLIK",
        "TEKNOLOJIDESTEK",
        "YTBSATIS",
        "YTBIADE",
        "YTBISTISNA",
        "YTBTEVKIFAT",
        "YTBTEVKIFATIADE",
    ],
}

RULES = {
    "profile_types": PROFILE_TYPES,
    # GeneralWithholdingTaxTotalCheck-1.
    "withholding_types": ["TEVKIFAT", "YTBTEVKIFAT", "IADE", "YTBIADE", "SGK", "SARJ", "SARJANLIK"],
    # Types that must carry withholding on at least one line (stricter reading).
    "withholding_required_types": ["TEVKIFAT", "YTBTEVKIFAT"],
    # Types that reference the returned invoices (IADEInvioceCheck, BillingReferenceCheck).
    "return_types": ["IADE", "TEVKIFATIADE", "YTBIADE", "YTBTEVKIFATIADE"],
    # A 0 KDV subtotal needs an exemption reason except for these types (TaxExemptionReasonCheck).
    "zero_kdv_without_reason_types": [
        "IADE",
        "YTBIADE",
        "IHRACKAYITLI",
        "OZELMATRAH",
        "SGK",
        "KONAKLAMAVERGISI",
    ],
    # Exemption code families and the types they may appear with (ubl-tr.md §6).
    "exemption_families": {
        "istisna": {
            "list": "istisnaTaxExemptionReasonCodeType",
            "types": ["ISTISNA", "IADE", "IHRACKAYITLI", "SGK", "YTBISTISNA", "YTBIADE"],
        },
        "ozelmatrah": {
            "list": "ozelMatrahTaxExemptionReasonCodeType",
            "types": ["OZELMATRAH", "IADE", "SGK"],
        },
        "ihrackayitli": {
            "list": "ihracExemptionReasonCodeType",
            "types": ["IHRACKAYITLI", "IADE", "SGK"],
        },
    },
    # Types whose every line must use a code of the family (stricter reading).
    "type_requires_family": {
        "ISTISNA": "istisna",
        "YTBISTISNA": "istisna",
        "OZELMATRAH": "ozelmatrah",
        "IHRACKAYITLI": "ihrackayitli",
    },
    "unrestricted_exemption_codes": ["151", "351"],
    # Exemption reason texts we can fill in when the draft gives only the code.
    "exemption_names": {
        "301": "11/1-a Mal ihracatı",
        "302": "11/1-b Hizmet ihracatı",
        "351": "KDV - İstisna olmayan diğer",
        "701": "3065 sayılı KDV Kanunu 11/1-c md. kapsamındaki ihraç kayıtlı teslimler",
    },
    # Profiles addressed to the Ministry of Trade (customer VKN 1460415308, TaxFreeInvoiceCheck-1).
    "gtb_profiles": ["IHRACAT", "YOLCUBERABERFATURA", "OZELFATURA"],
    "gtb_vkn": "1460415308",
    "kdv_rates": ["0", "1", "10", "20"],
    # Taxes whose amount enters the KDV base (ÖTV lists; ubl-tr.md §6).
    "taxes": {
        "0003": {"name": "GV STOPAJI", "in_kdv_base": False},
        "0011": {"name": "KV STOPAJI", "in_kdv_base": False},
        "0015": {"name": "KDV", "in_kdv_base": False},
        "0021": {"name": "BSMV", "in_kdv_base": False},
        "0022": {"name": "SMV", "in_kdv_base": False},
        "0059": {"name": "KONAKLAMA VERGİSİ", "in_kdv_base": False},
        "0061": {"name": "KKDF KESİNTİ", "in_kdv_base": False},
        "0071": {"name": "ÖTV 1.LİSTE", "in_kdv_base": True},
        "0073": {"name": "ÖTV 3.LİSTE", "in_kdv_base": True},
        "0074": {"name": "ÖTV 4.LİSTE", "in_kdv_base": True},
        "0075": {"name": "ÖTV 3A LİSTE", "in_kdv_base": True},
        "0076": {"name": "ÖTV 3B LİSTE", "in_kdv_base": True},
        "0077": {"name": "ÖTV 3C LİSTE", "in_kdv_base": True},
        "1047": {"name": "DAMGA V", "in_kdv_base": False},
        "1048": {"name": "5035SKDAMGAV", "in_kdv_base": False},
        "4071": {"name": "ELK.HAVAGAZ.TÜK.V.", "in_kdv_base": False},
        "4080": {"name": "Ö.İLETİŞİM V", "in_kdv_base": False},
        "4081": {"name": "5035ÖZİLETV.", "in_kdv_base": False},
        "4171": {"name": "PTV TEVKİFAT", "in_kdv_base": False},
        "8001": {"name": "BORSA TES.ÜC.", "in_kdv_base": False},
        "8002": {"name": "ENERJİ FONU", "in_kdv_base": False},
        "8004": {"name": "TRT PAYI", "in_kdv_base": False},
        "8005": {"name": "ELK.TÜK.VER.", "in_kdv_base": False},
        "8006": {"name": "TK KULLANIM", "in_kdv_base": False},
        "8007": {"name": "TK RUHSAT", "in_kdv_base": False},
        "8008": {"name": "ÇEV. TEM .VER.", "in_kdv_base": False},
        "9015": {"name": "KDV TEVKİFAT", "in_kdv_base": False},
        "9021": {"name": "4961 BANKA SMV", "in_kdv_base": False},
        "9040": {"name": "MERA FONU", "in_kdv_base": False},
        "9077": {"name": "ÖTV 2.LİSTE", "in_kdv_base": True},
        "9944": {"name": "BELEDİYELERE ÖDENEN HAL RÜSUMU", "in_kdv_base": False},
    },
}


def main() -> None:
    out = {
        "_source": {
            "gib_package": "e-Fatura Paketi 29 schematron (via efatura-kontrol 0.1.0)",
            "docs": "shared/docs/gib/overview.md §3-4, ubl-tr.md §5-7",
            "date": "2026-11-24",
            "generated_by": "scripts/gen_invoice_rules.py",
        },
        **RULES,
    }
    TARGET.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
