"""Fatura okuma: UBL-TR invoice XML → :class:`InvoiceDraft`.

The inverse of :mod:`entegrator.documents.build.invoice`: for every field the draft supports,
``build_invoice(parse_invoice(xml)) == xml`` for XML we built. Amounts are not read into the
draft (they are recomputed on build); what decides them (quantities, prices, rates, fixed
amounts) is. Elements the draft does not model (signatures, address ids, attachments…) are
not carried over.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from lxml import etree
from pydantic import ValidationError

from entegrator.documents._validation import problems_from_validation
from entegrator.documents.codes import EARCHIVE_TYPE, INTERNET, SENDING_TYPE, rules
from entegrator.documents.errors import ParseError
from entegrator.documents.model import InternetSale, InvoiceDraft
from entegrator.documents.ns import CAC, CBC, INVOICE
from entegrator.documents.safe_xml import parse as safe_parse
from entegrator.documents.totals import KDV, exemption_reason, round_amount
from entegrator.documents.words import amount_in_words

__all__ = ["internet_sale_data", "parse_invoice", "parse_invoice_tree"]

_E = etree._Element
_HUNDRED = Decimal(100)


def _text(node: _E | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def _dec(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ParseError(
            detail_tr=f"sayı değil: {value!r}", detail_en=f"not a number: {value!r}"
        ) from None


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != []}


def _fields(node: _E, paths: dict[str, str]) -> dict[str, Any]:
    """The non-empty texts of ``node`` at ``paths``, keyed by draft field name."""
    return _clean({key: _text(node, path) for key, path in paths.items()})


_ADDRESS = {
    "street": CBC + "StreetName",
    "building_number": CBC + "BuildingNumber",
    "district": CBC + "CitySubdivisionName",
    "city": CBC + "CityName",
    "postal_zone": CBC + "PostalZone",
    "country": CAC + "Country/" + CBC + "Name",
}
_PERIOD = {
    "start_date": CBC + "StartDate",
    "start_time": CBC + "StartTime",
    "end_date": CBC + "EndDate",
    "end_time": CBC + "EndTime",
    "description": CBC + "Description",
}
_CONTACT = {
    "telephone": CBC + "Telephone",
    "telefax": CBC + "Telefax",
    "email": CBC + "ElectronicMail",
}
_PAYMENT_MEANS = {
    "code": CBC + "PaymentMeansCode",
    "due_date": CBC + "PaymentDueDate",
    "channel_code": CBC + "PaymentChannelCode",
    "iban": CAC + "PayeeFinancialAccount/" + CBC + "ID",
    "bank_name": CAC + "PayeeFinancialAccount/" + CBC + "PaymentNote",
}
_PAYMENT_TERMS = {
    "note": CBC + "Note",
    "penalty_percent": CBC + "PenaltySurchargePercent",
    "due_date": CBC + "PaymentDueDate",
}


def _address(node: _E | None) -> dict[str, Any] | None:
    if node is None:
        return None
    # An absent country code stays absent (None), rather than taking the model's "TR" default.
    code = _text(node, CAC + "Country/" + CBC + "IdentificationCode")
    return _fields(node, _ADDRESS) | {"country_code": code}


def _party(node: _E | None) -> dict[str, Any] | None:
    if node is None:
        return None
    out: dict[str, Any] = {"identifiers": []}
    for ident in node.iterfind(CAC + "PartyIdentification/" + CBC + "ID"):
        scheme, value = ident.get("schemeID") or "", (ident.text or "").strip()
        key = {"VKN": "vkn", "TCKN": "tckn", "PARTYTYPE": "party_type"}.get(scheme)
        if key and key not in out:
            out[key] = value
        elif value:
            out["identifiers"].append({"scheme_id": scheme, "value": value})
    contact = node.find(CAC + "Contact")
    person = node.find(CAC + "Person")
    out |= {
        "website": _text(node, CBC + "WebsiteURI"),
        "name": _text(node, CAC + "PartyName/" + CBC + "Name"),
        "address": _address(node.find(CAC + "PostalAddress")),
        "tax_office": _text(node, CAC + "PartyTaxScheme/" + CAC + "TaxScheme/" + CBC + "Name"),
        "registration_name": _text(node, CAC + "PartyLegalEntity/" + CBC + "RegistrationName"),
        "first_name": _text(person, CBC + "FirstName"),
        "family_name": _text(person, CBC + "FamilyName"),
        "nationality": _text(person, CBC + "NationalityID"),
        "passport_id": _text(person, CAC + "IdentityDocumentReference/" + CBC + "ID"),
        "passport_issue_date": _text(
            person, CAC + "IdentityDocumentReference/" + CBC + "IssueDate"
        ),
    }
    if contact is not None:
        out["contact"] = _fields(contact, _CONTACT) or None
    return _clean(out)


def _reference(node: _E) -> dict[str, Any]:
    return {"id": _text(node, CBC + "ID"), "issue_date": _text(node, CBC + "IssueDate")}


def _allowances(parent: _E) -> list[dict[str, Any]]:
    out = []
    for ac in parent.iterfind(CAC + "AllowanceCharge"):
        rate = _text(ac, CBC + "MultiplierFactorNumeric")
        item: dict[str, Any] = {
            "charge": (_text(ac, CBC + "ChargeIndicator") or "false").lower() == "true",
            "reason": _text(ac, CBC + "AllowanceChargeReason"),
        }
        if rate is not None and ac.find(CBC + "BaseAmount") is not None:
            item["rate"] = rate
        else:
            item["amount"] = _text(ac, CBC + "Amount")
        out.append(_clean(item))
    return out


def _delivery(node: _E | None, *, line: bool) -> dict[str, Any] | None:
    if node is None:
        return None
    out = {
        "incoterms": _text(node, CAC + "DeliveryTerms/" + CBC + "ID"),
        "transport_mode": _text(
            node, CAC + "Shipment/" + CAC + "ShipmentStage/" + CBC + "TransportModeCode"
        ),
        "address": _address(node.find(CAC + "DeliveryAddress")),
    }
    if line:
        out["gtip"] = _text(
            node, CAC + "Shipment/" + CAC + "GoodsItem/" + CBC + "RequiredCustomsID"
        )
    else:
        out["actual_delivery_date"] = _text(node, CBC + "ActualDeliveryDate")
    return _clean(out)


def _line_taxes(node: _E, line_extension: Decimal | None, out: dict[str, Any]) -> None:
    others = []
    kdv_taxable = None
    for sub in node.iterfind(CAC + "TaxTotal/" + CAC + "TaxSubtotal"):
        code = _text(sub, CAC + "TaxCategory/" + CAC + "TaxScheme/" + CBC + "TaxTypeCode")
        percent = _text(sub, CBC + "Percent")
        if code == KDV:
            ex_code = _text(sub, CAC + "TaxCategory/" + CBC + "TaxExemptionReasonCode")
            reason = _text(sub, CAC + "TaxCategory/" + CBC + "TaxExemptionReason")
            out["kdv_percent"] = percent or "0"
            out["exemption_code"] = ex_code
            out["exemption_reason"] = None if reason == exemption_reason(ex_code, None) else reason
            kdv_taxable = _dec(_text(sub, CBC + "TaxableAmount"))
            continue
        amount = _dec(_text(sub, CBC + "TaxAmount"))
        tax: dict[str, Any] = {"code": code}
        pct = _dec(percent)
        if pct is not None:
            tax["percent"] = percent
            if line_extension is None or amount != round_amount(line_extension * pct / _HUNDRED):
                tax["amount"] = str(amount)
        else:
            tax["amount"] = str(amount)
        others.append(tax)
    out["other_taxes"] = others
    out["_kdv_taxable"] = kdv_taxable


def _line(node: _E) -> dict[str, Any]:
    qty = node.find(CBC + "InvoicedQuantity")
    item = node.find(CAC + "Item")
    line_extension = _dec(_text(node, CBC + "LineExtensionAmount"))
    out: dict[str, Any] = {
        "name": _text(item, CBC + "Name"),
        "description": _text(item, CBC + "Description"),
        "notes": [n.text.strip() for n in node.iterfind(CBC + "Note") if n.text and n.text.strip()],
        "quantity": (qty.text or "").strip() if qty is not None else None,
        "unit_code": qty.get("unitCode") if qty is not None else None,
        "unit_price": _text(node, CAC + "Price/" + CBC + "PriceAmount"),
        "allowances_charges": _allowances(node),
        "brand_name": _text(item, CBC + "BrandName"),
        "model_name": _text(item, CBC + "ModelName"),
        "buyer_item_id": _text(item, CAC + "BuyersItemIdentification/" + CBC + "ID"),
        "seller_item_id": _text(item, CAC + "SellersItemIdentification/" + CBC + "ID"),
        "manufacturer_item_id": _text(item, CAC + "ManufacturersItemIdentification/" + CBC + "ID"),
        "origin_country": _text(item, CAC + "OriginCountry/" + CBC + "IdentificationCode"),
        "delivery": _delivery(node.find(CAC + "Delivery"), line=True),
    }
    if item is not None:
        out["additional_item_ids"] = [
            {"scheme_id": i.get("schemeID"), "value": (i.text or "").strip()}
            for i in item.iterfind(CAC + "AdditionalItemIdentification/" + CBC + "ID")
        ]
    _line_taxes(node, line_extension, out)
    wsub = node.find(CAC + "WithholdingTaxTotal/" + CAC + "TaxSubtotal")
    if wsub is not None:
        out["withholding_code"] = _text(
            wsub, CAC + "TaxCategory/" + CAC + "TaxScheme/" + CBC + "TaxTypeCode"
        )
        out["withholding_percent"] = _text(wsub, CBC + "Percent")
    kdv_taxable = out.pop("_kdv_taxable")
    if kdv_taxable is not None and line_extension is not None:
        in_base = sum(
            (_dec(_text(s, CBC + "TaxAmount")) or Decimal(0))
            for s in node.iterfind(CAC + "TaxTotal/" + CAC + "TaxSubtotal")
            if _text(s, CAC + "TaxCategory/" + CAC + "TaxScheme/" + CBC + "TaxTypeCode")
            in _in_base_codes()
        )
        if kdv_taxable != line_extension + in_base:
            out["special_base"] = str(kdv_taxable)
    return _clean(out)


@cache
def _in_base_codes() -> frozenset[str]:
    return frozenset(c for c, t in rules()["taxes"].items() if t["in_kdv_base"])


def _header(root: _E) -> dict[str, Any]:
    notes = [n.text.strip() for n in root.iterfind(CBC + "Note") if n.text and n.text.strip()]
    currency = _text(root, CBC + "DocumentCurrencyCode") or "TRY"
    payable = _dec(_text(root, CAC + "LegalMonetaryTotal/" + CBC + "PayableAmount"))
    words = notes and payable is not None and notes[-1] == amount_in_words(payable, currency)
    sending = None
    for ref in root.iterfind(CAC + "AdditionalDocumentReference"):
        if _text(ref, CBC + "DocumentTypeCode") == SENDING_TYPE:
            sending = _text(ref, CBC + "DocumentType")
    period = root.find(CAC + "InvoicePeriod")
    order = root.find(CAC + "OrderReference")
    return {
        "profile": _text(root, CBC + "ProfileID"),
        "type": _text(root, CBC + "InvoiceTypeCode"),
        "number": _text(root, CBC + "ID"),
        "ettn": _text(root, CBC + "UUID"),
        "customization_id": _text(root, CBC + "CustomizationID"),
        "issue_date": _text(root, CBC + "IssueDate"),
        "issue_time": _text(root, CBC + "IssueTime"),
        "currency": currency,
        "exchange_rate": _text(root, CAC + "PricingExchangeRate/" + CBC + "CalculationRate"),
        "exchange_rate_date": _text(root, CAC + "PricingExchangeRate/" + CBC + "Date"),
        "notes": notes[:-1] if words else notes,
        "amount_in_words": bool(words),
        "accounting_cost": _text(root, CBC + "AccountingCost"),
        "sending_type": sending,
        "invoice_period": None if period is None else _fields(period, _PERIOD),
        "order_reference": None if order is None else _reference(order),
        "billing_references": [
            _reference(r)
            for r in root.iterfind(CAC + "BillingReference/" + CAC + "InvoiceDocumentReference")
        ],
        "despatch_references": [
            _reference(r) for r in root.iterfind(CAC + "DespatchDocumentReference")
        ],
    }


def _internet_payment(root: _E) -> _E | None:
    """The PaymentMeans carrying the internet sale's ödeme şekli (in InstructionNote)."""
    for pm in root.iterfind(CAC + "PaymentMeans"):
        if _text(pm, CBC + "InstructionNote") is not None:
            return pm
    return None


