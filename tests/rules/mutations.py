"""A corpus of realistic mistakes: each mutation edits a valid invoice the way people get it wrong.

Every mutation names the finding codes that our report must contain afterwards, so that a
mutation that silently stops doing anything fails its test instead of passing vacuously.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from tests.clock import today

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS = {"cac": CAC, "cbc": CBC}


def _one(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, NS)
    assert found is not None, path
    return found


def _set(path: str, value: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        _one(root, path).text = value

    return edit


def _remove(path: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        node = _one(root, path)
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)

    return edit


def _add_amount(path: str, delta: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        node = _one(root, path)
        node.text = str(Decimal(node.text or "0") + Decimal(delta))

    return edit


def _unit_code(root: etree._Element) -> None:
    _one(root, "cac:InvoiceLine/cbc:InvoicedQuantity").set("unitCode", "ADET")


def _foreign_currency_id(root: etree._Element) -> None:
    _one(root, "cac:InvoiceLine/cbc:LineExtensionAmount").set("currencyID", "EUR")


def _unknown_currency(root: etree._Element) -> None:
    _one(root, "cbc:DocumentCurrencyCode").text = "TRL"
    for el in root.iter():
        if el.get("currencyID"):
            el.set("currencyID", "TRL")


def _usd_without_rate(root: etree._Element) -> None:
    _one(root, "cbc:DocumentCurrencyCode").text = "USD"
    for el in root.iter():
        if el.get("currencyID"):
            el.set("currencyID", "USD")


def _swap_issue_date_and_uuid(root: etree._Element) -> None:
    uuid, date = _one(root, "cbc:UUID"), _one(root, "cbc:IssueDate")
    uuid.addprevious(date)


def _unknown_element(root: etree._Element) -> None:
    _one(root, "cbc:IssueDate").addnext(etree.Element(f"{{{CBC}}}Colour"))


def _vkn_nine_digits(root: etree._Element) -> None:
    node = _one(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID")
    node.text = (node.text or "")[:9]


def _two_vkns(root: etree._Element) -> None:
    ident = _one(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification")
    ident.addnext(etree.fromstring(etree.tostring(ident)))


def _bad_vkn_checksum(root: etree._Element) -> None:
    node = _one(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID")
    digits = node.text or ""
    node.text = digits[:9] + str((int(digits[9]) + 1) % 10)


def _withholding_on_satis(root: etree._Element) -> None:
    tax_total = _one(root, "cac:TaxTotal")
    wt = etree.fromstring(etree.tostring(tax_total))
    wt.tag = f"{{{CAC}}}WithholdingTaxTotal"
    tax_total.addnext(wt)


def _future_date(root: etree._Element) -> None:
    future = today() + dt.timedelta(days=400)
    _one(root, "cbc:IssueDate").text = future.isoformat()
    number = _one(root, "cbc:ID")
    number.text = (number.text or "")[:3] + str(future.year) + (number.text or "")[7:]


def _impossible_date(root: etree._Element) -> None:
    _one(root, "cbc:IssueDate").text = "2024-02-30"


def _number_year(root: etree._Element) -> None:
    number = _one(root, "cbc:ID")
    text = number.text or ""
    number.text = text[:3] + str(int(text[3:7]) - 1) + text[7:]


def _iade_without_reference(root: etree._Element) -> None:
    _one(root, "cbc:InvoiceTypeCode").text = "IADE"


def _add_line_count(root: etree._Element) -> None:
    node = _one(root, "cbc:LineCountNumeric")
    node.text = str(int(node.text or "0") + 1)


def _exchange_rate_precision(root: etree._Element) -> None:
    _one(root, "cac:PricingExchangeRate/cbc:CalculationRate").text = "32.1234567"


def _remove_exchange_rate(root: etree._Element) -> None:
    _remove("cac:PricingExchangeRate")(root)


def _kdv_zero_without_exemption(root: etree._Element) -> None:
    for sub in root.iterfind(".//cac:TaxSubtotal", NS):
        code = sub.find("cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode", NS)
        if code is not None and code.text == "0015":
            _one(sub, "cbc:Percent").text = "0"
            for amount in ("cbc:TaxAmount",):
                _one(sub, amount).text = "0.00"


def _exemption_code_without_reason(root: etree._Element) -> None:
    reason = _one(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReason")
    parent = reason.getparent()
    assert parent is not None
    parent.remove(reason)


def _exemption_reason_without_code(root: etree._Element) -> None:
    code = _one(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReasonCode")
    parent = code.getparent()
    assert parent is not None
    parent.remove(code)


@dataclass(frozen=True)
class Mutation:
    name: str
    base: str  # which sample to start from (see ``bases`` in the tests)
    edit: Callable[[etree._Element], None]
    expect: tuple[str, ...]  # finding codes our report must contain (prefix match)


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("unit-code-adet", "satis", _unit_code, ("sch-GeneralUnitCodeCheck",)),
    Mutation(
        "payable-off-by-a-cent",
        "satis",
        _add_amount("cac:LegalMonetaryTotal/cbc:PayableAmount", "0.01"),
        ("arith-payable",),
    ),
    Mutation(
        "tax-total-off-by-a-cent",
        "satis",
        _add_amount("cac:TaxTotal/cbc:TaxAmount", "0.01"),
        ("arith-tax-total",),
    ),
    Mutation(
        "line-amount-off",
        "satis",
        _add_amount("cac:InvoiceLine/cbc:LineExtensionAmount", "1"),
        ("arith-line", "arith-line-extension"),
    ),
    Mutation(
        "tax-subtotal-off",
        "satis",
        _add_amount("cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount", "1"),
        ("arith-tax-subtotal",),
    ),
    Mutation("bad-vkn-checksum", "satis", _bad_vkn_checksum, ("id-vkn-checksum",)),
    Mutation("vkn-nine-digits", "satis", _vkn_nine_digits, ("sch-",)),
    Mutation("two-vkns", "satis", _two_vkns, ("sch-",)),
    Mutation(
        "missing-tax-office",
        "ihracat",
        _remove("cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme"),
        ("sch-",),
    ),
    Mutation(
        "number-lowercase",
        "satis",
        lambda r: _set("cbc:ID", (r.findtext("cbc:ID", namespaces=NS) or "").lower())(r),
        ("sch-InvoiceIDCheck",),
    ),
    Mutation("number-too-short", "satis", _set("cbc:ID", "ABC2024000001"), ("sch-InvoiceIDCheck",)),
    Mutation("number-year-not-issue-year", "satis", _number_year, ("id-number-year",)),
    Mutation(
        "ticari-iade",
        "ticari",
        _set("cbc:InvoiceTypeCode", "IADE"),
        ("sch-InvoiceTypeCodeCheck", "id-profile-type"),
    ),
    Mutation("iade-without-reference", "satis", _iade_without_reference, ("id-return-reference",)),
    Mutation("usd-without-rate", "usd", _remove_exchange_rate, ("sch-CurrencyCodeCheck",)),
    Mutation("try-made-usd-without-rate", "satis", _usd_without_rate, ("sch-CurrencyCodeCheck",)),
    Mutation("rate-seven-decimals", "usd", _exchange_rate_precision, ("sch-CurrencyCodeCheck",)),
    Mutation("unknown-currency", "satis", _unknown_currency, ("sch-",)),
    Mutation("mixed-currency-ids", "satis", _foreign_currency_id, ("arith-currency",)),
    Mutation("future-issue-date", "satis", _future_date, ("sch-TimeCheck", "id-issue-date-future")),
    Mutation("impossible-date", "satis", _impossible_date, ("xsd-",)),
    Mutation("bad-ettn", "satis", _set("cbc:UUID", "1234-not-a-uuid"), ("sch-", "id-ettn")),
    Mutation(
        "copy-indicator-true",
        "satis",
        _set("cbc:CopyIndicator", "true"),
        ("sch-CopyIndicatorCheck",),
    ),
    Mutation("ubl-version", "satis", _set("cbc:UBLVersionID", "2.0"), ("sch-UBLVersionIDCheck",)),
    Mutation(
        "customization",
        "satis",
        _set("cbc:CustomizationID", "TR1.0"),
        ("sch-CustomizationIDCheck",),
    ),
    Mutation("unknown-profile", "satis", _set("cbc:ProfileID", "TICARI"), ("sch-ProfileIDCheck",)),
    Mutation(
        "unknown-type", "satis", _set("cbc:InvoiceTypeCode", "SATIŞ"), ("sch-InvoiceTypeCodeCheck",)
    ),
    Mutation("elements-out-of-order", "satis", _swap_issue_date_and_uuid, ("xsd-",)),
    Mutation("unknown-element", "satis", _unknown_element, ("xsd-",)),
    Mutation("line-count-wrong", "satis", _add_line_count, ("arith-line-count",)),
    Mutation(
        "withholding-on-satis",
        "satis",
        _withholding_on_satis,
        ("sch-GeneralWithholdingTaxTotalCheck",),
    ),
    Mutation(
        "unknown-tax-type",
        "satis",
        _set("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode", "0016"),
        ("sch-",),
    ),
    Mutation("kdv-zero-without-exemption", "satis", _kdv_zero_without_exemption, ("sch-",)),
    Mutation("exemption-code-without-reason", "istisna", _exemption_code_without_reason, ("sch-",)),
    Mutation("exemption-reason-without-code", "istisna", _exemption_reason_without_code, ("sch-",)),
    Mutation(
        "bad-country-code",
        "satis",
        _set(
            "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country/"
            "cbc:IdentificationCode",
            "XX",
        ),
        ("sch-CountryCodeCheck",),
    ),
    Mutation("missing-item-name", "satis", _remove("cac:InvoiceLine/cac:Item/cbc:Name"), ("xsd-",)),
    Mutation("missing-signature-block", "satis", _remove("cac:Signature"), ("xsd-",)),
    Mutation(
        "old-kdv-rate",
        "satis",
        _set("cac:InvoiceLine/cac:TaxTotal/cac:TaxSubtotal/cbc:Percent", "18"),
        ("id-kdv-rate",),
    ),
)


def apply(mutation: Mutation, xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    mutation.edit(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
