"""The SBDH envelope: one sender, one receiver, groups of signed documents.

``build`` derives the parties' VKN/TCKN from the documents (GİB requires the envelope's
``VKN_TCKN`` contacts to equal the documents' issuer and recipient; user-account messages go
from the integrator to GİB, VKN 3900383669), checks GİB's package
limits and the element types each envelope type may carry. ``to_xml`` writes the envelope;
``parse`` reads one back, each document as a standalone XML whose signature still verifies.

Time is an argument: ``build`` takes the envelope's creation time (``created``, aware) from the
caller; the module reads no clock.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.authorities import GIB_TITLE, GIB_VKN
from entegrator.envelope.errors import EnvelopeError

__all__ = [
    "ELEMENT_TYPES",
    "Envelope",
    "EnvelopeType",
    "Group",
    "Party",
    "build",
    "parse",
    "to_xml",
]

SH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
EF = "http://www.efatura.gov.tr/package-namespace"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
CAC = f"{{{UBL}CommonAggregateComponents-2}}"
CBC = f"{{{UBL}CommonBasicComponents-2}}"
ISTANBUL = ZoneInfo("Europe/Istanbul")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Document root → (ElementType, issuer party path, recipient party path).
ELEMENT_TYPES: dict[str, tuple[str, str, str]] = {
    f"{{{UBL}Invoice-2}}Invoice": (
        "INVOICE",
        f"{CAC}AccountingSupplierParty/{CAC}Party",
        f"{CAC}AccountingCustomerParty/{CAC}Party",
    ),
    f"{{{UBL}DespatchAdvice-2}}DespatchAdvice": (
        "DESPATCHADVICE",
        f"{CAC}DespatchSupplierParty/{CAC}Party",
        f"{CAC}DeliveryCustomerParty/{CAC}Party",
    ),
    f"{{{UBL}ReceiptAdvice-2}}ReceiptAdvice": (
        "RECEIPTADVICE",
        f"{CAC}DeliveryCustomerParty/{CAC}Party",
        f"{CAC}DespatchSupplierParty/{CAC}Party",
    ),
    f"{{{UBL}ApplicationResponse-2}}ApplicationResponse": (
        "APPLICATIONRESPONSE",
        f"{CAC}SenderParty",
        f"{CAC}ReceiverParty",
    ),
}


HR = "http://www.hr-xml.org/3"
OA = "http://www.openapplications.org/oagis/9"
# User-account messages go from the integrator (oa:Sender/oa:LogicalID) to GİB itself.
USER_ACCOUNT_TYPES = {
    f"{{{HR}}}ProcessUserAccount": "PROCESSUSERACCOUNT",
    f"{{{HR}}}CancelUserAccount": "CANCELUSERACCOUNT",
}


class EnvelopeType(StrEnum):
    SENDERENVELOPE = "SENDERENVELOPE"
    POSTBOXENVELOPE = "POSTBOXENVELOPE"
    SYSTEMENVELOPE = "SYSTEMENVELOPE"
    USERENVELOPE = "USERENVELOPE"


ALLOWED: dict[EnvelopeType, frozenset[str]] = {
    EnvelopeType.SENDERENVELOPE: frozenset({"INVOICE", "DESPATCHADVICE", "CREDITNOTE"}),
    EnvelopeType.POSTBOXENVELOPE: frozenset({"APPLICATIONRESPONSE", "RECEIPTADVICE"}),
    EnvelopeType.SYSTEMENVELOPE: frozenset({"APPLICATIONRESPONSE"}),
    EnvelopeType.USERENVELOPE: frozenset({"PROCESSUSERACCOUNT", "CANCELUSERACCOUNT"}),
}
MAX_GROUPS = 10
MAX_PER_GROUP = 1000
MAX_INVOICES_PER_GROUP = 100


@dataclass(frozen=True)
class Party:
    alias: str  # urn:mail:defaultgb@… (gönderici birim) or …pk@… (posta kutusu)
    identity: str  # VKN or TCKN
    title: str | None = None


@dataclass
class Group:
    element_type: str
    documents: list[bytes] = field(default_factory=list)


@dataclass
class Envelope:
    id: str
    type: EnvelopeType
    sender: Party
    receiver: Party
    created: dt.datetime
    groups: list[Group]

    @property
    def documents(self) -> list[bytes]:
        return [d for g in self.groups for d in g.documents]


def _error(tr: str, en: str, gib_code: int | None = None) -> EnvelopeError:
    return EnvelopeError(detail_tr=tr, detail_en=en, gib_code=gib_code)


def _party_identity(party: etree._Element | None) -> tuple[str | None, str | None]:
    if party is None:
        return None, None
    identity = None
    for ident in party.iterfind(f"{CAC}PartyIdentification/{CBC}ID"):
        if ident.get("schemeID") in ("VKN", "TCKN"):
            identity = (ident.text or "").strip()
            break
    title = party.findtext(f"{CAC}PartyName/{CBC}Name")
    if not title:
        first = party.findtext(f"{CAC}Person/{CBC}FirstName") or ""
        family = party.findtext(f"{CAC}Person/{CBC}FamilyName") or ""
        title = f"{first} {family}".strip() or None
    return identity, title


def _parties_of(
    root: etree._Element,
) -> tuple[str, tuple[str | None, str | None], tuple[str | None, str | None]]:
    """(ElementType, issuer (VKN/TCKN, title), recipient (VKN/TCKN, title)) of a document."""
    tag = str(root.tag)
    if tag in USER_ACCOUNT_TYPES:
        logical = root.findtext(f"{{{OA}}}ApplicationArea/{{{OA}}}Sender/{{{OA}}}LogicalID")
        sender = ((logical or "").strip() or None, None)
        return USER_ACCOUNT_TYPES[tag], sender, (GIB_VKN, GIB_TITLE)
    known = ELEMENT_TYPES.get(tag)
    if known is None:
        raise _error(f"zarfa konamayan belge: {tag}", f"a document that cannot travel: {tag}")
    element_type, issuer_path, recipient_path = known
    return (
        element_type,
        _party_identity(root.find(issuer_path)),
        _party_identity(root.find(recipient_path)),
    )


def build(
    documents: list[bytes],
    *,
    sender_alias: str,
    receiver_alias: str,
    type: EnvelopeType = EnvelopeType.SENDERENVELOPE,
    created: dt.datetime,
    envelope_id: str | None = None,
) -> Envelope:
    """An envelope around signed documents of one issuer for one recipient, made at ``created``
    (aware; written in Türkiye's time)."""
    if not documents:
        raise _error("zarfta belge yok", "the envelope holds no documents")
    groups: dict[str, Group] = {}
    senders: set[tuple[str | None, str | None]] = set()
    receivers: set[tuple[str | None, str | None]] = set()
    for data in documents:
        root = safe_xml.parse(data)
        element_type, sender, receiver = _parties_of(root)
        if element_type not in ALLOWED[type]:
            raise _error(
                f"{type} zarfı {element_type} taşıyamaz",
                f"a {type} cannot carry {element_type}",
            )
        senders.add(sender)
        receivers.add(receiver)
        groups.setdefault(element_type, Group(element_type)).documents.append(data)
    if len(senders) != 1 or len(receivers) != 1:
        raise _error(
            "bir zarftaki belgeler tek düzenleyenden tek alıcıya olmalı",
            "the documents of one envelope must go from one issuer to one recipient",
        )
    (sender_id, sender_title), (receiver_id, receiver_title) = senders.pop(), receivers.pop()
    if not sender_id or not receiver_id:
        raise _error("belgede VKN/TCKN yok", "a document has no VKN/TCKN for a party")
    envelope = Envelope(
        id=envelope_id or str(uuid.uuid4()),
        type=type,
        sender=Party(sender_alias, sender_id, sender_title),
        receiver=Party(receiver_alias, receiver_id, receiver_title),
        created=created.astimezone(ISTANBUL).replace(microsecond=0),
        groups=list(groups.values()),
    )
    _check_limits(envelope)
    return envelope


def _check_limits(envelope: Envelope) -> None:
    if not _UUID.match(envelope.id):
        raise _error("zarf kimliği UUID değil", "the envelope id is not a UUID")
    if len(envelope.groups) > MAX_GROUPS:
        raise _error("en fazla 10 belge grubu", "at most 10 groups of documents")
    for group in envelope.groups:
        limit = MAX_INVOICES_PER_GROUP if group.element_type == "INVOICE" else MAX_PER_GROUP
        if len(group.documents) > limit:
            raise _error(
                f"bir grupta en fazla {limit} {group.element_type}",
                f"at most {limit} {group.element_type} documents per group",
            )
        if group.element_type == "INVOICE":
            profiles = [_profile(d) for d in group.documents]
            for special in ("IHRACAT", "YOLCUBERABERFATURA"):
                if profiles.count(special) > 1:
                    raise _error(
                        f"bir grupta en fazla bir {special} faturası",
                        f"at most one {special} invoice per group",
                    )


def _profile(data: bytes) -> str | None:
    match = re.search(rb"<cbc:ProfileID>\s*([A-Z_]+)\s*</cbc:ProfileID>", data)
    return match.group(1).decode() if match else None


def _contact(parent: etree._Element, party: Party) -> None:
    etree.SubElement(parent, f"{{{SH}}}Identifier").text = party.alias
    info = etree.SubElement(parent, f"{{{SH}}}ContactInformation")
    etree.SubElement(info, f"{{{SH}}}Contact").text = party.identity
    etree.SubElement(info, f"{{{SH}}}ContactTypeIdentifier").text = "VKN_TCKN"
    if party.title:
        info = etree.SubElement(parent, f"{{{SH}}}ContactInformation")
        etree.SubElement(info, f"{{{SH}}}Contact").text = party.title
        etree.SubElement(info, f"{{{SH}}}ContactTypeIdentifier").text = "UNVAN"


def to_xml(envelope: Envelope) -> bytes:
    """The envelope as UTF-8 XML; documents go in unchanged (their signatures stay valid)."""
    _check_limits(envelope)
    root = etree.Element(
        f"{{{SH}}}StandardBusinessDocument",
        {f"{{{XSI}}}schemaLocation": f"{EF} ../PackageProxy_1_2.xsd"},
        nsmap={"sh": SH, "ef": EF, "xsi": XSI},
    )
    header = etree.SubElement(root, f"{{{SH}}}StandardBusinessDocumentHeader")
    etree.SubElement(header, f"{{{SH}}}HeaderVersion").text = "1.0"
    _contact(etree.SubElement(header, f"{{{SH}}}Sender"), envelope.sender)
    _contact(etree.SubElement(header, f"{{{SH}}}Receiver"), envelope.receiver)
    ident = etree.SubElement(header, f"{{{SH}}}DocumentIdentification")
    etree.SubElement(ident, f"{{{SH}}}Standard").text = "UBL-TR"
    etree.SubElement(ident, f"{{{SH}}}TypeVersion").text = "1.2"
    etree.SubElement(ident, f"{{{SH}}}InstanceIdentifier").text = envelope.id
    etree.SubElement(ident, f"{{{SH}}}Type").text = envelope.type.value
    created = envelope.created.astimezone(ISTANBUL).replace(tzinfo=None).isoformat()
    etree.SubElement(ident, f"{{{SH}}}CreationDateAndTime").text = created
    package = etree.SubElement(root, f"{{{EF}}}Package")
    bodies: list[bytes] = []
    marker = uuid.uuid4().hex  # a document cannot contain it by chance or on purpose
    for group in envelope.groups:
        elements = etree.SubElement(package, "Elements")
        etree.SubElement(elements, "ElementType").text = group.element_type
        etree.SubElement(elements, "ElementCount").text = str(len(group.documents))
        holder = etree.SubElement(elements, "ElementList")
        for data in group.documents:
            holder.append(etree.Comment(f"{marker} {len(bodies)}"))
            # Each document goes in as its own serialisation, not as a node moved into the
            # envelope: lxml would drop namespace declarations the envelope repeats (xsi),
            # and the document would no longer canonicalise as it did when it was signed.
            bodies.append(
                etree.tostring(safe_xml.parse(data), encoding="UTF-8", xml_declaration=False)
            )
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    for i, body in enumerate(bodies):
        text = text.replace(f"<!--{marker} {i}-->".encode(), body, 1)
    return text


def _text(node: etree._Element, path: str) -> str:
    return (node.findtext(path) or "").strip()


def _read_party(node: etree._Element | None, role: str) -> Party:
    if node is None:
        raise _error(f"zarfta {role} yok", f"the envelope has no {role}", 1150)
    identity, title = None, None
    for info in node.iterfind(f"{{{SH}}}ContactInformation"):
        kind = _text(info, f"{{{SH}}}ContactTypeIdentifier")
        if kind == "VKN_TCKN":
            identity = _text(info, f"{{{SH}}}Contact")
        elif kind == "UNVAN":
            title = _text(info, f"{{{SH}}}Contact") or None
    if not identity:
        raise _error(f"{role} VKN_TCKN bilgisi yok", f"the {role} has no VKN_TCKN contact", 1150)
    return Party(_text(node, f"{{{SH}}}Identifier"), identity, title)


def parse(xml: bytes) -> Envelope:
    """Read an envelope; each document comes back as standalone XML bytes."""
    root = safe_xml.parse(xml)
    if root.tag != f"{{{SH}}}StandardBusinessDocument":
        raise _error("kök eleman StandardBusinessDocument değil", "not an SBDH envelope", 1150)
    header = root.find(f"{{{SH}}}StandardBusinessDocumentHeader")
    if header is None:
        raise _error("zarf başlığı yok", "the envelope header is missing", 1150)
    ident = header.find(f"{{{SH}}}DocumentIdentification")
    if ident is None:
        raise _error("DocumentIdentification yok", "DocumentIdentification is missing", 1150)
    try:
        kind = EnvelopeType(_text(ident, f"{{{SH}}}Type"))
    except ValueError:
        raise _error("bilinmeyen zarf türü", "unknown envelope type", 1150) from None
    try:
        created = dt.datetime.fromisoformat(_text(ident, f"{{{SH}}}CreationDateAndTime"))
    except ValueError:
        raise _error("zarf oluşturma zamanı okunamadı", "bad CreationDateAndTime", 1150) from None
    groups = []
    for elements in root.iterfind(f"{{{EF}}}Package/Elements"):
        documents = []
        for doc in elements.iterfind("ElementList/*"):
            # A deep copy keeps the document's own namespace declarations and drops the
            # envelope's, so the standalone document canonicalises as it did when signed.
            documents.append(
                etree.tostring(copy.deepcopy(doc), xml_declaration=True, encoding="UTF-8")
            )
        declared = _text(elements, "ElementCount")
        if declared != str(len(documents)):
            raise _error(
                "ElementCount belge sayısına eşit değil",
                "ElementCount is not the number of documents",
                1150,
            )
        groups.append(Group(_text(elements, "ElementType"), documents))
    envelope = Envelope(
        id=_text(ident, f"{{{SH}}}InstanceIdentifier"),
        type=kind,
        sender=_read_party(header.find(f"{{{SH}}}Sender"), "gönderici/sender"),
        receiver=_read_party(header.find(f"{{{SH}}}Receiver"), "alıcı/receiver"),
        created=created,
        groups=groups,
    )
    _check_limits(envelope)
    return envelope
