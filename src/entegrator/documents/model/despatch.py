"""İrsaliye taslağı and irsaliye yanıtı taslağı: the e-İrsaliye drafts (``docs/despatch.md``).

A :class:`DespatchDraft` is the sevk irsaliyesi (UBL ``DespatchAdvice``) a supplier sends with
the goods; a :class:`ReceiptDraft` is the receiver's answer (UBL ``ReceiptAdvice``), per line
received, rejected, short and oversupplied quantities. Field names follow UBL in snake_case.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from entegrator.documents.model._base import Amount, DraftModel, Quantity, Text
from entegrator.documents.model.invoice import Code, CurrencyCode, DocumentReference, ItemIdentifier
from entegrator.documents.model.party import Address, Party

__all__ = [
    "DespatchDraft",
    "DespatchLine",
    "DespatchProfile",
    "DespatchShipment",
    "DespatchType",
    "Driver",
    "ReceiptDraft",
    "ReceiptLine",
]

DespatchProfile = Literal["TEMELIRSALIYE", "HKSIRSALIYE"]
DespatchType = Literal["SEVK", "MATBUDAN"]
Number = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{3}20[0-9]{2}[0-9]{9}$")]
Ettn = Annotated[
    str, StringConstraints(pattern=r"^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$")
]
LineId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}$")]
Note = Annotated[str, StringConstraints(min_length=1, max_length=5000)]
MAX_LINES = 100_000


class Driver(DraftModel):
    """Şoför (``ShipmentStage/DriverPerson``): name and TCKN (NationalityID)."""

    first_name: Text
    family_name: Text
    tckn: Text
    title: Text | None = None


class DespatchShipment(DraftModel):
    """Sevkiyat bilgileri (``Shipment``).

    ``plate`` is the vehicle's plaka (schemeID ``PLAKA``), ``trailer_plates`` the dorse
    plakaları (``DORSEPLAKA``). A shipment has drivers (with a plate) or a ``carrier``
    (taşıyıcı firma), or both. ``delivery_address`` is the teslimat adresi (postal code needed).
    ``goods_value`` is the value of the goods (``GoodsItem/ValueAmount``), in ``currency``.
    """

    id: Text = "1"
    goods_value: Amount | None = None
    currency: CurrencyCode = "TRY"
    drivers: list[Driver] = Field(default_factory=list, max_length=20)
    plate: Text | None = None
    trailer_plates: list[Text] = Field(default_factory=list, max_length=10)
    carrier: Party | None = None
    delivery_address: Address
    actual_despatch_date: dt.date
    actual_despatch_time: dt.time


class DespatchLine(DraftModel):
    """İrsaliye satırı (``DespatchLine``).

    ``quantity`` is the despatched (gönderilen) quantity, ``unit_code`` from GİB's unit list.
    A partial shipment (kısmi gönderim) gives the ``outstanding_quantity`` still to come and
    its ``outstanding_reason``. ``order_line_id`` defaults to the line's number.
    """

    name: Text
    description: Text | None = None
    notes: list[Text] = Field(default_factory=list, max_length=20)
    quantity: Quantity
    unit_code: Code = "C62"
    outstanding_quantity: Quantity | None = None
    outstanding_reason: Text | None = None
    order_line_id: LineId | None = None
    seller_item_id: Text | None = None
    buyer_item_id: Text | None = None
    manufacturer_item_id: Text | None = None
    brand_name: Text | None = None
    model_name: Text | None = None
    additional_item_ids: list[ItemIdentifier] = Field(default_factory=list, max_length=20)


class DespatchDraft(DraftModel):
    """A despatch advice (e-İrsaliye) as an ERP knows it; ``build_despatch`` makes the XML.

    ``number`` and ``ettn`` may be left out while drafting; they are required to build.
    ``paper_document`` (matbu belge: number and date of the paper note) is required for
    type MATBUDAN and refused otherwise.
    """

    kind: Literal["despatch"]
    profile: DespatchProfile = "TEMELIRSALIYE"
    type: DespatchType = "SEVK"
    number: Number | None = None
    ettn: Ettn | None = None
    customization_id: Literal["TR1.2", "TR1.2.1"] = "TR1.2"
    issue_date: dt.date
    issue_time: dt.time
    notes: list[Note] = Field(default_factory=list, max_length=50)
    order_reference: DocumentReference | None = None
    paper_document: DocumentReference | None = None
    supplier: Party
    supplier_contact: Text | None = None
    customer: Party
    buyer_customer: Party | None = None
    seller_supplier: Party | None = None
    originator_customer: Party | None = None
    shipment: DespatchShipment
    lines: list[DespatchLine] = Field(min_length=1, max_length=MAX_LINES)


class ReceiptLine(DraftModel):
    """İrsaliye yanıtı satırı (``ReceiptLine``) answering one despatch line.

    ``received`` (kabul edilen), ``rejected`` (reddedilen, with ``reject_reason``), ``short``
    (eksik) and ``oversupply`` (fazla) quantities in the despatch line's ``unit_code``.
    received + rejected + short must equal the despatched quantity. ``timing_complaint``:
    a late-delivery complaint (``TimingComplaint``, e.g. "Ürünler geç gönderilmiştir").
    """

    despatch_line_id: LineId
    name: Text
    unit_code: Code = "C62"
    received: Annotated[Amount, Field(decimal_places=8)]
    rejected: Quantity | None = None
    reject_reason: Text | None = None
    short: Quantity | None = None
    oversupply: Quantity | None = None
    timing_complaint: Text | None = None
    seller_item_id: Text | None = None


class ReceiptDraft(DraftModel):
    """An irsaliye yanıtı: the receiver's answer to a despatch it received.

    ``despatch_ettn`` and ``despatch_date`` identify the answered despatch
    (``DespatchDocumentReference``: its ETTN and issue date). ``customer`` is the receiver
    (DeliveryCustomerParty, who issues and signs the answer), ``supplier`` the despatch's
    sender. ``actual_delivery_date`` is the fiili teslim tarihi.
    """

    kind: Literal["receipt"]
    profile: DespatchProfile = "TEMELIRSALIYE"
    number: Number | None = None
    ettn: Ettn | None = None
    customization_id: Literal["TR1.2", "TR1.2.1"] = "TR1.2"
    issue_date: dt.date
    issue_time: dt.time | None = None
    notes: list[Note] = Field(default_factory=list, max_length=50)
    despatch_ettn: Ettn
    despatch_date: dt.date
    despatch_number: Number | None = None
    customer: Party
    supplier: Party
    buyer_customer: Party | None = None
    seller_supplier: Party | None = None
    actual_delivery_date: dt.date
    actual_delivery_time: dt.time | None = None
    lines: list[ReceiptLine] = Field(min_length=1, max_length=MAX_LINES)
