"""Minimal UBL-TR ApplicationResponse (KABUL) and ReceiptAdvice documents, unsigned, for tests."""

from __future__ import annotations

NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" '
    'xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"'
)
SLOT = (
    "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent>"
    '<p:Placeholder xmlns:p="urn:entegrator:unsigned"/>'
    "</ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>"
)


def _party(tag: str, vkn: str, name: str, *, wrapped: bool = False) -> str:
    """``cac:<tag>`` with the party's content, inside ``cac:Party`` when ``wrapped``."""
    open_, close = ("<cac:Party>", "</cac:Party>") if wrapped else ("", "")
    return (
        f'<cac:{tag}>{open_}<cac:PartyIdentification><cbc:ID schemeID="VKN">{vkn}</cbc:ID>'
        f"</cac:PartyIdentification><cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>"
        "<cac:PostalAddress><cbc:CitySubdivisionName>Çankaya</cbc:CitySubdivisionName>"
        "<cbc:CityName>Ankara</cbc:CityName><cac:Country><cbc:IdentificationCode>TR"
        "</cbc:IdentificationCode><cbc:Name>Türkiye</cbc:Name></cac:Country></cac:PostalAddress>"
        "<cac:PartyTaxScheme><cac:TaxScheme><cbc:Name>Çankaya</cbc:Name></cac:TaxScheme>"
        f"</cac:PartyTaxScheme>{close}</cac:{tag}>"
    )


def _signature_block(vkn: str, number: str) -> str:
    return (
        f'<cac:Signature><cbc:ID schemeID="VKN_TCKN">{vkn}</cbc:ID><cac:SignatoryParty>'
        f'<cac:PartyIdentification><cbc:ID schemeID="VKN">{vkn}</cbc:ID></cac:PartyIdentification>'
        "<cac:PostalAddress><cbc:CitySubdivisionName>Çankaya</cbc:CitySubdivisionName>"
        "<cbc:CityName>Ankara</cbc:CityName><cac:Country><cbc:Name>Türkiye</cbc:Name></cac:Country>"
        "</cac:PostalAddress></cac:SignatoryParty><cac:DigitalSignatureAttachment>"
        f"<cac:ExternalReference><cbc:URI>#Signature_{number}</cbc:URI></cac:ExternalReference>"
        "</cac:DigitalSignatureAttachment></cac:Signature>"
    )


def application_response(sender: str, receiver: str, invoice_ettn: str) -> bytes:
    """A KABUL of a TICARIFATURA by its buyer (``sender``) to the supplier (``receiver``)."""
    ident = "5f0c2b9e-3d4a-4e8b-9c71-2a6d8f0e1b34"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<ApplicationResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:'
        f'ApplicationResponse-2" {NS}>{SLOT}'
        "<cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:CustomizationID>TR1.2</cbc:CustomizationID>"
        f"<cbc:ProfileID>TICARIFATURA</cbc:ProfileID><cbc:ID>{ident}</cbc:ID>"
        f"<cbc:UUID>{ident}</cbc:UUID><cbc:IssueDate>2026-11-20</cbc:IssueDate>"
        f"{_signature_block(sender, 'AR1')}"
        + _party("SenderParty", sender, "Alıcı A.Ş.")
        + _party("ReceiverParty", receiver, "Satıcı A.Ş.")
        + ""
        "<cac:DocumentResponse><cac:Response><cbc:ReferenceID>"
        "8a2f6d1c-4b3e-4f9a-b7c5-0d1e2f3a4b5c</cbc:ReferenceID>"
        "<cbc:ResponseCode>KABUL</cbc:ResponseCode><cbc:Description>Kabul edildi</cbc:Description>"
        f"</cac:Response><cac:DocumentReference><cbc:ID>{invoice_ettn}</cbc:ID>"
        "<cbc:IssueDate>2026-11-19</cbc:IssueDate><cbc:DocumentTypeCode>FATURA</cbc:DocumentTypeCode>"
        "<cbc:DocumentType>FATURA</cbc:DocumentType></cac:DocumentReference>"
        "</cac:DocumentResponse></ApplicationResponse>"
    ).encode()


