"""The portal's invoice form (``/faturalar/yeni``): what the user types, turned into a draft.

The form is a flat set of text fields (as a browser posts them). This module reads them into
an :class:`InvoiceForm`, turns that into an :class:`InvoiceDraft` (the supplier comes from the
tenant's company details), computes the totals as the user types, and maps every problem found
(the draft's own checks and GİB's rules on the built XML) back to the form field it concerns,
so that the page can show it next to that field. Issuing goes through
:meth:`InvoiceService.issue`, the same use case as ``POST /api/v1/invoices``.

Numbers may be typed the Turkish way (``1.234,56``) or the plain way (``1234.56``).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from entegrator.documents.codes import code_list, rules, withholding_percents
from entegrator.documents.errors import DraftError
from entegrator.documents.model import InvoiceDraft, Line
from entegrator.documents.read import read_draft
from entegrator.documents.totals import InvoiceTotals, compute
from entegrator.rules import Finding, Severity, Source
from entegrator.services.errors import DocumentNotFoundError
from entegrator.store import Database

__all__ = [
    "FORM_LEVEL",
    "KDV_RATES",
    "MAX_FORM_LINES",
    "UNITS",
    "WITHHOLDING_NAMES",
    "FieldProblem",
    "FormLine",
    "InvoiceForm",
    "Preview",
    "exemption_options",
    "field_of",
    "findings_to_problems",
    "form_from_draft",
    "form_of_document",
    "parse_number",
    "preview",
    "problems_by_field",
    "return_form",
    "to_draft",
    "withholding_options",
]

MAX_FORM_LINES = 500
FORM_LEVEL = "_form"  # problems that concern no single field
SUPPLIER = "supplier"  # the company details (Ayarlar): the form shows them read-only

# Units offered in the line editor: UN/ECE Rec 20 codes (GİB's UnitCodeList) with their
# Turkish names; any other code of the list may be typed.
UNITS: dict[str, str] = {
    "C62": "Adet",
    "NIU": "Parça",
    "PR": "Çift",
    "SET": "Takım",
    "DZN": "Düzine",
    "BX": "Kutu",
    "PK": "Paket",
    "KGM": "Kilogram",
    "GRM": "Gram",
    "TNE": "Ton",
    "LTR": "Litre",
    "MTQ": "Metreküp",
    "MTR": "Metre",
    "MTK": "Metrekare",
    "KTM": "Kilometre",
    "MIN": "Dakika",
    "HUR": "Saat",
    "DAY": "Gün",
    "MON": "Ay",
    "ANN": "Yıl",
    "KWH": "Kilovatsaat",
    "MWH": "Megavatsaat",
}

KDV_RATES: tuple[str, ...] = tuple(rules()["kdv_rates"])

# KDV tevkifatı: the categories of GİB's withholding code list (6xx partial, 8xx full).
WITHHOLDING_NAMES: dict[str, str] = {
    "601": "Yapım işleri ile mühendislik-mimarlık ve etüt-proje hizmetleri",
    "602": "Etüt, plan-proje, danışmanlık, denetim vb. hizmetler",
    "603": "Makine, teçhizat, demirbaş ve taşıtlara ait tadil, bakım ve onarım hizmetleri",
    "604": "Yemek servis hizmeti",
    "605": "Organizasyon hizmeti",
    "606": "İşgücü temin hizmetleri",
    "607": "Özel güvenlik hizmeti",
    "608": "Yapı denetim hizmetleri",
    "609": "Fason tekstil ve konfeksiyon işleri, çanta ve ayakkabı dikim işleri",
    "610": "Turistik mağazalara verilen müşteri bulma / götürme hizmetleri",
    "611": "Spor kulüplerinin yayın, reklam ve isim hakkı gelirleri",
    "612": "Temizlik hizmeti",
    "613": "Çevre ve bahçe bakım hizmetleri",
    "614": "Servis taşımacılığı hizmeti",
    "615": "Her türlü baskı ve basım hizmetleri",
    "616": "5018 sayılı Kanun kapsamındaki kurumlara yapılan diğer hizmetler",
    "617": "Hurda metalden elde edilen külçe teslimleri",
    "618": "Hurda metalden elde edilenler dışındaki bakır, çinko, alüminyum külçe teslimleri",
    "619": "Bakır, çinko, alüminyum ve kurşun ürünlerinin teslimi",
    "620": "İstisnadan vazgeçenlerin hurda ve atık teslimi",
    "621": "Metal, plastik, lastik, kauçuk, kağıt, cam hurda ve atıklardan elde edilen "
    "hammadde teslimi",
    "622": "Pamuk, tiftik, yün ve yapağı ile ham post ve deri teslimleri",
    "623": "Ağaç ve orman ürünleri teslimi",
    "624": "Yük taşımacılığı hizmeti",
    "625": "Ticari reklam hizmetleri",
    "626": "Diğer teslimler",
    "627": "Demir-çelik ürünlerinin teslimi",
}


def _withholding_name(code: str) -> str:
    if code.startswith("8") and f"6{code[1:]}" in WITHHOLDING_NAMES:
        return f"{WITHHOLDING_NAMES['6' + code[1:]]} (tam tevkifat)"
    return WITHHOLDING_NAMES.get(code, code)


def withholding_options() -> list[tuple[str, str]]:
    """(value, label) per withholding code and percent GİB allows, e.g. ``("612-90",
    "612 Temizlik hizmeti (9/10)")``."""
    out = []
    for code in sorted(code_list("WithholdingTaxType")):
        for percent in withholding_percents(code):
            tenths = Decimal(percent) / 10
            share = f"{tenths.normalize():f}/10"
            out.append((f"{code}-{percent}", f"{code} {_withholding_name(code)} ({share})"))
    return out


def exemption_options() -> list[tuple[str, str]]:
    """(code, label) per exemption code (KDV istisna, özel matrah, ihraç kayıtlı)."""
    names: dict[str, str] = rules()["exemption_names"]
    codes: set[str] = set(rules()["unrestricted_exemption_codes"])
    for family in rules()["exemption_families"].values():
        codes |= code_list(family["list"])
    return [(c, f"{c} {names[c]}" if c in names else c) for c in sorted(codes)]


def parse_number(value: str) -> Decimal | None:
    """A number typed in the form: ``1.234,56`` (Turkish) or ``1234.56``; None when it is
    not one."""
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


@dataclass
class FormLine:
    name: str = ""
    quantity: str = "1"
    unit_code: str = "C62"
    unit_price: str = ""
    kdv_percent: str = "20"
    discount_percent: str = ""
    withholding: str = ""  # "612-90": code and percent
    exemption_code: str = ""

    FIELDS = (
        "name",
        "quantity",
        "unit_code",
        "unit_price",
        "kdv_percent",
        "discount_percent",
        "withholding",
        "exemption_code",
    )


_HEADER = (
    "profile",
    "type",
    "issue_date",
    "currency",
    "exchange_rate",
    "series",
    "note",
    "buyer_id",
    "buyer_name",
    "buyer_tax_office",
    "buyer_street",
    "buyer_district",
    "buyer_city",
    "buyer_country",
    "buyer_email",
    "ref_number",
    "ref_date",
)


@dataclass
class InvoiceForm:
    """The form's fields, as text (what the user typed)."""

    profile: str = "TEMELFATURA"
    type: str = "SATIS"
    issue_date: str = ""
    currency: str = "TRY"
    exchange_rate: str = ""  # TRY per unit of the currency (döviz kuru), for other currencies
    series: str = ""
    note: str = ""
    buyer_id: str = ""
    buyer_name: str = ""
    buyer_tax_office: str = ""
    buyer_street: str = ""
    buyer_district: str = ""
    buyer_city: str = ""
    buyer_country: str = "Türkiye"
    buyer_email: str = ""
    ref_number: str = ""  # the invoice a return (İADE) refers to
    ref_date: str = ""
    lines: list[FormLine] = field(default_factory=lambda: [FormLine()])

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> InvoiceForm:
        """The form a browser posted: header fields by name, lines as ``lines-<i>-<field>``
        (gaps in the numbering are closed; lines left wholly empty are dropped)."""
        form = cls()
        for name in _HEADER:
            if name in fields:
                setattr(form, name, str(fields[name]).strip()[:5000])
        rows: dict[int, dict[str, str]] = {}
        for key, value in fields.items():
            m = re.fullmatch(r"lines-([0-9]{1,4})-([a-z_]+)", key)
            if m and m.group(2) in FormLine.FIELDS and int(m.group(1)) < MAX_FORM_LINES:
                rows.setdefault(int(m.group(1)), {})[m.group(2)] = str(value).strip()[:5000]
        lines = [FormLine(**rows[i]) for i in sorted(rows)]
        lines = [ln for ln in lines if ln.name or ln.unit_price]
        form.lines = lines or [FormLine()]
        return form

    def to_fields(self) -> dict[str, str]:
        out = {k: getattr(self, k) for k in _HEADER}
        for i, line in enumerate(self.lines):
            for name in FormLine.FIELDS:
                out[f"lines-{i}-{name}"] = getattr(line, name)
        return out

    @property
    def title(self) -> str:
        """How a saved draft is listed: the buyer and the first line."""
        first = self.lines[0].name if self.lines else ""
        return " · ".join(p for p in (self.buyer_name or self.buyer_id, first) if p) or "-"


