"""Fatura taslağı: the invoice draft an ERP sends (the platform's public input).

Field names follow UBL in snake_case where UBL has a name; amounts are ``Decimal``.
The draft carries what a person decides (quantities, prices, rates, codes); every total is
computed by :mod:`entegrator.documents.totals` when the XML is built. See ``docs/draft.md``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from entegrator.documents.codes import InvoiceTypeCode, ProfileID
from entegrator.documents.model._base import Amount, DraftModel, Percent, Quantity, Text
from entegrator.documents.model.party import Address, Party

__all__ = [
    "AllowanceCharge",
    "Carrier",
    "Delivery",
    "DocumentReference",
    "InternetSale",
    "InvoiceDraft",
    "ItemIdentifier",
    "Line",
    "LineDelivery",
    "OtherTax",
    "PaymentMeans",
    "PaymentTerms",
    "Period",
]

Code = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_./-]+$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
MAX_LINES = 100_000


class AllowanceCharge(DraftModel):
    """İskonto (allowance, ``charge`` false) or artırım (charge): a fixed ``amount`` or a ``rate``.

    ``rate`` is UBL's MultiplierFactorNumeric (0.10 = 10 %) applied to the line's gross amount
    (quantity × price) or, at document level, to the sum of line amounts.
    """

    charge: bool = False
    reason: Text | None = None
    amount: Amount | None = None
    rate: Annotated[Decimal, Field(ge=0, le=1, decimal_places=6)] | None = None

    @model_validator(mode="after")
    def _amount_or_rate(self) -> AllowanceCharge:
        if (self.amount is None) == (self.rate is None):
            raise ValueError("give exactly one of amount or rate")
        return self


class OtherTax(DraftModel):
    """A tax other than KDV on a line (ÖTV, ÖİV, konaklama vergisi, damga…).

    ``percent`` of the line amount, or a fixed ``amount`` (per-unit taxes such as ÖTV list I).
    ``in_kdv_base`` overrides the table of taxes that enter the KDV base (ÖTV lists do).
    """

    code: Code
    percent: Percent | None = None
    amount: Amount | None = None
    in_kdv_base: bool | None = None

    @model_validator(mode="after")
    def _percent_or_amount(self) -> OtherTax:
        if self.percent is None and self.amount is None:
            raise ValueError("give percent or amount")
        return self


class ItemIdentifier(DraftModel):
    """AdditionalItemIdentification (KUNYENO, TELEFON, ILAC…)."""

    scheme_id: Code
    value: Text


class LineDelivery(DraftModel):
    """Line delivery data, needed on export (IHRACAT) lines."""

    gtip: Text | None = None
    incoterms: Code | None = None
    transport_mode: Annotated[str, StringConstraints(pattern=r"^[0-9]$")] | None = None
    address: Address | None = None


class Line(DraftModel):
    """Fatura satırı (InvoiceLine)."""

    name: Text
    description: Text | None = None
    notes: list[Text] = Field(default_factory=list, max_length=20)
    quantity: Quantity
    unit_code: Code = "C62"
    unit_price: Amount
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list, max_length=20)
    kdv_percent: Percent
    exemption_code: Code | None = None
    exemption_reason: Text | None = None
    special_base: Amount | None = None
    other_taxes: list[OtherTax] = Field(default_factory=list, max_length=10)
    withholding_code: Code | None = None
    withholding_percent: Percent | None = None
    seller_item_id: Text | None = None
    buyer_item_id: Text | None = None
    manufacturer_item_id: Text | None = None
    brand_name: Text | None = None
    model_name: Text | None = None
    additional_item_ids: list[ItemIdentifier] = Field(default_factory=list, max_length=20)
    origin_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    delivery: LineDelivery | None = None


class DocumentReference(DraftModel):
    """A reference to another document: number and issue date."""

    id: Text
    issue_date: dt.date


class Period(DraftModel):
    start_date: dt.date | None = None
    start_time: dt.time | None = None
    end_date: dt.date | None = None
    end_time: dt.time | None = None
    description: Text | None = None


class PaymentMeans(DraftModel):
    """Ödeme şekli: UN/EDIFACT 4461 code (1 unspecified, 10 cash, 42 transfer, 48 card…)."""

    code: Code = "1"
    due_date: dt.date | None = None
    channel_code: Code | None = None
    iban: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[0-9A-Z]{10,32}$")] | None = None
    bank_name: Text | None = None


class PaymentTerms(DraftModel):
    note: Text | None = None
    penalty_percent: Percent | None = None
    due_date: dt.date | None = None


class Delivery(DraftModel):
    """Document-level delivery: INCOTERMS, address and transport mode for exports."""

    incoterms: Code | None = None
    transport_mode: Annotated[str, StringConstraints(pattern=r"^[0-9]$")] | None = None
    address: Address | None = None
    actual_delivery_date: dt.date | None = None


# GİB's e-Arşiv report type ``odemeTip``: four fixed values or "DIGER - " and a free text.
PAYMENT_TYPES = ("KREDIKARTI/BANKAKARTI", "EFT/HAVALE", "KAPIDAODEME", "ODEMEARACISI")
PaymentType = Annotated[
    str,
    StringConstraints(
        max_length=1000,
        pattern=r"^(KREDIKARTI/BANKAKARTI|EFT/HAVALE|KAPIDAODEME|ODEMEARACISI|DIGER - \S.*)$",
    ),
]


class Carrier(DraftModel):
    """Gönderiyi taşıyan: the carrier of an internet sale's shipment.

    A company (``vkn`` and its title ``name``) or a person (``tckn``, ``first_name`` and
    ``family_name``). UBL-TR's Party needs a postal address, so ``address`` is required.
    """

    vkn: Text | None = None
    tckn: Text | None = None
    name: Text | None = None
    first_name: Text | None = None
    family_name: Text | None = None
    address: Address


class InternetSale(DraftModel):
    """İnternet satış bilgileri: what an e-Arşiv invoice of an internet sale must carry.

    The web address is the supplier's ``website`` (WebsiteURI). ``payment_type`` is GİB's
    ödeme şekli (``KREDIKARTI/BANKAKARTI``, ``EFT/HAVALE``, ``KAPIDAODEME``, ``ODEMEARACISI``
    or ``DIGER - <text>``); ``payment_date`` (ödeme tarihi) is required unless the payment
    type is KAPIDAODEME or DIGER. ``shipment_date`` is gönderim tarihi. See ``docs/draft.md``.
    """

    payment_type: PaymentType
    payment_intermediary: Text | None = None
    payment_date: dt.date | None = None
    shipment_date: dt.date
    carrier: Carrier


class InvoiceDraft(DraftModel):
    """An invoice as an ERP knows it; ``build`` turns it into UBL-TR 1.2 XML.

    ``number`` and ``ettn`` may be left out while drafting; they are required to build
    (the platform assigns them from the tenant's series).
    """

    profile: ProfileID
    type: InvoiceTypeCode
    number: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{3}20[0-9]{2}[0-9]{9}$")] | None = (
        None
    )
    ettn: (
        Annotated[
            str, StringConstraints(pattern=r"^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$")
        ]
        | None
    ) = None
    customization_id: Literal["TR1.2", "TR1.2.1"] = "TR1.2"
    issue_date: dt.date
    issue_time: dt.time | None = None
    currency: CurrencyCode = "TRY"
    exchange_rate: Annotated[Decimal, Field(gt=0, decimal_places=6)] | None = None
    exchange_rate_date: dt.date | None = None
    notes: list[Annotated[str, StringConstraints(min_length=1, max_length=5000)]] = Field(
        default_factory=list, max_length=50
    )
    amount_in_words: bool = True
    accounting_cost: Code | None = None
    sending_type: Literal["KAGIT", "ELEKTRONIK"] | None = None
    internet_sale: InternetSale | None = None
    invoice_period: Period | None = None
    order_reference: DocumentReference | None = None
    billing_references: list[DocumentReference] = Field(default_factory=list, max_length=1000)
    despatch_references: list[DocumentReference] = Field(default_factory=list, max_length=1000)
    supplier: Party
    customer: Party
    buyer_customer: Party | None = None
    tax_representative: Party | None = None
    delivery: Delivery | None = None
    payment_means: list[PaymentMeans] = Field(default_factory=list, max_length=10)
    payment_terms: PaymentTerms | None = None
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list, max_length=20)
    payable_rounding: Annotated[Decimal, Field(ge=-1, le=1, decimal_places=2)] | None = None
    lines: list[Line] = Field(min_length=1, max_length=MAX_LINES)
