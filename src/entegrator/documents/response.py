"""ApplicationResponse documents: system responses (S_APR) and business answers (KABUL/RED).

Two kinds share the root ``ApplicationResponse`` (``ubl-tr.md`` §13, ``envelope-and-transport.md``
§7):

* a **system response** acknowledges an *envelope*: ProfileID ``UBL-TR-PROFILE-1``, response
  code ``S_APR``, and one line with the four-digit status (``1200`` processed, ``11xx``
  refused); it travels in a SYSTEMENVELOPE and need not be signed;
* an **application response** is the buyer's KABUL or RED (or IADE) of a TICARIFATURA invoice:
  ProfileID ``TICARIFATURA``, the invoice's ETTN as the reference [practice], the reason in the
  description; it travels in a POSTBOXENVELOPE and must be signed.

Both are built with the signature slot the signing module fills. Pure: no I/O, no clock: the
caller passes the moment of issue (``issued``, aware; written as Turkish date and time).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.errors import ParseError
from entegrator.documents.ns import CAC, CBC, EXT_NS

__all__ = [
    "ResponseFacts",
    "ResponseParty",
    "build_application_response",
    "build_system_response",
    "read_response",
]

AR_NS = "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
EXT = "{" + EXT_NS + "}"
ISTANBUL = ZoneInfo("Europe/Istanbul")
SYSTEM_PROFILE = "UBL-TR-PROFILE-1"
Answer = Literal["KABUL", "RED", "IADE"]
_NSMAP = {
    None: AR_NS,
    "cac": CAC[1:-1],
    "cbc": CBC[1:-1],
    "ext": EXT_NS,
}


@dataclass(frozen=True)
class ResponseParty:
    """A party of a response: VKN (10 digits, with a title) or TCKN (11, with a name)."""

    identifier: str
    name: str
    city: str = "Ankara"
    district: str = "Çankaya"
    tax_office: str | None = None


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, tag, attrib=attrs)
    if text is not None:
        node.text = text
    return node


def _party(root: etree._Element, tag: str, party: ResponseParty) -> None:
    node = _el(root, CAC + tag)
    scheme = "VKN" if len(party.identifier) == 10 else "TCKN"
    _el(_el(node, CAC + "PartyIdentification"), CBC + "ID", party.identifier, schemeID=scheme)
    if scheme == "VKN":
        _el(_el(node, CAC + "PartyName"), CBC + "Name", party.name)
    address = _el(node, CAC + "PostalAddress")
    _el(address, CBC + "CitySubdivisionName", party.district)
    _el(address, CBC + "CityName", party.city)
    _el(_el(address, CAC + "Country"), CBC + "Name", "Türkiye")
    if party.tax_office:
        _el(
            _el(_el(node, CAC + "PartyTaxScheme"), CAC + "TaxScheme"),
            CBC + "Name",
            party.tax_office,
        )
    if scheme == "TCKN":
        first, _, family = party.name.rpartition(" ")
        person = _el(node, CAC + "Person")
        _el(person, CBC + "FirstName", first or party.name)
        _el(person, CBC + "FamilyName", family or party.name)


def _signature(root: etree._Element, signer: ResponseParty, ident: str) -> None:
    sig = _el(root, CAC + "Signature")
    _el(sig, CBC + "ID", signer.identifier, schemeID="VKN_TCKN")
    signatory = _el(sig, CAC + "SignatoryParty")
    scheme = "VKN" if len(signer.identifier) == 10 else "TCKN"
    _el(_el(signatory, CAC + "PartyIdentification"), CBC + "ID", signer.identifier, schemeID=scheme)
    address = _el(signatory, CAC + "PostalAddress")
    _el(address, CBC + "CitySubdivisionName", signer.district)
    _el(address, CBC + "CityName", signer.city)
    _el(_el(address, CAC + "Country"), CBC + "Name", "Türkiye")
    ref = _el(_el(sig, CAC + "DigitalSignatureAttachment"), CAC + "ExternalReference")
    _el(ref, CBC + "URI", f"#Signature_{ident}")


def _header(root: etree._Element, profile: str, ident: str, when: dt.datetime) -> None:
    ext = _el(_el(_el(root, EXT + "UBLExtensions"), EXT + "UBLExtension"), EXT + "ExtensionContent")
    etree.SubElement(
        ext, "{urn:entegrator:unsigned}Placeholder", nsmap={"entegrator": "urn:entegrator:unsigned"}
    )
    _el(root, CBC + "UBLVersionID", "2.1")
    _el(root, CBC + "CustomizationID", "TR1.2")
    _el(root, CBC + "ProfileID", profile)
    _el(root, CBC + "ID", ident)
    _el(root, CBC + "UUID", ident)
    local = when.astimezone(ISTANBUL)
    _el(root, CBC + "IssueDate", local.date().isoformat())
    _el(root, CBC + "IssueTime", local.time().replace(microsecond=0).isoformat())


def _start(
    profile: str,
    ident: str | None,
    issued: dt.datetime,
    sender: ResponseParty,
    receiver: ResponseParty,
    *,
    note: str | None,
) -> etree._Element:
    """Header, note, signature block and the two parties, in the XSD's order."""
    ident = ident or str(uuid.uuid4()).upper()
    root = etree.Element(f"{{{AR_NS}}}ApplicationResponse", nsmap=_NSMAP)  # type: ignore[arg-type]
    _header(root, profile, ident, issued)
    if note:
        _el(root, CBC + "Note", note)
    _signature(root, sender, ident)
    _party(root, "SenderParty", sender)
    _party(root, "ReceiverParty", receiver)
    return root