@dataclass(frozen=True)
class FieldProblem:
    """One problem to show next to a form field (``field`` is a form field name or
    :data:`FORM_LEVEL`)."""

    field: str
    code: str
    severity: str  # error, warning, info
    message_tr: str
    message_en: str
    source: str = "form"

    @classmethod
    def of(cls, finding: Finding, field: str) -> FieldProblem:
        return cls(
            field=field,
            code=finding.code,
            severity=finding.severity.value,
            message_tr=finding.message_tr,
            message_en=finding.message_en,
            source=finding.source.value,
        )


def _number(
    value: str, where: str, problems: list[FieldProblem], *, label: tuple[str, str]
) -> str | None:
    if not value:
        return None
    parsed = parse_number(value)
    if parsed is None:
        problems.append(
            FieldProblem(
                where,
                "FORM_NUMBER",
                "error",
                f"{label[0]}: geçerli bir sayı girin (örn. 1.234,56)",
                f"{label[1]}: enter a number (e.g. 1234.56)",
            )
        )
        return value  # the draft's own check names the field again; one message is shown
    return format(parsed, "f")


def _date(value: str, where: str, problems: list[FieldProblem]) -> str | None:
    """``2026-11-30`` (the date input) or ``30.11.2026``."""
    if not value:
        return None
    m = re.fullmatch(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})", value)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        problems.append(
            FieldProblem(
                where,
                "FORM_DATE",
                "error",
                "Geçerli bir tarih girin (GG.AA.YYYY)",
                "Enter a valid date (DD.MM.YYYY)",
            )
        )
        return None


