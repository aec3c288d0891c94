"""Taslak kontrolü: what must hold before a draft becomes XML.

These are the checks a draft must pass to be built at all: GİB's profile × type matrix,
the identity form of the parties, code lists, and the data each profile and type needs
(``overview.md`` §3–4, ``ubl-tr.md`` §4–7). Every problem is collected with the JSON path
where it was found; :func:`ensure_buildable` raises them together. The fuller verdict on a
built document (XSD, schematron, arithmetic) is the job of ``entegrator.rules``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from entegrator.documents._earsiv_checks import check_earsiv
from entegrator.documents.codes import (
    InvoiceTypeCode,
    ProfileID,
    allowed_types,
    code_list,
    is_in,
    rules,
    withholding_percents,
)
from entegrator.documents.errors import CombinationError, DraftError, Problem
from entegrator.documents.model import InvoiceDraft, Line, Party
from entegrator.documents.totals import KDV, compute_line, exemption_reason

__all__ = ["check_draft", "ensure_buildable", "normalize"]

_IBAN_TR = re.compile(r"^TR\d{7}[A-Z0-9]{17}$")
_LEGACY_KDV = {"8", "18"}
_YTB_CODES = {"308", "339"}


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, code: str, where: str, tr: str, en: str) -> None:
        self.problems.append(Problem(code, where, tr, en))


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def normalize(draft: InvoiceDraft) -> InvoiceDraft:
    """Fill what has one right answer: a single-rate withholding percent, e-Arşiv sending type."""
    changes: dict[str, object] = {}
    lines = []
    changed = False
    for original in draft.lines:
        line = original
        if line.withholding_code and line.withholding_percent is None:
            percents = withholding_percents(line.withholding_code)
            if len(percents) == 1:
                line = line.model_copy(update={"withholding_percent": Decimal(percents[0])})
                changed = True
        lines.append(line)
    if changed:
        changes["lines"] = lines
    if draft.profile is ProfileID.EARSIVFATURA and draft.sending_type is None:
        changes["sending_type"] = "ELEKTRONIK"
    return draft.model_copy(update=changes) if changes else draft


def _check_party(c: _Collector, party: Party, where: str, *, placeholder_ok: bool) -> None:
    if party.party_type is not None:
        c.add(
            "PARTY_TYPE_MISPLACED",
            where,
            "PARTYTYPE yalnız alıcı (BuyerCustomerParty) için kullanılır",
            "party_type is only for the buyer (BuyerCustomerParty)",
        )
        return
    if party.vkn is None and party.tckn is None:
        c.add("PARTY_ID_MISSING", where, "VKN ya da TCKN verilmeli", "a VKN or a TCKN is required")
    if party.vkn is not None:
        if not (len(party.vkn) == 10 and party.vkn.isascii() and party.vkn.isdigit()):
            c.add(
                "VKN_FORMAT",
                f"{where}.vkn",
                "VKN 10 haneli bir sayı olmalı",
                "a VKN is exactly 10 digits",
            )
        elif party.vkn == "2222222222" and not placeholder_ok:
            c.add(
                "VKN_PLACEHOLDER",
                f"{where}.vkn",
                "2222222222 yalnız e-Arşiv faturasında vergi numarası olmayan yabancı alıcı "
                "için kullanılabilir",
                "2222222222 is only for a foreign buyer without a Turkish tax number on an "
                "e-Arşiv invoice",
            )
        if not party.name:
            c.add(
                "PARTY_NAME_MISSING",
                f"{where}.name",
                "VKN'li tarafın unvanı (name) zorunlu",
                "a party with a VKN needs its title (name)",
            )
    if party.tckn is not None:
        if not (len(party.tckn) == 11 and party.tckn.isascii() and party.tckn.isdigit()):
            c.add(
                "TCKN_FORMAT",
                f"{where}.tckn",
                "TCKN 11 haneli bir sayı olmalı",
                "a TCKN is exactly 11 digits",
            )
        elif party.tckn == "11111111111" and not placeholder_ok:
            c.add(
                "TCKN_PLACEHOLDER",
                f"{where}.tckn",
                "11111111111 yalnız e-Arşiv faturasında nihai tüketici için kullanılabilir",
                "11111111111 is only for an unidentified consumer on an e-Arşiv invoice",
            )
        if not (party.first_name and party.family_name):
            c.add(
                "PERSON_NAME_MISSING",
                where,
                "TCKN'li tarafın adı ve soyadı zorunlu",
                "a party with a TCKN needs first_name and family_name",
            )
    _check_address_country(c, party, where)


def _check_address_country(c: _Collector, party: Party, where: str) -> None:
    code = party.address.country_code
    if code is not None and not is_in("CountryCodeList", code):
        c.add(
            "COUNTRY_CODE",
            f"{where}.address.country_code",
            f"Geçersiz ülke kodu {code}",
            f"unknown country code {code}",
        )


def _check_line(c: _Collector, draft: InvoiceDraft, line: Line, where: str) -> None:
    t = draft.type
    r = rules()
    if not is_in("UnitCodeList", line.unit_code):
        c.add(
            "UNIT_CODE",
            f"{where}.unit_code",
            f"'{line.unit_code}' GİB birim kod listesinde yok (adet için C62, kg için KGM)",
            f"'{line.unit_code}' is not in GİB's unit code list (C62 for pieces, KGM for kg)",
        )
    pct = _fmt(line.kdv_percent)
    if pct not in r["kdv_rates"] and pct not in _LEGACY_KDV:
        c.add(
            "KDV_RATE",
            f"{where}.kdv_percent",
            f"KDV oranı {pct} geçerli değil (0, 1, 10, 20)",
            f"KDV rate {pct} is not valid (0, 1, 10, 20)",
        )
    _check_exemption(c, draft, line, where)
    for i, tax in enumerate(line.other_taxes):
        if tax.code == KDV or not is_in("TaxType", tax.code):
            c.add(
                "TAX_CODE",
                f"{where}.other_taxes[{i}].code",
                f"'{tax.code}' KDV dışı geçerli bir vergi kodu değil",
                f"'{tax.code}' is not a valid non-KDV tax code",
            )
    if line.withholding_code is not None:
        if t.value not in r["withholding_types"]:
            c.add(
                "WITHHOLDING_NOT_ALLOWED",
                f"{where}.withholding_code",
                f"{t} tipinde tevkifat kullanılamaz",
                f"withholding is not allowed on type {t}",
            )
        allowed = withholding_percents(line.withholding_code)
        if not allowed:
            c.add(
                "WITHHOLDING_CODE",
                f"{where}.withholding_code",
                f"'{line.withholding_code}' geçerli bir tevkifat kodu değil",
                f"'{line.withholding_code}' is not a withholding code",
            )
        elif line.withholding_percent is None:
            c.add(
                "WITHHOLDING_PERCENT_MISSING",
                f"{where}.withholding_percent",
                f"Tevkifat oranı seçilmeli: {', '.join(allowed)}",
                f"choose the withholding percent: {', '.join(allowed)}",
            )
        elif _fmt(line.withholding_percent) not in allowed:
            c.add(
                "WITHHOLDING_PERCENT",
                f"{where}.withholding_percent",
                f"{line.withholding_code} için oran {', '.join(allowed)} olabilir",
                f"percent for {line.withholding_code} must be one of {', '.join(allowed)}",
            )
    elif line.withholding_percent is not None:
        c.add(
            "WITHHOLDING_CODE_MISSING",
            f"{where}.withholding_code",
            "Tevkifat oranı var, kodu yok",
            "withholding percent given without a code",
        )
    if line.special_base is not None and t not in (
        InvoiceTypeCode.OZELMATRAH,
        InvoiceTypeCode.IADE,
    ):
        c.add(
            "SPECIAL_BASE_NOT_ALLOWED",
            f"{where}.special_base",
            "Özel matrah yalnız OZELMATRAH faturasında",
            "special_base is only for OZELMATRAH",
        )
    if compute_line(line).line_extension < 0:
        c.add(
            "LINE_NEGATIVE",
            where,
            "İskontolar satır tutarını aşıyor",
            "allowances exceed the line amount",
        )


def _check_exemption(c: _Collector, draft: InvoiceDraft, line: Line, where: str) -> None:
    r = rules()
    t = draft.type.value
    code = line.exemption_code
    if line.kdv_percent == 0 and code is None and t not in r["zero_kdv_without_reason_types"]:
        c.add(
            "EXEMPTION_MISSING",
            f"{where}.exemption_code",
            "KDV %0 ise muafiyet/istisna kodu ve sebebi zorunlu (olağan satışta 351)",
            "a 0 % KDV line needs an exemption code and reason (351 on an ordinary sale)",
        )
    if code is None:
        if line.exemption_reason is not None:
            c.add(
                "EXEMPTION_CODE_MISSING",
                f"{where}.exemption_reason",
                "Muafiyet sebebi var, kodu yok",
                "exemption reason given without a code",
            )
        return
    ytb = code in _YTB_CODES
    if not (is_in("TaxExemptionReasonCodeType", code) or ytb):
        c.add(
            "EXEMPTION_CODE",
            f"{where}.exemption_code",
            f"'{code}' geçerli bir muafiyet kodu değil",
            f"'{code}' is not an exemption code",
        )
        return
    if ytb and draft.profile is not ProfileID.YATIRIMTESVIK and not t.startswith("YTB"):
        c.add(
            "EXEMPTION_YTB",
            f"{where}.exemption_code",
            f"{code} yalnız YATIRIMTESVIK ve e-Arşiv YTB tiplerinde",
            f"{code} is only for YATIRIMTESVIK and the e-Arşiv YTB types",
        )
    if (
        line.kdv_percent > 0
        and code != "555"
        and not is_in("ozelMatrahTaxExemptionReasonCodeType", code)
    ):
        c.add(
            "EXEMPTION_WITH_KDV",
            f"{where}.exemption_code",
            "KDV oranı 0 değilken muafiyet kodu verilemez",
            "an exemption code needs a 0 % KDV rate",
        )
    for family in r["exemption_families"].values():
        if code in code_list(family["list"]) and t not in family["types"]:
            c.add(
                "EXEMPTION_FAMILY",
                f"{where}.exemption_code",
                f"{code} kodu {t} tipinde kullanılamaz ({', '.join(family['types'])})",
                f"code {code} is not allowed on type {t} (only {', '.join(family['types'])})",
            )
    if exemption_reason(code, line.exemption_reason) is None:
        c.add(
            "EXEMPTION_REASON_MISSING",
            f"{where}.exemption_reason",
            f"{code} kodunun sebebi yazılmalı",
            f"write the reason text for code {code}",
        )


def _check_type(c: _Collector, draft: InvoiceDraft) -> None:
    r = rules()
    t = draft.type.value
    if t in r["return_types"] and not draft.billing_references:
        c.add(
            "RETURN_REFERENCE_MISSING",
            "billing_references",
            "İade faturası iade edilen faturaları (numara ve tarih) göstermeli",
            "a return invoice must reference the returned invoices (number and date)",
        )
    if t in r["withholding_required_types"] and not any(ln.withholding_code for ln in draft.lines):
        c.add(
            "WITHHOLDING_MISSING",
            "lines",
            f"{t} faturasında en az bir satırda tevkifat kodu olmalı",
            f"a {t} invoice needs a withholding code on at least one line",
        )
    family = r["type_requires_family"].get(t)
    if family:
        codes = code_list(r["exemption_families"][family]["list"])
        if not any(ln.exemption_code in codes for ln in draft.lines):
            c.add(
                "EXEMPTION_FAMILY_MISSING",
                "lines",
                f"{t} faturasında en az bir satır {family} kodu taşımalı",
                f"a {t} invoice needs at least one line with a {family} exemption code",
            )
    if t == "SGK" and not (
        draft.accounting_cost and is_in("AccountingCostCodeList", draft.accounting_cost)
    ):
        c.add(
            "SGK_SUBTYPE",
            "accounting_cost",
            "SGK faturasında alt tip (SAGLIK_ECZ…) zorunlu",
            "an SGK invoice needs its sub-type in accounting_cost (SAGLIK_ECZ…)",
        )
    if draft.allowances_charges and any(ln.withholding_code for ln in draft.lines):
        c.add(
            "ALLOWANCE_WITH_WITHHOLDING",
            "allowances_charges",
            "Tevkifatlı faturada belge iskontosu yerine satır iskontosu kullanın",
            "use line allowances, not document allowances, on an invoice with withholding",
        )


def _check_profile(c: _Collector, draft: InvoiceDraft) -> None:
    r = rules()
    p = draft.profile
    gtb = draft.customer.vkn == r["gtb_vkn"]
    if p.value in ("IHRACAT", "YOLCUBERABERFATURA") and not gtb:
        c.add(
            "GTB_CUSTOMER",
            "customer.vkn",
            f"{p} faturasının alıcısı Ticaret Bakanlığı (1460415308) olmalı",
            f"the customer of a {p} invoice is the Ministry of Trade (1460415308)",
        )
    if gtb and p.value not in (*r["gtb_profiles"], "KAMU"):
        c.add(
            "GTB_PROFILE",
            "profile",
            "1460415308'e yalnız IHRACAT/YOLCUBERABERFATURA kesilir",
            "1460415308 only receives IHRACAT or YOLCUBERABERFATURA invoices",
        )
    if p is ProfileID.IHRACAT:
        _check_export(c, draft)
    if p is ProfileID.YOLCUBERABERFATURA:
        _check_taxfree(c, draft)
    if p is ProfileID.KAMU and not any(
        pm.iban and _IBAN_TR.match(pm.iban) for pm in draft.payment_means
    ):
        c.add(
            "KAMU_IBAN",
            "payment_means",
            "KAMU faturasında geçerli bir TR IBAN zorunlu",
            "a KAMU invoice needs a valid Turkish IBAN in payment_means",
        )
    if draft.type is InvoiceTypeCode.TEKNOLOJIDESTEK and draft.customer.tckn is None:
        c.add(
            "TEKNOLOJIDESTEK_TCKN",
            "customer.tckn",
            "TEKNOLOJIDESTEK alıcısı TCKN'li olmalı",
            "the TEKNOLOJIDESTEK buyer must have a TCKN",
        )
    if draft.sending_type is not None and p is not ProfileID.EARSIVFATURA:
        c.add(
            "SENDING_TYPE",
            "sending_type",
            "Gönderim şekli yalnız e-Arşiv faturasında",
            "sending_type is only for e-Arşiv invoices",
        )


def _check_export(c: _Collector, draft: InvoiceDraft) -> None:
    b = draft.buyer_customer
    if b is None or b.party_type != "EXPORT" or not b.registration_name:
        c.add(
            "EXPORT_BUYER",
            "buyer_customer",
            "İhracat faturasında yabancı alıcı (party_type EXPORT, registration_name) zorunlu",
            "an export invoice needs the foreign buyer (party_type EXPORT with registration_name)",
        )
    if not draft.supplier.tax_office:
        c.add(
            "EXPORT_TAX_OFFICE",
            "supplier.tax_office",
            "İhracatta satıcının vergi dairesi zorunlu",
            "the supplier's tax office is required on exports",
        )
    doc = draft.delivery
    for i, line in enumerate(draft.lines):
        d = line.delivery
        w = f"lines[{i}].delivery"
        if d is None or not d.gtip:
            c.add(
                "EXPORT_GTIP",
                f"{w}.gtip",
                "Her ihracat satırında GTİP zorunlu",
                "every export line needs its GTİP (HS code)",
            )
        if not ((d and d.incoterms) or (doc and doc.incoterms)):
            c.add(
                "EXPORT_INCOTERMS",
                f"{w}.incoterms",
                "Teslim şartı (INCOTERMS) satırda ya da belgede olmalı",
                "INCOTERMS on the line or the document",
            )
        if not ((d and d.address) or (doc and doc.address)):
            c.add(
                "EXPORT_ADDRESS",
                f"{w}.address",
                "Teslim adresi satırda ya da belgede olmalı",
                "a delivery address on the line or the document",
            )
        if not ((d and d.transport_mode) or (doc and doc.transport_mode)):
            c.add(
                "EXPORT_TRANSPORT",
                f"{w}.transport_mode",
                "Taşıma şekli satırda ya da belgede olmalı",
                "a transport mode on the line or the document",
            )
    terms = [
        x
        for x in [doc.incoterms if doc else None]
        + [ln.delivery.incoterms for ln in draft.lines if ln.delivery]
        if x
    ]
    for term in terms:
        if not is_in("DeliveryTermCodeList", term):
            c.add(
                "INCOTERMS_CODE",
                "delivery.incoterms",
                f"'{term}' geçerli bir INCOTERMS değil",
                f"'{term}' is not a valid INCOTERMS code",
            )


def _check_taxfree(c: _Collector, draft: InvoiceDraft) -> None:
    b = draft.buyer_customer
    if b is None or b.party_type != "TAXFREE" or not (b.first_name and b.family_name):
        c.add(
            "TAXFREE_BUYER",
            "buyer_customer",
            "Yolcu (party_type TAXFREE, ad, soyad) zorunlu",
            "the traveller (party_type TAXFREE with first and family name) is required",
        )
    elif not (b.nationality and is_in("CountryCodeList", b.nationality)) or not (
        b.passport_id and b.passport_issue_date
    ):
        c.add(
            "TAXFREE_PASSPORT",
            "buyer_customer",
            "Yolcunun uyruğu ve pasaportu (no, tarih) zorunlu",
            "the traveller's nationality and passport (number, date) are required",
        )
    rep = draft.tax_representative
    ids = {i.scheme_id: i.value for i in rep.identifiers} if rep else {}
    if len(ids.get("ARACIKURUMVKN", "")) not in (10, 11) or not ids.get("ARACIKURUMETIKET"):
        c.add(
            "TAXFREE_INTERMEDIARY",
            "tax_representative",
            "Aracı kurumun ARACIKURUMVKN ve ARACIKURUMETIKET kimlikleri zorunlu",
            "the intermediary needs ARACIKURUMVKN and ARACIKURUMETIKET identifiers",
        )


def check_draft(draft: InvoiceDraft) -> list[Problem]:
    """Every reason this (normalised) draft cannot be built; empty when it can."""
    c = _Collector()
    if draft.type not in allowed_types(draft.profile):
        c.add(
            "INVALID_COMBINATION",
            "type",
            f"{draft.profile} senaryosunda {draft.type} tipi kullanılamaz",
            f"type {draft.type} is not allowed with profile {draft.profile}",
        )
    earsiv = draft.profile is ProfileID.EARSIVFATURA
    _check_party(c, draft.supplier, "supplier", placeholder_ok=False)
    _check_party(c, draft.customer, "customer", placeholder_ok=earsiv)
    if not is_in("CurrencyCodeList", draft.currency):
        c.add(
            "CURRENCY_CODE",
            "currency",
            f"'{draft.currency}' geçerli bir para birimi değil",
            f"'{draft.currency}' is not a currency code",
        )
    if draft.currency != "TRY" and draft.exchange_rate is None:
        c.add(
            "EXCHANGE_RATE_MISSING",
            "exchange_rate",
            "Döviz faturasında kur (exchange_rate) zorunlu",
            "a foreign-currency invoice needs exchange_rate",
        )
    if draft.currency == "TRY" and draft.exchange_rate is not None:
        c.add(
            "EXCHANGE_RATE_TRY",
            "exchange_rate",
            "TRY faturada kur yazılmaz",
            "a TRY invoice has no exchange_rate",
        )
    for i, line in enumerate(draft.lines):
        _check_line(c, draft, line, f"lines[{i}]")
    _check_type(c, draft)
    _check_profile(c, draft)
    c.problems += check_earsiv(draft)
    if not c.problems:
        _check_amounts(c, draft)
    return c.problems


def _check_amounts(c: _Collector, draft: InvoiceDraft) -> None:
    """No amount may be negative: GİB's decimalCheck refuses a minus sign anywhere."""
    from entegrator.documents.totals import compute

    totals = compute(draft)
    for i, line in enumerate(totals.lines):
        if line.line_extension < 0:
            c.add(
                "NEGATIVE_AMOUNT",
                f"lines[{i}]",
                f"Satır tutarı eksi olamaz ({_fmt(line.line_extension)}); iskontolar tutarı aşıyor",
                f"the line amount cannot be negative ({_fmt(line.line_extension)}); "
                "allowances exceed it",
            )
    if totals.tax_exclusive < 0 or totals.payable < 0:
        c.add(
            "NEGATIVE_AMOUNT",
            "allowances_charges",
            f"Belge toplamı eksi olamaz ({_fmt(totals.tax_exclusive)}); belge iskontoları "
            "satırların toplamını aşıyor",
            f"the document total cannot be negative ({_fmt(totals.tax_exclusive)}); "
            "document allowances exceed the lines",
        )


def ensure_buildable(draft: InvoiceDraft, *, require_ids: bool = True) -> InvoiceDraft:
    """Normalise and check a draft; raise :class:`DraftError` (or :class:`CombinationError`)."""
    draft = normalize(draft)
    problems = check_draft(draft)
    if require_ids:
        if draft.number is None:
            problems.append(
                Problem(
                    "NUMBER_MISSING",
                    "number",
                    "Fatura numarası (number) yok",
                    "the invoice number is missing",
                )
            )
        if draft.ettn is None:
            problems.append(Problem("ETTN_MISSING", "ettn", "ETTN yok", "the ETTN is missing"))
    if problems:
        if problems[0].code == "INVALID_COMBINATION":
            raise CombinationError(problems)
        raise DraftError(problems)
    return draft
