"""İrsaliye okuma: despatch and receipt advice XML → :class:`DespatchDraft` /
:class:`ReceiptDraft`.

The inverse of :mod:`entegrator.documents.build.despatch`: for every field the drafts
support, ``build_despatch(parse_despatch(xml)) == xml`` for XML we built (and likewise for
receipts). Elements the drafts do not model (signatures, physical locations, invoice lines
in a despatch line's shipment…) are not carried over.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from lxml import etree
from pydantic import BaseModel, ValidationError

from entegrator.documents._validation import problems_from_validation
from entegrator.documents.build.despatch import DESPATCH_NUMBER, MATBU
from entegrator.documents.errors import ParseError
from entegrator.documents.model import DespatchDraft, ReceiptDraft
from entegrator.documents.ns import CAC, CBC, DESPATCH, RECEIPT
from entegrator.documents.parse.invoice import _address, _clean, _party, _reference, _text
from entegrator.documents.safe_xml import parse as safe_parse

__all__ = ["parse_despatch", "parse_despatch_tree", "parse_receipt", "parse_receipt_tree"]

_E = etree._Element
_M = TypeVar("_M", bound=BaseModel)


def _root_is(root: _E, namespace: str, name: str) -> None:
    if root.tag != "{" + namespace + "}" + name:
        raise ParseError(
            detail_tr=f"kök eleman {name} değil: {root.tag}",
            detail_en=f"root element is not a {name}: {root.tag}",
            where="/",
        )


def _notes(node: _E) -> list[str]:
    return [n.text.strip() for n in node.iterfind(CBC + "Note") if n.text and n.text.strip()]


def _header(root: _E) -> dict[str, Any]:
    return {
        "profile": _text(root, CBC + "ProfileID"),
        "number": _text(root, CBC + "ID"),
        "ettn": _text(root, CBC + "UUID"),
        "customization_id": _text(root, CBC + "CustomizationID"),
        "issue_date": _text(root, CBC + "IssueDate"),
        "issue_time": _text(root, CBC + "IssueTime"),
        "notes": _notes(root),
    }


def _quantity(node: _E, tag: str) -> tuple[str | None, str | None]:
    found = node.find(CBC + tag)
    if found is None:
        return None, None
    return (found.text or "").strip() or None, found.get("unitCode")


def _shipment(node: _E | None) -> dict[str, Any] | None:
    if node is None:
        return None
    stage = node.find(CAC + "ShipmentStage")
    delivery = node.find(CAC + "Delivery")
    value = node.find(CAC + "GoodsItem/" + CBC + "ValueAmount")
    drivers = []
    plate = None
    if stage is not None:
        plate = _text(
            stage, CAC + "TransportMeans/" + CAC + "RoadTransport/" + CBC + "LicensePlateID"
        )
        for person in stage.iterfind(CAC + "DriverPerson"):
            drivers.append(
                _clean(
                    {
                        "first_name": _text(person, CBC + "FirstName"),
                        "family_name": _text(person, CBC + "FamilyName"),
                        "title": _text(person, CBC + "Title"),
                        "tckn": _text(person, CBC + "NationalityID"),
                    }
                )
            )
    trailers = [
        (e.text or "").strip()
        for e in node.iterfind(
            CAC + "TransportHandlingUnit/" + CAC + "TransportEquipment/" + CBC + "ID"
        )
        if (e.text or "").strip()
    ]
    return _clean(
        {
            "id": _text(node, CBC + "ID"),
            "goods_value": None if value is None else (value.text or "").strip() or None,
            "currency": None if value is None else value.get("currencyID"),
            "drivers": drivers,
            "plate": plate,
            "trailer_plates": trailers,
            "carrier": _party(delivery.find(CAC + "CarrierParty"))
            if delivery is not None
            else None,
            "delivery_address": _address(delivery.find(CAC + "DeliveryAddress"))
            if delivery is not None
            else None,
            "actual_despatch_date": _text(delivery, CAC + "Despatch/" + CBC + "ActualDespatchDate"),
            "actual_despatch_time": _text(delivery, CAC + "Despatch/" + CBC + "ActualDespatchTime"),
        }
    )


def _despatch_line(n: int, node: _E) -> dict[str, Any]:
    item = node.find(CAC + "Item")
    quantity, unit = _quantity(node, "DeliveredQuantity")
    outstanding, _ = _quantity(node, "OutstandingQuantity")
    order_line = _text(node, CAC + "OrderLineReference/" + CBC + "LineID")
    out: dict[str, Any] = {
        "name": _text(item, CBC + "Name"),
        "description": _text(item, CBC + "Description"),
        "notes": _notes(node),
        "quantity": quantity,
        "unit_code": unit,
        "outstanding_quantity": outstanding,
        "outstanding_reason": _text(node, CBC + "OutstandingReason"),
        "order_line_id": None if order_line == str(n) else order_line,
        "brand_name": _text(item, CBC + "BrandName"),
        "model_name": _text(item, CBC + "ModelName"),
        "buyer_item_id": _text(item, CAC + "BuyersItemIdentification/" + CBC + "ID"),
        "seller_item_id": _text(item, CAC + "SellersItemIdentification/" + CBC + "ID"),
        "manufacturer_item_id": _text(item, CAC + "ManufacturersItemIdentification/" + CBC + "ID"),
    }
    if item is not None:
        out["additional_item_ids"] = [
            {"scheme_id": i.get("schemeID"), "value": (i.text or "").strip()}
            for i in item.iterfind(CAC + "AdditionalItemIdentification/" + CBC + "ID")
        ]
    return _clean(out)


def _validated(model: type[_M], data: dict[str, Any]) -> _M:
    try:
        return model.model_validate(_clean(data))
    except ValidationError as exc:
        problems = problems_from_validation(exc)
        first = problems[0]
        raise ParseError(
            detail_tr=f"{first.where}: {first.message_tr} ({len(problems)} sorun)",
            detail_en=f"{first.where}: {first.message_en} ({len(problems)} problems)",
            where=first.where,
        ) from None


def parse_despatch_tree(root: _E) -> DespatchDraft:
    """Read a parsed ``DespatchAdvice`` element into a draft; raise :class:`ParseError`."""
    _root_is(root, DESPATCH, "DespatchAdvice")
    paper = None
    for ref in root.iterfind(CAC + "AdditionalDocumentReference"):
        if _text(ref, CBC + "DocumentType") == MATBU:
            paper = _reference(ref)
    order = root.find(CAC + "OrderReference")
    data = _header(root) | {
        "kind": "despatch",
        "type": _text(root, CBC + "DespatchAdviceTypeCode"),
        "order_reference": None if order is None else _reference(order),
        "paper_document": paper,
        "supplier": _party(root.find(CAC + "DespatchSupplierParty/" + CAC + "Party")),
        "supplier_contact": _text(
            root, CAC + "DespatchSupplierParty/" + CAC + "DespatchContact/" + CBC + "Name"
        ),
        "customer": _party(root.find(CAC + "DeliveryCustomerParty/" + CAC + "Party")),
        "buyer_customer": _party(root.find(CAC + "BuyerCustomerParty/" + CAC + "Party")),
        "seller_supplier": _party(root.find(CAC + "SellerSupplierParty/" + CAC + "Party")),
        "originator_customer": _party(root.find(CAC + "OriginatorCustomerParty/" + CAC + "Party")),
        "shipment": _shipment(root.find(CAC + "Shipment")),
        "lines": [
            _despatch_line(n, node)
            for n, node in enumerate(root.iterfind(CAC + "DespatchLine"), start=1)
        ],
    }
    return _validated(DespatchDraft, data)


def _receipt_line(node: _E) -> dict[str, Any]:
    received, unit = _quantity(node, "ReceivedQuantity")
    return _clean(
        {
            "despatch_line_id": _text(node, CAC + "DespatchLineReference/" + CBC + "LineID"),
            "name": _text(node, CAC + "Item/" + CBC + "Name"),
            "unit_code": unit,
            "received": received,
            "rejected": _quantity(node, "RejectedQuantity")[0],
            "reject_reason": _text(node, CBC + "RejectReason"),
            "short": _quantity(node, "ShortQuantity")[0],
            "oversupply": _quantity(node, "OversupplyQuantity")[0],
            "timing_complaint": _text(node, CBC + "TimingComplaint"),
            "seller_item_id": _text(
                node, CAC + "Item/" + CAC + "SellersItemIdentification/" + CBC + "ID"
            ),
        }
    )


_NUMBER = re.compile(r"^[A-Z0-9]{3}20[0-9]{2}[0-9]{9}$")


def parse_receipt_tree(root: _E) -> ReceiptDraft:
    """Read a parsed ``ReceiptAdvice`` element into a draft; raise :class:`ParseError`."""
    _root_is(root, RECEIPT, "ReceiptAdvice")
    ref = root.find(CAC + "DespatchDocumentReference")
    delivery = root.find(CAC + "Shipment/" + CAC + "Delivery")
    number = None
    for extra in root.iterfind(CAC + "AdditionalDocumentReference"):
        found = _text(extra, CBC + "DocumentTypeCode") == DESPATCH_NUMBER
        if found and _NUMBER.match(_text(extra, CBC + "ID") or ""):
            # an optional hint beside the ETTN: one not in GİB's number form is left out
            number = _text(extra, CBC + "ID")
    data = _header(root) | {
        "kind": "receipt",
        "despatch_ettn": _text(ref, CBC + "ID"),
        "despatch_date": _text(ref, CBC + "IssueDate"),
        "despatch_number": number,
        "customer": _party(root.find(CAC + "DeliveryCustomerParty/" + CAC + "Party")),
        "supplier": _party(root.find(CAC + "DespatchSupplierParty/" + CAC + "Party")),
        "buyer_customer": _party(root.find(CAC + "BuyerCustomerParty/" + CAC + "Party")),
        "seller_supplier": _party(root.find(CAC + "SellerSupplierParty/" + CAC + "Party")),
        "actual_delivery_date": _text(delivery, CBC + "ActualDeliveryDate"),
        "actual_delivery_time": _text(delivery, CBC + "ActualDeliveryTime"),
        "lines": [_receipt_line(node) for node in root.iterfind(CAC + "ReceiptLine")],
    }
    return _validated(ReceiptDraft, data)


def parse_despatch(data: bytes) -> DespatchDraft:
    """Parse untrusted despatch advice XML bytes (through :mod:`safe_xml`) into a draft."""
    return parse_despatch_tree(safe_parse(data))


def parse_receipt(data: bytes) -> ReceiptDraft:
    """Parse untrusted receipt advice XML bytes (through :mod:`safe_xml`) into a draft."""
    return parse_receipt_tree(safe_parse(data))