def _party_name(identifier: str, name: str) -> dict[str, Any]:
    if len(identifier) == 11:
        first, _, family = name.strip().rpartition(" ")
        return {"tckn": identifier, "first_name": first or name, "family_name": family or name}
    return {"vkn": identifier, "name": name or None}


def _supplier(vkn: str, name: str, company: Mapping[str, Any]) -> dict[str, Any]:
    party = _party_name(vkn, str(company.get("person_name") or name))
    if len(vkn) != 11:
        party["name"] = name
    party["tax_office"] = company.get("tax_office") or None
    party["website"] = company.get("website") or None
    party["address"] = {
        "street": company.get("street") or None,
        "building_number": company.get("building_number") or None,
        "district": company.get("district") or "",
        "city": company.get("city") or "",
        "postal_zone": company.get("postal_zone") or None,
    }
    contact = {"telephone": company.get("telephone"), "email": company.get("email")}
    if any(contact.values()):
        party["contact"] = {k: v for k, v in contact.items() if v}
    if company.get("mersis"):
        party["identifiers"] = [{"scheme_id": "MERSISNO", "value": company["mersis"]}]
    return party


def to_draft(
    form: InvoiceForm,
    *,
    supplier_vkn: str,
    supplier_name: str,
    company: Mapping[str, Any],
    today: dt.date,
) -> tuple[InvoiceDraft | None, list[FieldProblem]]:
    """The draft the form describes and the problems that keep it from being one (each mapped
    to its field); the draft is None when there is at least one such problem."""
    problems: list[FieldProblem] = []
    issue = _date(form.issue_date, "issue_date", problems) or today.isoformat()
    customer: dict[str, Any] = _party_name(form.buyer_id, form.buyer_name)
    customer["tax_office"] = form.buyer_tax_office or None
    customer["address"] = {
        "street": form.buyer_street or None,
        "district": form.buyer_district,
        "city": form.buyer_city,
        "country": form.buyer_country or "Türkiye",
    }
    if form.buyer_email:
        customer["contact"] = {"email": form.buyer_email}
    lines = []
    for i, ln in enumerate(form.lines):
        where = f"lines-{i}"
        line: dict[str, Any] = {
            "name": ln.name,
            "quantity": _number(
                ln.quantity, f"{where}-quantity", problems, label=("Miktar", "Quantity")
            ),
            "unit_code": ln.unit_code or "C62",
            "unit_price": _number(
                ln.unit_price, f"{where}-unit_price", problems, label=("Fiyat", "Price")
            ),
            "kdv_percent": _number(
                ln.kdv_percent, f"{where}-kdv_percent", problems, label=("KDV", "KDV")
            ),
        }
        discount = _number(
            ln.discount_percent, f"{where}-discount_percent", problems, label=("%", "%")
        )
        if discount is not None and parse_number(discount) not in (None, Decimal(0)):
            rate = parse_number(discount)
            line["allowances_charges"] = [
                {
                    "charge": False,
                    "reason": "İskonto",
                    "rate": format(rate / 100, "f") if rate is not None else discount,
                }
            ]
        if ln.withholding:
            code, _, percent = ln.withholding.partition("-")
            line["withholding_code"] = code
            line["withholding_percent"] = percent or (withholding_percents(code) or ("",))[0]
        if ln.exemption_code:
            line["exemption_code"] = ln.exemption_code
        lines.append({k: v for k, v in line.items() if v is not None})
    data: dict[str, Any] = {
        "profile": form.profile,
        "type": form.type,
        "issue_date": issue,
        "currency": form.currency or "TRY",
        "supplier": _supplier(supplier_vkn, supplier_name, company),
        "customer": customer,
        "lines": lines,
    }
    if form.note:
        data["notes"] = [form.note]
    if (form.currency or "TRY") != "TRY" or form.exchange_rate:
        exchange = _number(
            form.exchange_rate, "exchange_rate", problems, label=("Kur", "Exchange rate")
        )
        if exchange is not None:
            data["exchange_rate"] = exchange
    if form.profile == "EARSIVFATURA":
        data["sending_type"] = "ELEKTRONIK"
    if form.ref_number:
        ref_date = _date(form.ref_date, "ref_date", problems)
        data["billing_references"] = [{"id": form.ref_number, "issue_date": ref_date}]
    try:
        draft = read_draft(data)
    except DraftError as exc:
        from entegrator.services.invoices import draft_findings

        seen = {p.field for p in problems}
        for finding in draft_findings(exc):
            target = field_of(finding.xpath)
            if target not in seen:  # a number we could not read is named once
                problems.append(FieldProblem.of(finding, target))
        return None, problems
    if problems:
        return None, problems
    return draft, []


