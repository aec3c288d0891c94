"""Fatura XML'i: an invoice draft → UBL-TR 1.2 XML bytes, in GİB's element order.

The element order follows the XSD sequence of ``UBL-Invoice-2.1.xsd`` (``ubl-tr.md`` §2, §10).
Every amount comes from :func:`entegrator.documents.totals.compute`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

from entegrator.documents.build import _earsiv
from entegrator.documents.checks import ensure_buildable
from entegrator.documents.codes import SENDING_TYPE
from entegrator.documents.model import (
    Address,
    Delivery,
    DocumentReference,
    InvoiceDraft,
    Line,
    LineDelivery,
    Party,
    Period,
)
from entegrator.documents.ns import CAC, CBC, EXT, INVOICE, NSMAP, UNSIGNED
from entegrator.documents.totals import (
    AllowanceChargeAmount,
    InvoiceTotals,
    LineTotals,
    TaxAmount,
    WithholdingAmount,
    compute,
)
from entegrator.documents.words import amount_in_words

__all__ = ["build_invoice", "fmt_decimal", "signature_uri"]

_E = etree._Element


def fmt_decimal(value: Decimal) -> str:
    """A decimal as XML text without exponent or trailing zeros: ``20``, ``0.15``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _amount_text(value: Decimal) -> str:
    return format(value, ".2f")


def signature_uri(number: str) -> str:
    return f"#Signature_{number}"


