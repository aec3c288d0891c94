"""İrsaliye and irsaliye yanıtı XML: despatch and receipt drafts → UBL-TR XML bytes.

The element order follows the XSD sequences of ``UBL-DespatchAdvice-2.1.xsd`` and
``UBL-ReceiptAdvice-2.1.xsd`` (``ubl-tr.md`` §11–12). Parties, addresses and references are
written as on invoices.
"""

from __future__ import annotations

from lxml import etree

from entegrator.documents.build.invoice import _Writer, fmt_decimal, signature_uri
from entegrator.documents.despatch_checks import (
    ensure_despatch_buildable,
    ensure_receipt_buildable,
)
from entegrator.documents.model import (
    DespatchDraft,
    DespatchLine,
    DespatchShipment,
    Party,
    ReceiptDraft,
    ReceiptLine,
)
from entegrator.documents.ns import CAC, CBC, DESPATCH, EXT, RECEIPT, UNSIGNED, nsmap_for

__all__ = ["DESPATCH_NUMBER", "MATBU", "build_despatch", "build_receipt"]

_E = etree._Element
MATBU = "MATBU"  # DocumentType of the paper note a MATBUDAN despatch copies
# The answer's reference to the despatch's number, besides its ETTN (GİB's irsaliye yanıtı
# guide §2.3.15 and sample answers): AdditionalDocumentReference with this DocumentTypeCode.
DESPATCH_NUMBER = "DespatchAdviceID"


def _header(w: _Writer, root: _E, d: DespatchDraft | ReceiptDraft) -> tuple[str, str]:
    if d.number is None or d.ettn is None:
        raise ValueError("the draft has no number or ETTN (the ensure_* checks refuse it)")
    ext = w.el(
        w.el(w.el(root, EXT + "UBLExtensions"), EXT + "UBLExtension"), EXT + "ExtensionContent"
    )
    etree.SubElement(ext, UNSIGNED, nsmap={"entegrator": "urn:entegrator:unsigned"})
    w.el(root, CBC + "UBLVersionID", "2.1")
    w.el(root, CBC + "CustomizationID", d.customization_id)
    w.el(root, CBC + "ProfileID", d.profile)
    w.el(root, CBC + "ID", d.number)
    w.el(root, CBC + "CopyIndicator", "false")
    w.el(root, CBC + "UUID", d.ettn.upper())
    w.date(root, CBC + "IssueDate", d.issue_date)
    w.time(root, CBC + "IssueTime", d.issue_time)
    return d.number, d.ettn


def _signature(w: _Writer, root: _E, signer: Party, number: str) -> None:
    sig = w.el(root, CAC + "Signature")
    w.el(sig, CBC + "ID", signer.identifier or "", schemeID="VKN_TCKN")
    signatory = w.el(sig, CAC + "SignatoryParty")
    w.el(
        w.el(signatory, CAC + "PartyIdentification"),
        CBC + "ID",
        signer.identifier or "",
        schemeID="VKN" if signer.vkn else "TCKN",
    )
    w.address(signatory, CAC + "PostalAddress", signer.address)
    ext = w.el(w.el(sig, CAC + "DigitalSignatureAttachment"), CAC + "ExternalReference")
    w.el(ext, CBC + "URI", signature_uri(number))