def receipt_advice(receiver: str, supplier: str) -> bytes:
    """An irsaliye yanıtı (ReceiptAdvice, SEVK) by the receiving party."""
    ident = "2b9d4e6f-1a3c-4d5e-8f70-9a1b2c3d4e5f"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<ReceiptAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:ReceiptAdvice-2" '
        f"{NS}>{SLOT}"
        "<cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:CustomizationID>TR1.2</cbc:CustomizationID>"
        "<cbc:ProfileID>TEMELIRSALIYE</cbc:ProfileID><cbc:ID>IRY2026000000001</cbc:ID>"
        "<cbc:CopyIndicator>false</cbc:CopyIndicator>"
        f"<cbc:UUID>{ident}</cbc:UUID><cbc:IssueDate>2026-11-20</cbc:IssueDate>"
        "<cbc:IssueTime>10:00:00</cbc:IssueTime>"
        "<cbc:ReceiptAdviceTypeCode>SEVK</cbc:ReceiptAdviceTypeCode><cbc:LineCountNumeric>1"
        "</cbc:LineCountNumeric><cac:DespatchDocumentReference><cbc:ID>IRS2026000000001</cbc:ID>"
        "<cbc:IssueDate>2026-11-19</cbc:IssueDate></cac:DespatchDocumentReference>"
        f"{_signature_block(receiver, 'IRY2026000000001')}"
        + _party("DeliveryCustomerParty", receiver, "Alıcı A.Ş.", wrapped=True)
        + _party("DespatchSupplierParty", supplier, "Satıcı A.Ş.", wrapped=True)
        + ""
        "<cac:Shipment><cbc:ID>1</cbc:ID><cac:Delivery><cac:Despatch><cbc:ActualDespatchDate>"
        "2026-11-19</cbc:ActualDespatchDate><cbc:ActualDespatchTime>09:00:00</cbc:ActualDespatchTime>"
        "</cac:Despatch></cac:Delivery></cac:Shipment>"
        '<cac:ReceiptLine><cbc:ID>1</cbc:ID><cbc:ReceivedQuantity unitCode="C62">5'
        "</cbc:ReceivedQuantity><cac:Item><cbc:Name>Kumaş</cbc:Name></cac:Item></cac:ReceiptLine>"
        "</ReceiptAdvice>"
    ).encode()


def earsiv_report(preparer: str, taxpayer: str) -> bytes:
    """A one-invoice e-Arşiv report (eArsivRaporu), shaped as ``earsiv-and-others.md`` §2.2."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<eArsivRaporu xmlns="http://earsiv.efatura.gov.tr">'
        "<baslik><versiyon>1.0</versiyon>"
        f"<mukellef><vkn>{taxpayer}</vkn></mukellef><hazirlayan><vkn>{preparer}</vkn></hazirlayan>"
        "<raporNo>0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f</raporNo>"
        "<donemBaslangicTarihi>2026-11-01</donemBaslangicTarihi>"
        "<donemBitisTarihi>2026-11-30</donemBitisTarihi>"
        "<bolumBaslangicTarihi>2026-11-20</bolumBaslangicTarihi>"
        "<bolumBitisTarihi>2026-11-20</bolumBitisTarihi><bolumNo>20</bolumNo></baslik>"
        "<fatura><faturaNo>EAR2026000000001</faturaNo>"
        "<faturaUUID>7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a</faturaUUID><faturaTip>SATIS</faturaTip>"
        "<gonderimSekli>ELEKTRONIK</gonderimSekli><toplamTutar>100.00</toplamTutar>"
        "<odenecekTutar>120.00</odenecekTutar><paraBirimi>TRY</paraBirimi></fatura>"
        "</eArsivRaporu>"
    ).encode()


def process_user_account(integrator: str, user_vkn: str) -> bytes:
    """A GİB user-account message enrolling one tax payer's aliases (HR-XML ProcessUserAccount)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<hr:ProcessUserAccount xmlns:hr="http://www.hr-xml.org/3" '
        'xmlns:oa="http://www.openapplications.org/oagis/9" releaseID="3.0">'
        "<oa:ApplicationArea><oa:Sender><oa:LogicalID>"
        f"{integrator}</oa:LogicalID><oa:ComponentID>entegrator</oa:ComponentID></oa:Sender>"
        "<oa:CreationDateTime>2026-11-20T10:00:00</oa:CreationDateTime>"
        "<oa:Signature/><oa:BODID>4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8</oa:BODID>"
        "</oa:ApplicationArea><hr:DataArea><oa:Process/><hr:UserAccount>"
        f"<hr:UserID>{user_vkn}</hr:UserID><hr:PersonName><hr:FormattedName>Yeni Mükellef A.Ş."
        "</hr:FormattedName></hr:PersonName></hr:UserAccount></hr:DataArea>"
        "</hr:ProcessUserAccount>"
    ).encode()