class _Writer:
    def __init__(self, currency: str) -> None:
        self.currency = currency

    @staticmethod
    def el(parent: _E, tag: str, text: str | None = None, **attrs: str) -> _E:
        node = etree.SubElement(parent, tag, attrs or None)
        if text is not None:
            node.text = text
        return node

    def opt(self, parent: _E, tag: str, text: str | None, **attrs: str) -> None:
        if text is not None:
            self.el(parent, tag, text, **attrs)

    def amount(self, parent: _E, tag: str, value: Decimal) -> None:
        self.el(parent, tag, _amount_text(value), currencyID=self.currency)

    def date(self, parent: _E, tag: str, value: dt.date | None) -> None:
        if value is not None:
            self.el(parent, tag, value.isoformat())

    def time(self, parent: _E, tag: str, value: dt.time | None) -> None:
        if value is not None:
            self.el(parent, tag, value.replace(microsecond=0).isoformat())

    # -- parties -----------------------------------------------------------------------
    def address(self, parent: _E, tag: str, a: Address) -> None:
        node = self.el(parent, tag)
        self.opt(node, CBC + "StreetName", a.street)
        self.opt(node, CBC + "BuildingNumber", a.building_number)
        self.el(node, CBC + "CitySubdivisionName", a.district)
        self.el(node, CBC + "CityName", a.city)
        self.opt(node, CBC + "PostalZone", a.postal_zone)
        country = self.el(node, CAC + "Country")
        self.opt(country, CBC + "IdentificationCode", a.country_code)
        self.el(country, CBC + "Name", a.country)

    def party(self, parent: _E, p: Party, tag: str = CAC + "Party") -> None:
        node = self.el(parent, tag)
        self.opt(node, CBC + "WebsiteURI", p.website)
        ids: list[tuple[str, str]] = []
        if p.vkn:
            ids.append(("VKN", p.vkn))
        if p.tckn:
            ids.append(("TCKN", p.tckn))
        if p.party_type:
            ids.append(("PARTYTYPE", p.party_type))
        ids += [(i.scheme_id, i.value) for i in p.identifiers]
        for scheme, value in ids:
            self.el(self.el(node, CAC + "PartyIdentification"), CBC + "ID", value, schemeID=scheme)
        if p.name:
            self.el(self.el(node, CAC + "PartyName"), CBC + "Name", p.name)
        self.address(node, CAC + "PostalAddress", p.address)
        if p.tax_office:
            tax_scheme = self.el(self.el(node, CAC + "PartyTaxScheme"), CAC + "TaxScheme")
            self.el(tax_scheme, CBC + "Name", p.tax_office)
        if p.registration_name:
            self.el(
                self.el(node, CAC + "PartyLegalEntity"),
                CBC + "RegistrationName",
                p.registration_name,
            )
        if p.contact:
            contact = self.el(node, CAC + "Contact")
            self.opt(contact, CBC + "Telephone", p.contact.telephone)
            self.opt(contact, CBC + "Telefax", p.contact.telefax)
            self.opt(contact, CBC + "ElectronicMail", p.contact.email)
        if p.first_name and p.family_name:
            person = self.el(node, CAC + "Person")
            self.el(person, CBC + "FirstName", p.first_name)
            self.el(person, CBC + "FamilyName", p.family_name)
            self.opt(person, CBC + "NationalityID", p.nationality)
            if p.passport_id and p.passport_issue_date:
                ref = self.el(person, CAC + "IdentityDocumentReference")
                self.el(ref, CBC + "ID", p.passport_id)
                self.date(ref, CBC + "IssueDate", p.passport_issue_date)

    def signature(self, root: _E, d: InvoiceDraft) -> None:
        sup = d.supplier
        if d.number is None:
            raise ValueError("the draft has no number (ensure_buildable assigns one)")
        sig = self.el(root, CAC + "Signature")
        self.el(sig, CBC + "ID", sup.identifier or "", schemeID="VKN_TCKN")
        signatory = self.el(sig, CAC + "SignatoryParty")
        scheme = "VKN" if sup.vkn else "TCKN"
        self.el(
            self.el(signatory, CAC + "PartyIdentification"),
            CBC + "ID",
            sup.identifier or "",
            schemeID=scheme,
        )
        self.address(signatory, CAC + "PostalAddress", sup.address)
        ext = self.el(self.el(sig, CAC + "DigitalSignatureAttachment"), CAC + "ExternalReference")
        self.el(ext, CBC + "URI", signature_uri(d.number))

    # -- references, delivery, payment ---------------------------------------------------
    def period(self, root: _E, p: Period) -> None:
        node = self.el(root, CAC + "InvoicePeriod")
        self.date(node, CBC + "StartDate", p.start_date)
        self.time(node, CBC + "StartTime", p.start_time)
        self.date(node, CBC + "EndDate", p.end_date)
        self.time(node, CBC + "EndTime", p.end_time)
        self.opt(node, CBC + "Description", p.description)

    def reference(
        self, parent: _E, tag: str, r: DocumentReference, type_code: str | None = None
    ) -> None:
        node = self.el(parent, tag)
        self.el(node, CBC + "ID", r.id)
        self.date(node, CBC + "IssueDate", r.issue_date)
        self.opt(node, CBC + "DocumentTypeCode", type_code)

    def delivery(
        self, parent: _E, d: Delivery | LineDelivery, draft: InvoiceDraft | None = None
    ) -> None:
        node = self.el(parent, CAC + "Delivery")
        if isinstance(d, Delivery):
            self.date(node, CBC + "ActualDeliveryDate", d.actual_delivery_date)
        if d.address:
            self.address(node, CAC + "DeliveryAddress", d.address)
        if draft is not None:
            _earsiv.carrier_and_despatch(self, node, draft)
        if d.incoterms:
            self.el(
                self.el(node, CAC + "DeliveryTerms"), CBC + "ID", d.incoterms, schemeID="INCOTERMS"
            )
        gtip = d.gtip if isinstance(d, LineDelivery) else None
        if gtip or d.transport_mode:
            shipment = self.el(node, CAC + "Shipment")
            self.el(shipment, CBC + "ID", "1")
            if gtip:
                self.el(self.el(shipment, CAC + "GoodsItem"), CBC + "RequiredCustomsID", gtip)
            if d.transport_mode:
                self.el(
                    self.el(shipment, CAC + "ShipmentStage"),
                    CBC + "TransportModeCode",
                    d.transport_mode,
                )

    def payment(self, root: _E, d: InvoiceDraft) -> None:
        _earsiv.internet_payment(self, root, d)
        for pm in d.payment_means:
            node = self.el(root, CAC + "PaymentMeans")
            self.el(node, CBC + "PaymentMeansCode", pm.code)
            self.date(node, CBC + "PaymentDueDate", pm.due_date)
            self.opt(node, CBC + "PaymentChannelCode", pm.channel_code)
            if pm.iban:
                account = self.el(node, CAC + "PayeeFinancialAccount")
                self.el(account, CBC + "ID", pm.iban)
                self.el(account, CBC + "CurrencyCode", d.currency)
                self.opt(account, CBC + "PaymentNote", pm.bank_name)
        if d.payment_terms:
            pt = d.payment_terms
            node = self.el(root, CAC + "PaymentTerms")
            self.opt(node, CBC + "Note", pt.note)
            if pt.penalty_percent is not None:
                self.el(node, CBC + "PenaltySurchargePercent", fmt_decimal(pt.penalty_percent))
            self.date(node, CBC + "PaymentDueDate", pt.due_date)

    # -- amounts -------------------------------------------------------------------------
    def allowance(self, parent: _E, a: AllowanceChargeAmount) -> None:
        node = self.el(parent, CAC + "AllowanceCharge")
        self.el(node, CBC + "ChargeIndicator", "true" if a.charge else "false")
        self.opt(node, CBC + "AllowanceChargeReason", a.reason)
        if a.rate is not None:
            self.el(node, CBC + "MultiplierFactorNumeric", fmt_decimal(a.rate))
        self.amount(node, CBC + "Amount", a.amount)
        if a.base_amount is not None:
            self.amount(node, CBC + "BaseAmount", a.base_amount)

    def tax_total(self, parent: _E, total: Decimal, taxes: tuple[TaxAmount, ...]) -> None:
        node = self.el(parent, CAC + "TaxTotal")
        self.amount(node, CBC + "TaxAmount", total)
        for t in taxes:
            sub = self.el(node, CAC + "TaxSubtotal")
            self.amount(sub, CBC + "TaxableAmount", t.taxable)
            self.amount(sub, CBC + "TaxAmount", t.amount)
            if t.percent is not None:
                self.el(sub, CBC + "Percent", fmt_decimal(t.percent))
            cat = self.el(sub, CAC + "TaxCategory")
            self.opt(cat, CBC + "TaxExemptionReasonCode", t.exemption_code)
            self.opt(cat, CBC + "TaxExemptionReason", t.exemption_reason)
            scheme = self.el(cat, CAC + "TaxScheme")
            self.el(scheme, CBC + "Name", t.name)
            self.el(scheme, CBC + "TaxTypeCode", t.code)

    def withholding_total(
        self, parent: _E, total: Decimal, items: tuple[WithholdingAmount, ...]
    ) -> None:
        node = self.el(parent, CAC + "WithholdingTaxTotal")
        self.amount(node, CBC + "TaxAmount", total)
        for w in items:
            sub = self.el(node, CAC + "TaxSubtotal")
            self.amount(sub, CBC + "TaxableAmount", w.taxable)
            self.amount(sub, CBC + "TaxAmount", w.amount)
            self.el(sub, CBC + "Percent", fmt_decimal(w.percent))
            scheme = self.el(self.el(sub, CAC + "TaxCategory"), CAC + "TaxScheme")
            self.el(scheme, CBC + "TaxTypeCode", w.code)

    def monetary_total(self, root: _E, t: InvoiceTotals) -> None:
        node = self.el(root, CAC + "LegalMonetaryTotal")
        self.amount(node, CBC + "LineExtensionAmount", t.line_extension)
        self.amount(node, CBC + "TaxExclusiveAmount", t.tax_exclusive)
        self.amount(node, CBC + "TaxInclusiveAmount", t.tax_inclusive)
        self.amount(node, CBC + "AllowanceTotalAmount", t.allowance_total)
        if t.charge_total:
            self.amount(node, CBC + "ChargeTotalAmount", t.charge_total)
        if t.payable_rounding is not None:
            self.amount(node, CBC + "PayableRoundingAmount", t.payable_rounding)
        self.amount(node, CBC + "PayableAmount", t.payable)

    def line(self, root: _E, n: int, line: Line, lt: LineTotals) -> None:
        node = self.el(root, CAC + "InvoiceLine")
        self.el(node, CBC + "ID", str(n))
        for note in line.notes:
            self.el(node, CBC + "Note", note)
        self.el(node, CBC + "InvoicedQuantity", fmt_decimal(line.quantity), unitCode=line.unit_code)
        self.amount(node, CBC + "LineExtensionAmount", lt.line_extension)
        if line.delivery:
            self.delivery(node, line.delivery)
        for a in lt.allowances_charges:
            self.allowance(node, a)
        self.tax_total(node, lt.tax_amount, lt.taxes)
        if lt.withholding:
            self.withholding_total(node, lt.withholding.amount, (lt.withholding,))
        self.item(node, line)
        price = self.el(node, CAC + "Price")
        self.el(price, CBC + "PriceAmount", fmt_decimal(line.unit_price), currencyID=self.currency)

    def item(self, parent: _E, line: Line) -> None:
        node = self.el(parent, CAC + "Item")
        self.opt(node, CBC + "Description", line.description)
        self.el(node, CBC + "Name", line.name)
        self.opt(node, CBC + "BrandName", line.brand_name)
        self.opt(node, CBC + "ModelName", line.model_name)
        for tag, value in (
            ("BuyersItemIdentification", line.buyer_item_id),
            ("SellersItemIdentification", line.seller_item_id),
            ("ManufacturersItemIdentification", line.manufacturer_item_id),
        ):
            if value:
                self.el(self.el(node, CAC + tag), CBC + "ID", value)
        for ident in line.additional_item_ids:
            self.el(
                self.el(node, CAC + "AdditionalItemIdentification"),
                CBC + "ID",
                ident.value,
                schemeID=ident.scheme_id,
            )
        if line.origin_country:
            origin = self.el(node, CAC + "OriginCountry")
            self.el(origin, CBC + "IdentificationCode", line.origin_country)
            self.el(origin, CBC + "Name", line.origin_country)