def _despatch_delivery(root: _E) -> _E | None:
    """The document Delivery carrying an internet sale's carrier and despatch date."""
    for node in root.iterfind(CAC + "Delivery"):
        if node.find(CAC + "CarrierParty") is not None:
            return node
    return None


def internet_sale_data(root: _E) -> dict[str, Any] | None:
    """The internet-sale fields of an invoice as draft data (``InternetSale``), or None when
    the invoice is not marked as an internet sale (``EArchiveType`` = ``INTERNET``)."""
    marked = any(
        _text(ref, CBC + "DocumentTypeCode") == EARCHIVE_TYPE
        and _text(ref, CBC + "DocumentType") == INTERNET
        for ref in root.iterfind(CAC + "AdditionalDocumentReference")
    )
    if not marked:
        return None
    pm = _internet_payment(root)
    delivery = _despatch_delivery(root)
    carrier = None if delivery is None else delivery.find(CAC + "CarrierParty")
    carrier_data = None
    if carrier is not None:
        party = _party(carrier) or {}
        carrier_data = {
            k: party.get(k) for k in ("vkn", "tckn", "name", "first_name", "family_name", "address")
        }
    return _clean(
        {
            "payment_type": _text(pm, CBC + "InstructionNote"),
            "payment_intermediary": _text(pm, CBC + "PaymentChannelCode"),
            "payment_date": _text(pm, CBC + "PaymentDueDate"),
            "shipment_date": _text(delivery, CAC + "Despatch/" + CBC + "ActualDespatchDate"),
            "carrier": None if carrier_data is None else _clean(carrier_data),
        }
    )