def _shipment(w: _Writer, root: _E, s: DespatchShipment) -> None:
    node = w.el(root, CAC + "Shipment")
    w.el(node, CBC + "ID", s.id)
    if s.goods_value is not None:
        w.el(
            w.el(node, CAC + "GoodsItem"),
            CBC + "ValueAmount",
            format(s.goods_value, ".2f"),
            currencyID=s.currency,
        )
    if s.drivers or s.plate:
        stage = w.el(node, CAC + "ShipmentStage")
        if s.plate:
            road = w.el(w.el(stage, CAC + "TransportMeans"), CAC + "RoadTransport")
            w.el(road, CBC + "LicensePlateID", s.plate, schemeID="PLAKA")
        for driver in s.drivers:
            person = w.el(stage, CAC + "DriverPerson")
            w.el(person, CBC + "FirstName", driver.first_name)
            w.el(person, CBC + "FamilyName", driver.family_name)
            w.opt(person, CBC + "Title", driver.title)
            w.el(person, CBC + "NationalityID", driver.tckn)
    delivery = w.el(node, CAC + "Delivery")
    w.address(delivery, CAC + "DeliveryAddress", s.delivery_address)
    if s.carrier:
        w.party(delivery, s.carrier, CAC + "CarrierParty")
    despatch = w.el(delivery, CAC + "Despatch")
    w.date(despatch, CBC + "ActualDespatchDate", s.actual_despatch_date)
    w.time(despatch, CBC + "ActualDespatchTime", s.actual_despatch_time)
    if s.trailer_plates:
        unit = w.el(node, CAC + "TransportHandlingUnit")
        for plate in s.trailer_plates:
            w.el(w.el(unit, CAC + "TransportEquipment"), CBC + "ID", plate, schemeID="DORSEPLAKA")


def _despatch_line(w: _Writer, root: _E, n: int, line: DespatchLine) -> None:
    node = w.el(root, CAC + "DespatchLine")
    w.el(node, CBC + "ID", str(n))
    for note in line.notes:
        w.el(node, CBC + "Note", note)
    w.el(node, CBC + "DeliveredQuantity", fmt_decimal(line.quantity), unitCode=line.unit_code)
    if line.outstanding_quantity is not None:
        w.el(
            node,
            CBC + "OutstandingQuantity",
            fmt_decimal(line.outstanding_quantity),
            unitCode=line.unit_code,
        )
    w.opt(node, CBC + "OutstandingReason", line.outstanding_reason)
    w.el(w.el(node, CAC + "OrderLineReference"), CBC + "LineID", line.order_line_id or str(n))
    item = w.el(node, CAC + "Item")
    w.opt(item, CBC + "Description", line.description)
    w.el(item, CBC + "Name", line.name)
    w.opt(item, CBC + "BrandName", line.brand_name)
    w.opt(item, CBC + "ModelName", line.model_name)
    for tag, value in (
        ("BuyersItemIdentification", line.buyer_item_id),
        ("SellersItemIdentification", line.seller_item_id),
        ("ManufacturersItemIdentification", line.manufacturer_item_id),
    ):
        if value:
            w.el(w.el(item, CAC + tag), CBC + "ID", value)
    for ident in line.additional_item_ids:
        w.el(
            w.el(item, CAC + "AdditionalItemIdentification"),
            CBC + "ID",
            ident.value,
            schemeID=ident.scheme_id,
        )