# -- where a problem belongs ---------------------------------------------------------------

_DRAFT_FIELDS = {
    "profile": "profile",
    "type": "type",
    "issue_date": "issue_date",
    "currency": "currency",
    "exchange_rate": "exchange_rate",
    "exchange_rate_date": "exchange_rate",
    "notes": "note",
    "customer.vkn": "buyer_id",
    "customer.tckn": "buyer_id",
    "customer.name": "buyer_name",
    "customer.first_name": "buyer_name",
    "customer.family_name": "buyer_name",
    "customer.tax_office": "buyer_tax_office",
    "customer.address.street": "buyer_street",
    "customer.address.district": "buyer_district",
    "customer.address.city": "buyer_city",
    "customer.address.country": "buyer_country",
    "customer.contact.email": "buyer_email",
    "customer": "buyer_id",
    "billing_references": "ref_number",
    "number": "series",
}
_LINE_FIELDS = {
    "name": "name",
    "quantity": "quantity",
    "unit_code": "unit_code",
    "unit_price": "unit_price",
    "kdv_percent": "kdv_percent",
    "allowances_charges": "discount_percent",
    "withholding_code": "withholding",
    "withholding_percent": "withholding",
    "exemption_code": "exemption_code",
    "exemption_reason": "exemption_code",
}
# Steps of GİB's XPaths (as findings write them) → form fields.
_XML_FIELDS = (
    ("cbc:ProfileID", "profile"),
    ("cbc:InvoiceTypeCode", "type"),
    ("cbc:IssueDate", "issue_date"),
    ("cbc:DocumentCurrencyCode", "currency"),
    ("cac:PricingExchangeRate", "exchange_rate"),
    ("cbc:ID", "series"),
    ("cac:BillingReference", "ref_number"),
    ("cac:AccountingSupplierParty", SUPPLIER),
)
_XML_CUSTOMER = (
    ("cbc:CitySubdivisionName", "buyer_district"),
    ("cbc:CityName", "buyer_city"),
    ("cac:Country", "buyer_country"),
    ("cbc:StreetName", "buyer_street"),
    ("cac:PartyTaxScheme", "buyer_tax_office"),
    ("cbc:ElectronicMail", "buyer_email"),
    ("cac:PartyName", "buyer_name"),
    ("cac:Person", "buyer_name"),
    ("cac:PartyIdentification", "buyer_id"),
)
_XML_LINE = (
    ("@unitCode", "unit_code"),
    ("cbc:InvoicedQuantity", "quantity"),
    ("cac:Price", "unit_price"),
    ("cac:AllowanceCharge", "discount_percent"),
    ("cac:WithholdingTaxTotal", "withholding"),
    ("TaxExemptionReason", "exemption_code"),
    ("cac:TaxTotal", "kdv_percent"),
    ("cac:Item", "name"),
)