def build_system_response(
    *,
    envelope_id: str,
    envelope_type: str,
    code: int,
    description: str,
    sender: ResponseParty,
    receiver: ResponseParty,
    envelope_date: dt.date,
    issued: dt.datetime,
    ident: str | None = None,
) -> bytes:
    """An S_APR for the envelope ``envelope_id``: ``sender`` received it from ``receiver``."""
    root = _start(SYSTEM_PROFILE, ident, issued, sender, receiver, note=None)
    response = _el(root, CAC + "DocumentResponse")
    head = _el(response, CAC + "Response")
    _el(head, CBC + "ReferenceID", str(uuid.uuid4()).upper())
    _el(head, CBC + "ResponseCode", "S_APR")
    _el(head, CBC + "Description", description)
    ref = _el(response, CAC + "DocumentReference")
    _el(ref, CBC + "ID", envelope_id)
    _el(ref, CBC + "IssueDate", envelope_date.isoformat())
    _el(ref, CBC + "DocumentTypeCode", envelope_type)
    _el(ref, CBC + "DocumentType", envelope_type)
    line = _el(response, CAC + "LineResponse")
    line_ref = _el(line, CAC + "LineReference")
    _el(line_ref, CBC + "LineID", "0")
    line_doc = _el(line_ref, CAC + "DocumentReference")
    _el(line_doc, CBC + "ID", envelope_id)
    _el(line_doc, CBC + "IssueDate", envelope_date.isoformat())
    line_response = _el(line, CAC + "Response")
    _el(line_response, CBC + "ReferenceID", str(uuid.uuid4()).upper())
    _el(line_response, CBC + "ResponseCode", f"{code:04d}")
    _el(line_response, CBC + "Description", description)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_application_response(
    *,
    answer: Answer,
    invoice_ettn: str,
    invoice_date: dt.date,
    sender: ResponseParty,
    receiver: ResponseParty,
    reason: str | None = None,
    profile: str = "TICARIFATURA",
    issued: dt.datetime,
    ident: str | None = None,
) -> bytes:
    """The buyer's (``sender``) KABUL/RED/IADE of the supplier's (``receiver``) invoice."""
    root = _start(profile, ident, issued, sender, receiver, note=reason)
    response = _el(root, CAC + "DocumentResponse")
    head = _el(response, CAC + "Response")
    _el(head, CBC + "ReferenceID", str(uuid.uuid4()).upper())
    _el(head, CBC + "ResponseCode", answer)
    _el(
        head,
        CBC + "Description",
        reason or {"KABUL": "Kabul edildi", "RED": "Reddedildi", "IADE": "İade edildi"}[answer],
    )
    ref = _el(response, CAC + "DocumentReference")
    _el(ref, CBC + "ID", invoice_ettn)
    _el(ref, CBC + "IssueDate", invoice_date.isoformat())
    _el(ref, CBC + "DocumentTypeCode", "FATURA")
    _el(ref, CBC + "DocumentType", "FATURA")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class ResponseFacts:
    """What a reader needs from an ApplicationResponse."""

    profile: str
    ident: str
    response_code: str  # S_APR, KABUL, RED, IADE
    description: str
    reference: str  # the envelope id (S_APR) or the invoice ETTN (KABUL/RED)
    status_code: int | None  # the four-digit status of an S_APR
    sender: str
    receiver: str

    @property
    def system(self) -> bool:
        return self.response_code == "S_APR"


def read_response(xml: bytes) -> ResponseFacts:
    """Read an ApplicationResponse (hostile XML refused); :class:`ParseError` if it is none."""
    root = safe_xml.parse(xml)
    if root.tag != f"{{{AR_NS}}}ApplicationResponse":
        raise ParseError(
            detail_tr="ApplicationResponse değil", detail_en="not an ApplicationResponse"
        )

    def text(path: str) -> str:
        return (root.findtext(path) or "").strip()

    status_text = text(f"{CAC}DocumentResponse/{CAC}LineResponse/{CAC}Response/{CBC}ResponseCode")
    return ResponseFacts(
        profile=text(f"{CBC}ProfileID"),
        ident=text(f"{CBC}ID"),
        response_code=text(f"{CAC}DocumentResponse/{CAC}Response/{CBC}ResponseCode"),
        description=text(f"{CAC}DocumentResponse/{CAC}Response/{CBC}Description"),
        reference=text(f"{CAC}DocumentResponse/{CAC}DocumentReference/{CBC}ID"),
        status_code=int(status_text) if status_text.isdigit() else None,
        sender=text(f"{CAC}SenderParty/{CAC}PartyIdentification/{CBC}ID"),
        receiver=text(f"{CAC}ReceiverParty/{CAC}PartyIdentification/{CBC}ID"),
    )