def build_despatch(draft: DespatchDraft) -> bytes:
    """The UBL-TR XML of a despatch draft (unsigned), UTF-8 with declaration.

    Raises :class:`~entegrator.documents.errors.DraftError` when the draft cannot be built.
    """
    d = ensure_despatch_buildable(draft)
    w = _Writer(d.shipment.currency)
    root = etree.Element("{" + DESPATCH + "}DespatchAdvice", nsmap=nsmap_for(DESPATCH))  # type: ignore[arg-type]
    number, _ = _header(w, root, d)
    w.el(root, CBC + "DespatchAdviceTypeCode", d.type)
    for note in d.notes:
        w.el(root, CBC + "Note", note)
    w.el(root, CBC + "LineCountNumeric", str(len(d.lines)))
    if d.order_reference:
        w.reference(root, CAC + "OrderReference", d.order_reference)
    if d.paper_document:
        node = w.el(root, CAC + "AdditionalDocumentReference")
        w.el(node, CBC + "ID", d.paper_document.id)
        w.date(node, CBC + "IssueDate", d.paper_document.issue_date)
        w.el(node, CBC + "DocumentType", MATBU)
    _signature(w, root, d.supplier, number)
    supplier = w.el(root, CAC + "DespatchSupplierParty")
    w.party(supplier, d.supplier)
    if d.supplier_contact:
        w.el(w.el(supplier, CAC + "DespatchContact"), CBC + "Name", d.supplier_contact)
    w.party(w.el(root, CAC + "DeliveryCustomerParty"), d.customer)
    for tag, party in (
        ("BuyerCustomerParty", d.buyer_customer),
        ("SellerSupplierParty", d.seller_supplier),
        ("OriginatorCustomerParty", d.originator_customer),
    ):
        if party is not None:
            w.party(w.el(root, CAC + tag), party)
    _shipment(w, root, d.shipment)
    for n, line in enumerate(d.lines, start=1):
        _despatch_line(w, root, n, line)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _receipt_line(w: _Writer, root: _E, n: int, line: ReceiptLine) -> None:
    node = w.el(root, CAC + "ReceiptLine")
    w.el(node, CBC + "ID", str(n))
    w.el(node, CBC + "ReceivedQuantity", fmt_decimal(line.received), unitCode=line.unit_code)
    if line.short is not None:
        w.el(node, CBC + "ShortQuantity", fmt_decimal(line.short), unitCode=line.unit_code)
    if line.rejected is not None:
        w.el(node, CBC + "RejectedQuantity", fmt_decimal(line.rejected), unitCode=line.unit_code)
    w.opt(node, CBC + "RejectReason", line.reject_reason)
    if line.oversupply is not None:
        w.el(
            node, CBC + "OversupplyQuantity", fmt_decimal(line.oversupply), unitCode=line.unit_code
        )
    w.opt(node, CBC + "TimingComplaint", line.timing_complaint)
    w.el(w.el(node, CAC + "DespatchLineReference"), CBC + "LineID", line.despatch_line_id)
    item = w.el(node, CAC + "Item")
    w.el(item, CBC + "Name", line.name)
    if line.seller_item_id:
        w.el(w.el(item, CAC + "SellersItemIdentification"), CBC + "ID", line.seller_item_id)


def build_receipt(draft: ReceiptDraft, despatch: DespatchDraft | None = None) -> bytes:
    """The UBL-TR XML of an irsaliye yanıtı (unsigned), UTF-8 with declaration.

    With the answered ``despatch``, its lines are checked against the answer's quantities.
    Raises :class:`~entegrator.documents.errors.DraftError` when the draft cannot be built.
    """
    d = ensure_receipt_buildable(draft, despatch)
    w = _Writer("TRY")
    root = etree.Element("{" + RECEIPT + "}ReceiptAdvice", nsmap=nsmap_for(RECEIPT))  # type: ignore[arg-type]
    number, _ = _header(w, root, d)
    w.el(root, CBC + "ReceiptAdviceTypeCode", "SEVK")
    for note in d.notes:
        w.el(root, CBC + "Note", note)
    w.el(root, CBC + "LineCountNumeric", str(len(d.lines)))
    ref = w.el(root, CAC + "DespatchDocumentReference")
    w.el(ref, CBC + "ID", d.despatch_ettn.upper())
    w.date(ref, CBC + "IssueDate", d.despatch_date)
    if d.despatch_number is not None:
        extra = w.el(root, CAC + "AdditionalDocumentReference")
        w.el(extra, CBC + "ID", d.despatch_number)
        w.date(extra, CBC + "IssueDate", d.despatch_date)
        w.el(extra, CBC + "DocumentTypeCode", DESPATCH_NUMBER)
        w.el(extra, CBC + "DocumentType", "DespatchAdvice ID")
    _signature(w, root, d.customer, number)
    w.party(w.el(root, CAC + "DeliveryCustomerParty"), d.customer)
    w.party(w.el(root, CAC + "DespatchSupplierParty"), d.supplier)
    for tag, party in (
        ("BuyerCustomerParty", d.buyer_customer),
        ("SellerSupplierParty", d.seller_supplier),
    ):
        if party is not None:
            w.party(w.el(root, CAC + tag), party)
    shipment = w.el(root, CAC + "Shipment")
    w.el(shipment, CBC + "ID", "1")
    delivery = w.el(shipment, CAC + "Delivery")
    w.date(delivery, CBC + "ActualDeliveryDate", d.actual_delivery_date)
    w.time(delivery, CBC + "ActualDeliveryTime", d.actual_delivery_time)
    for n, line in enumerate(d.lines, start=1):
        _receipt_line(w, root, n, line)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