def field_of(where: str | None) -> str:
    """The form field a problem's place names: a draft path (``lines[1].quantity``) or an
    XPath of the built XML (``/Invoice/cac:InvoiceLine[2]/cbc:InvoicedQuantity``)."""
    if not where:
        return FORM_LEVEL
    if where.startswith("/"):
        return _xml_field(where)
    m = re.match(r"lines\[([0-9]+)\](?:\.([a-z_]+))?", where)
    if m:
        sub = _LINE_FIELDS.get(m.group(2) or "")
        return f"lines-{m.group(1)}-{sub}" if sub else f"lines-{m.group(1)}"
    if where.startswith("supplier"):
        return SUPPLIER
    path = re.sub(r"\[[0-9]+\]", "", where)
    while path:
        if path in _DRAFT_FIELDS:
            return _DRAFT_FIELDS[path]
        path = path.rpartition(".")[0]
    return FORM_LEVEL


def _xml_field(xpath: str) -> str:
    m = re.search(r"/cac:InvoiceLine(?:\[([0-9]+)\])?", xpath)
    if m:
        index = int(m.group(1) or 1) - 1
        rest = xpath[m.end() :]
        for step, name in _XML_LINE:
            if step in rest:
                return f"lines-{index}-{name}"
        return f"lines-{index}"
    if "cac:AccountingCustomerParty" in xpath:
        for step, name in _XML_CUSTOMER:
            if step in xpath:
                return name
        return "buyer_id"
    steps = xpath.split("/")
    for step, name in _XML_FIELDS:
        if len(steps) >= 3 and steps[2].split("[")[0] == step:
            return name
    return FORM_LEVEL


def problems_by_field(problems: list[FieldProblem]) -> dict[str, list[FieldProblem]]:
    out: dict[str, list[FieldProblem]] = {}
    for p in problems:
        out.setdefault(p.field, []).append(p)
    return out


def findings_to_problems(findings: list[Finding]) -> list[FieldProblem]:
    return [FieldProblem.of(f, field_of(f.xpath)) for f in findings]


# -- totals as the user types ----------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """The totals of the lines that can be read (a line still being typed is left out)."""

    totals: InvoiceTotals | None
    line_amounts: dict[int, Decimal]
    unread: list[int]  # lines left out


def preview(form: InvoiceForm) -> Preview:
    """The totals as GİB's rules compute them (``documents.totals``), in Decimal."""
    good: list[Line] = []
    indexes: list[int] = []
    unread = []
    for i, ln in enumerate(form.lines):
        problems: list[FieldProblem] = []
        line: dict[str, Any] = {
            "name": ln.name or "-",
            "quantity": _number(ln.quantity, "q", problems, label=("q", "q")),
            "unit_code": ln.unit_code or "C62",
            "unit_price": _number(ln.unit_price, "p", problems, label=("p", "p")),
            "kdv_percent": _number(ln.kdv_percent, "k", problems, label=("k", "k")),
        }
        rate = parse_number(ln.discount_percent) if ln.discount_percent else None
        if rate:
            line["allowances_charges"] = [{"charge": False, "rate": format(rate / 100, "f")}]
        if ln.withholding:
            code, _, percent = ln.withholding.partition("-")
            line["withholding_code"], line["withholding_percent"] = code, percent
        try:
            parsed = Line.model_validate({k: v for k, v in line.items() if v is not None})
        except ValueError:
            unread.append(i)
            continue
        if problems:
            unread.append(i)
            continue
        good.append(parsed)
        indexes.append(i)
    if not good:
        return Preview(None, {}, unread)
    # The totals read only the lines and the document-level amounts.
    draft = InvoiceDraft.model_construct(  # type: ignore[call-arg]
        lines=good, allowances_charges=[], payable_rounding=None
    )
    totals = compute(draft)
    amounts = {i: lt.line_extension for i, lt in zip(indexes, totals.lines, strict=True)}
    return Preview(totals, amounts, unread)