def _complete(sale: dict[str, Any]) -> bool:
    try:
        InternetSale.model_validate(sale)
    except ValidationError:
        return False
    return True


def _payment(root: _E, internet: bool) -> dict[str, Any]:
    terms = root.find(CAC + "PaymentTerms")
    skip = _internet_payment(root) if internet else None
    return {
        "payment_means": [
            _fields(pm, _PAYMENT_MEANS)
            for pm in root.iterfind(CAC + "PaymentMeans")
            if pm is not skip
        ],
        "payment_terms": None if terms is None else _fields(terms, _PAYMENT_TERMS) or None,
    }


def parse_invoice_tree(root: _E) -> InvoiceDraft:
    """Read a parsed ``Invoice`` element into a draft; raise :class:`ParseError`."""
    if root.tag != "{" + INVOICE + "}Invoice":
        raise ParseError(
            detail_tr=f"kök eleman Invoice değil: {root.tag}",
            detail_en=f"root element is not an Invoice: {root.tag}",
            where="/",
        )
    data = _header(root)
    internet = internet_sale_data(root)
    if internet is not None and not _complete(internet):
        # Another integrator's marker without every field we write: read what it has as
        # ordinary payment means and delivery (GİB's reading of what others send).
        internet = None
    delivery = _delivery(root.find(CAC + "Delivery"), line=False)
    data |= {
        "supplier": _party(root.find(CAC + "AccountingSupplierParty/" + CAC + "Party")),
        "customer": _party(root.find(CAC + "AccountingCustomerParty/" + CAC + "Party")),
        "buyer_customer": _party(root.find(CAC + "BuyerCustomerParty/" + CAC + "Party")),
        "tax_representative": _party(root.find(CAC + "TaxRepresentativeParty")),
        "internet_sale": internet,
        # A Delivery holding only the internet sale's carrier is not a draft delivery.
        "delivery": delivery or None,
        "allowances_charges": _allowances(root),
        "payable_rounding": _text(
            root, CAC + "LegalMonetaryTotal/" + CBC + "PayableRoundingAmount"
        ),
        "lines": [_line(n) for n in root.iterfind(CAC + "InvoiceLine")],
    }
    data |= _payment(root, internet is not None)
    try:
        return InvoiceDraft.model_validate(_clean(data))
    except ValidationError as exc:
        problems = problems_from_validation(exc)
        first = problems[0]
        raise ParseError(
            detail_tr=f"{first.where}: {first.message_tr} ({len(problems)} sorun)",
            detail_en=f"{first.where}: {first.message_en} ({len(problems)} problems)",
            where=first.where,
        ) from None


def parse_invoice(data: bytes) -> InvoiceDraft:
    """Parse untrusted invoice XML bytes (through :mod:`safe_xml`) into a draft."""
    return parse_invoice_tree(safe_parse(data))