def _header(w: _Writer, root: _E, d: InvoiceDraft, totals: InvoiceTotals) -> None:
    if d.number is None or d.ettn is None:
        raise ValueError("the draft has no number or ETTN (ensure_buildable assigns them)")
    ext = w.el(
        w.el(w.el(root, EXT + "UBLExtensions"), EXT + "UBLExtension"), EXT + "ExtensionContent"
    )
    etree.SubElement(ext, UNSIGNED, nsmap={"entegrator": "urn:entegrator:unsigned"})
    w.el(root, CBC + "UBLVersionID", "2.1")
    w.el(root, CBC + "CustomizationID", d.customization_id)
    w.el(root, CBC + "ProfileID", d.profile.value)
    w.el(root, CBC + "ID", d.number)
    w.el(root, CBC + "CopyIndicator", "false")
    w.el(root, CBC + "UUID", d.ettn.upper())
    w.date(root, CBC + "IssueDate", d.issue_date)
    w.time(root, CBC + "IssueTime", d.issue_time)
    w.el(root, CBC + "InvoiceTypeCode", d.type.value)
    for note in d.notes:
        w.el(root, CBC + "Note", note)
    if d.amount_in_words:
        w.el(root, CBC + "Note", amount_in_words(totals.payable, d.currency))
    w.el(root, CBC + "DocumentCurrencyCode", d.currency)
    w.opt(root, CBC + "AccountingCost", d.accounting_cost)
    w.el(root, CBC + "LineCountNumeric", str(len(d.lines)))
    if d.invoice_period:
        w.period(root, d.invoice_period)
    if d.order_reference:
        w.reference(root, CAC + "OrderReference", d.order_reference)
    for ref in d.billing_references:
        w.reference(
            w.el(root, CAC + "BillingReference"), CAC + "InvoiceDocumentReference", ref, "IADE"
        )
    for ref in d.despatch_references:
        w.reference(root, CAC + "DespatchDocumentReference", ref)
    if d.sending_type:
        node = w.el(root, CAC + "AdditionalDocumentReference")
        w.el(node, CBC + "ID", d.number)
        w.date(node, CBC + "IssueDate", d.issue_date)
        w.el(node, CBC + "DocumentTypeCode", SENDING_TYPE)
        w.el(node, CBC + "DocumentType", d.sending_type)
    _earsiv.internet_marker(w, root, d)