# -- forms from earlier invoices -------------------------------------------------------------


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def form_from_draft(draft: InvoiceDraft) -> InvoiceForm:
    """A form filled from an invoice (to duplicate it): the buyer and the lines; a new number,
    ETTN and date are taken when it is issued."""
    customer = draft.customer
    name = customer.name or " ".join(p for p in (customer.first_name, customer.family_name) if p)
    lines = []
    for ln in draft.lines:
        discount = ""
        rates = [ac.rate for ac in ln.allowances_charges if not ac.charge and ac.rate is not None]
        if rates:
            discount = _fmt(rates[0] * 100)
        withholding = ""
        if ln.withholding_code:
            withholding = f"{ln.withholding_code}-{_fmt(ln.withholding_percent)}"
        lines.append(
            FormLine(
                name=ln.name,
                quantity=_fmt(ln.quantity),
                unit_code=ln.unit_code,
                unit_price=_fmt(ln.unit_price),
                kdv_percent=_fmt(ln.kdv_percent),
                discount_percent=discount,
                withholding=withholding,
                exemption_code=ln.exemption_code or "",
            )
        )
    address = customer.address
    return InvoiceForm(
        profile=str(draft.profile),
        type=str(draft.type),
        currency=draft.currency,
        exchange_rate=_fmt(draft.exchange_rate),
        note=draft.notes[0] if draft.notes else "",
        buyer_id=customer.vkn or customer.tckn or "",
        buyer_name=name or "",
        buyer_tax_office=customer.tax_office or "",
        buyer_street=address.street or "",
        buyer_district=address.district,
        buyer_city=address.city,
        buyer_country=address.country,
        buyer_email=(customer.contact.email or "") if customer.contact else "",
        lines=lines or [FormLine()],
    )


def return_form(incoming: InvoiceDraft, *, number: str, issue_date: dt.date) -> InvoiceForm:
    """A return (İADE) of an invoice we received: its seller becomes the buyer, the same
    lines, type IADE, referring to the received invoice (BillingReference)."""
    as_sale = incoming.model_copy(update={"customer": incoming.supplier})
    form = form_from_draft(as_sale)
    form.type = "IADE"
    form.profile = "TEMELFATURA" if str(incoming.profile) != "EARSIVFATURA" else "EARSIVFATURA"
    form.ref_number = number
    form.ref_date = issue_date.isoformat()
    form.note = f"{number} numaralı faturanın iadesi"
    for line in form.lines:
        line.withholding = ""
    return form


def finding(code: str, where: str, message_tr: str, message_en: str) -> Finding:
    """A finding of the form itself (an error)."""
    return Finding(
        code=code,
        severity=Severity.ERROR,
        source=Source.DRAFT,
        xpath=where,
        message_tr=message_tr,
        message_en=message_en,
    )


# -- an earlier invoice as the start of a new one ----------------------------------------------


def form_of_document(
    db: Database, tenant_id: uuid.UUID, document_id: str, *, returning: bool
) -> InvoiceForm:
    """A form from one of the tenant's invoices: an outgoing one duplicated (``returning``
    False) or an incoming one returned (İADE, ``returning`` True). Anything else, another
    tenant's invoice included, is :class:`DocumentNotFoundError`."""
    from entegrator.documents.errors import DocumentError
    from entegrator.documents.parse import parse_invoice
    from entegrator.store import blobs, documents
    from entegrator.store.ids import created_at

    try:
        ident = uuid.UUID(document_id)
    except ValueError:
        raise DocumentNotFoundError from None
    if ident.version != 7:
        raise DocumentNotFoundError
    with db.tenant(tenant_id) as conn:
        doc = documents.get_document(conn, tenant_id, ident, created_at(ident))
        if doc is None or doc.kind != "invoice" or doc.direction != ("in" if returning else "out"):
            raise DocumentNotFoundError
        data = blobs.get_blob(conn, tenant_id, doc.signed_sha256 or doc.xml_sha256)
    try:
        draft = parse_invoice(data)
    except DocumentError:
        raise DocumentNotFoundError from None
    if returning:
        return return_form(draft, number=doc.number or "", issue_date=draft.issue_date)
    return form_from_draft(draft)