def build_invoice(draft: InvoiceDraft) -> bytes:
    """The UBL-TR 1.2 XML of an invoice draft (unsigned), UTF-8 with declaration.

    Raises :class:`~entegrator.documents.errors.DraftError` when the draft cannot be built.
    """
    d = ensure_buildable(draft)
    totals = compute(d)
    w = _Writer(d.currency)
    root = etree.Element("{" + INVOICE + "}Invoice", nsmap=NSMAP)  # type: ignore[arg-type]
    _header(w, root, d, totals)
    w.signature(root, d)
    w.party(w.el(root, CAC + "AccountingSupplierParty"), d.supplier)
    w.party(w.el(root, CAC + "AccountingCustomerParty"), d.customer)
    if d.buyer_customer:
        w.party(w.el(root, CAC + "BuyerCustomerParty"), d.buyer_customer)
    if d.tax_representative:
        w.party(root, d.tax_representative, CAC + "TaxRepresentativeParty")
    if d.delivery or d.internet_sale:
        w.delivery(root, d.delivery or Delivery(), d)
    w.payment(root, d)
    for a in totals.allowances_charges:
        w.allowance(root, a)
    if d.currency != "TRY" and d.exchange_rate is not None:
        rate = w.el(root, CAC + "PricingExchangeRate")
        w.el(rate, CBC + "SourceCurrencyCode", d.currency)
        w.el(rate, CBC + "TargetCurrencyCode", "TRY")
        w.el(rate, CBC + "CalculationRate", fmt_decimal(d.exchange_rate))
        w.date(rate, CBC + "Date", d.exchange_rate_date)
    w.tax_total(root, totals.tax_amount, totals.taxes)
    if totals.withholdings:
        w.withholding_total(root, totals.withholding_amount, totals.withholdings)
    w.monetary_total(root, totals)
    for n, (line, lt) in enumerate(zip(d.lines, totals.lines, strict=True), start=1):
        w.line(root, n, line, lt)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
