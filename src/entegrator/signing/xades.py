"""XAdES-BES enveloped signatures as GİB requires them (``signing.md`` §2–4).

The signature goes into the first ``ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent``
(replacing the placeholder the builder leaves there) — or, for an e-Arşiv report, at the end of
its ``baslik``, and for a user-account message in ``oa:ApplicationArea/oa:Signature`` — with:

* inclusive C14N 1.0 for SignedInfo and both references;
* exactly one Reference to the whole document (``URI=""``) with exactly **one** Transform, the
  enveloped-signature transform (GİB's TransformCountCheck), and one Reference to the
  ``xades:SignedProperties``;
* RSA-SHA256 for RSA keys, ECDSA-SHA384 (raw ``r‖s``) for the P-384 seals TÜBİTAK issues;
* ``KeyInfo/X509Data`` with the certificate, ``SignedProperties`` with ``SigningTime`` (Turkish
  time, with offset) and ``SigningCertificate`` (SHA-256 digest, issuer and decimal serial).

Before signing, the certificate must be valid at the signing time and its VKN/TCKN must be the
document's issuer (GİB refuses anything else with 1176) — unless the seal is the integrator's own
mali mühür signing on the issuer's behalf (``on_behalf=True``, ``signing.md`` §1), which GİB
accepts from the integrator that sends the document.

Time is an argument: ``signing_time`` (aware; written in Turkish time) comes from the caller,
who also decides whether it is the real time. The module reads no clock.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from lxml import etree

from entegrator.documents import safe_xml
from entegrator.signing.certs import SigningKey, identity_of
from entegrator.signing.errors import CertificateError, NotSignableError

__all__ = [
    "C14N",
    "DS",
    "ENVELOPED",
    "XADES",
    "issuer_identity",
    "sign",
    "sign_tree",
]

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SIGNED_PROPERTIES = "http://uri.etsi.org/01903#SignedProperties"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ISTANBUL = ZoneInfo("Europe/Istanbul")


@dataclass(frozen=True)
class Algorithms:
    signature: str
    digest: str
    hash: hashes.HashAlgorithm

    def digest_of(self, data: bytes) -> str:
        return base64.b64encode(hashlib.new(self.hash.name, data).digest()).decode()


RSA_SHA256 = Algorithms(
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmlenc#sha256",
    hashes.SHA256(),
)
ECDSA_SHA384 = Algorithms(
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    hashes.SHA384(),
)
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"

# Where the issuer (the party whose seal signs) sits in each kind of document.
_ISSUER_PATHS = {
    "Invoice": f"{{{CAC}}}AccountingSupplierParty/{{{CAC}}}Party",
    "DespatchAdvice": f"{{{CAC}}}DespatchSupplierParty/{{{CAC}}}Party",
    "ReceiptAdvice": f"{{{CAC}}}DeliveryCustomerParty/{{{CAC}}}Party",
    "ApplicationResponse": f"{{{CAC}}}SenderParty",
}


def c14n(node: etree._Element | etree._ElementTree) -> bytes:
    """Inclusive C14N 1.0 without comments, of a node in its document context."""
    return etree.tostring(node, method="c14n", exclusive=False, with_comments=False)


EARSIV = "http://earsiv.efatura.gov.tr"
REPORT = f"{{{EARSIV}}}eArsivRaporu"


HR = "http://www.hr-xml.org/3"
OA = "http://www.openapplications.org/oagis/9"
USER_ACCOUNTS = frozenset({f"{{{HR}}}ProcessUserAccount", f"{{{HR}}}CancelUserAccount"})


def is_report(root: etree._Element) -> bool:
    """An e-Arşiv report: signed by its preparer, the signature last in ``baslik``."""
    return root.tag == REPORT


def is_user_account(root: etree._Element) -> bool:
    """A GİB user-account message (HR-XML), signed by the integrator in ``oa:Signature``."""
    return root.tag in USER_ACCOUNTS


def is_ubl(root: etree._Element) -> bool:
    return str(root.tag).startswith("{urn:oasis:names:specification:ubl:")


def slot_name(root: etree._Element) -> str:
    if is_report(root):
        return "baslik"
    if is_user_account(root):
        return "oa:ApplicationArea/oa:Signature"
    return "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent"


def signature_slot(root: etree._Element) -> etree._Element | None:
    """Where the signature lives: the first ExtensionContent, the report's ``baslik``, or a
    user-account message's ``oa:ApplicationArea/oa:Signature``."""
    if is_report(root):
        return root.find(f"{{{EARSIV}}}baslik")
    if is_user_account(root):
        return root.find(f"{{{OA}}}ApplicationArea/{{{OA}}}Signature")
    return root.find(f"{{{EXT}}}UBLExtensions/{{{EXT}}}UBLExtension/{{{EXT}}}ExtensionContent")


def issuer_identity(root: etree._Element) -> str | None:
    """The VKN/TCKN of the party that issues (and signs) this document.

    For an e-Arşiv report that is the preparer (``hazirlayan``), normally the integrator; for a
    user-account message the sender's ``oa:LogicalID`` (the integrator).
    """
    if is_user_account(root):
        value = root.findtext(f"{{{OA}}}ApplicationArea/{{{OA}}}Sender/{{{OA}}}LogicalID")
        return value.strip() if value and value.strip() else None
    if is_report(root):
        preparer = root.find(f"{{{EARSIV}}}baslik/{{{EARSIV}}}hazirlayan")
        if preparer is None:
            return None
        for tag in ("vkn", "tckn"):
            value = preparer.findtext(f"{{{EARSIV}}}{tag}")
            if value and value.strip():
                return value.strip()
        return None
    path = _ISSUER_PATHS.get(etree.QName(root).localname)
    party = root.find(path) if path else None
    if party is None:
        return None
    for ident in party.iterfind(f"{{{CAC}}}PartyIdentification/{{{CBC}}}ID"):
        if ident.get("schemeID") in ("VKN", "TCKN"):
            return (ident.text or "").strip()
    return None


def document_digest(tree: etree._ElementTree, signature: etree._Element, alg: Algorithms) -> str:
    """Digest of the whole document with ``signature`` removed (the enveloped transform).

    The element is taken out of the tree for the canonicalisation and put back exactly where it
    was; its tail text stays in the document (lxml would drop it with the element).
    """
    parent = signature.getparent()
    if parent is None:
        raise NotSignableError(detail_tr="imza kök eleman", detail_en="the signature is the root")
    with removed(signature):
        return alg.digest_of(c14n(tree))


@contextmanager
def removed(element: etree._Element | None) -> Iterator[None]:
    """``element`` taken out of its tree for a while, its tail text left in place (lxml would
    drop it with the element), and put back exactly where it was."""
    parent = element.getparent() if element is not None else None
    if element is None or parent is None:
        yield
        return
    index = parent.index(element)
    tail = element.tail
    previous = element.getprevious()
    saved_text = parent.text if previous is None else previous.tail
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
    try:
        yield
    finally:
        if previous is not None:
            previous.tail = saved_text
        else:
            parent.text = saved_text
        parent.insert(index, element)
        element.tail = tail


def algorithms_for(key: SigningKey) -> Algorithms:
    return ECDSA_SHA384 if isinstance(key.private_key, ec.EllipticCurvePrivateKey) else RSA_SHA256


@dataclass(frozen=True)
class _CertFacts:
    der_b64: str
    digest_b64: str
    subject: str
    issuer: str
    serial: str


@lru_cache(maxsize=64)
def _facts(cert: x509.Certificate) -> _CertFacts:
    """What the signature says about the certificate, computed once per certificate."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return _CertFacts(
        base64.b64encode(der).decode(),
        base64.b64encode(hashlib.sha256(der).digest()).decode(),
        cert.subject.rfc4514_string(),
        cert.issuer.rfc4514_string(),
        str(cert.serial_number),
    )


def _sign_bytes(key: SigningKey, data: bytes, alg: Algorithms) -> bytes:
    private = key.private_key
    if isinstance(private, rsa.RSAPrivateKey):
        return private.sign(data, padding.PKCS1v15(), alg.hash)
    der = private.sign(data, ec.ECDSA(alg.hash))
    r, s = decode_dss_signature(der)
    size = (private.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")  # XMLDSig wants raw r‖s


def _check_certificate(
    key: SigningKey, root: etree._Element, when: dt.datetime, *, on_behalf: bool
) -> None:
    cert = key.certificate
    if when < cert.not_valid_before_utc:
        raise CertificateError(
            detail_tr=f"sertifika {cert.not_valid_before_utc:%Y-%m-%d} tarihinden önce geçersiz",
            detail_en=f"the certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d}",
        )
    if when > cert.not_valid_after_utc:
        raise CertificateError(
            detail_tr=f"sertifikanın süresi {cert.not_valid_after_utc:%Y-%m-%d} tarihinde doldu",
            detail_en=f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}",
        )
    holder = identity_of(cert)
    issuer = issuer_identity(root)
    if holder is None:
        raise CertificateError(
            detail_tr="sertifikada VKN/TCKN (serialNumber) yok",
            detail_en="the certificate carries no VKN/TCKN (serialNumber)",
        )
    if issuer != holder and not on_behalf:
        raise CertificateError(
            detail_tr=f"sertifika {holder} adına, belgeyi düzenleyen {issuer}",
            detail_en=f"the certificate belongs to {holder}, the document's issuer is {issuer}",
        )


def _extension_content(root: etree._Element) -> etree._Element:
    content = signature_slot(root)
    if content is None:
        where = slot_name(root)
        raise NotSignableError(detail_tr=f"{where} yok", detail_en=f"there is no {where}")
    if next(root.iter(f"{{{DS}}}Signature"), None) is not None:
        raise NotSignableError(detail_tr="belge zaten imzalı", detail_en="already signed")
    return content


def _signature_id(root: etree._Element) -> str:
    if is_user_account(root):
        number = (root.findtext(f"{{{OA}}}ApplicationArea/{{{OA}}}BODID") or "").strip()
        return f"Signature_{number or uuid.uuid4().hex}"
    if is_report(root):
        number = (root.findtext(f"{{{EARSIV}}}baslik/{{{EARSIV}}}raporNo") or "").strip()
        return f"Signature_{number or uuid.uuid4().hex}"
    uri = root.findtext(
        f"{{{CAC}}}Signature/{{{CAC}}}DigitalSignatureAttachment/{{{CAC}}}ExternalReference/{{{CBC}}}URI"
    )
    if uri and uri.strip().startswith("#") and len(uri.strip()) > 1:
        return uri.strip()[1:]
    number = (root.findtext(f"{{{CBC}}}ID") or "").strip()
    return f"Signature_{number or uuid.uuid4().hex}"


def _sub(
    parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str
) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _without_prolog(root: etree._Element) -> etree._Element:
    """The document without processing instructions and comments outside the root element.

    A signature over ``URI=""`` covers them, but an envelope carries only the document element
    (an ``<?xml-stylesheet?>`` line cannot travel in ``ElementList``), so a document signed
    with them would fail verification once delivered. What is signed is what travels.
    """
    if root.getprevious() is None and root.getnext() is None:
        return root
    return copy.deepcopy(root)  # a copy of the element alone: a document without siblings


def _skeleton(alg: Algorithms, facts: _CertFacts) -> etree._Element:
    """A key's ds:Signature with everything that is the same for each of its signatures.

    Ids, SigningTime, digests and the value are left empty; :func:`_from_template` fills
    them in on a copy.
    """
    signature = etree.Element(f"{{{DS}}}Signature", {"Id": ""}, nsmap={"ds": DS, "xades": XADES})
    signed_info = _sub(signature, DS, "SignedInfo")
    _sub(signed_info, DS, "CanonicalizationMethod", Algorithm=C14N)
    _sub(signed_info, DS, "SignatureMethod", Algorithm=alg.signature)
    doc_ref = _sub(signed_info, DS, "Reference", Id="", URI="")
    transforms = _sub(doc_ref, DS, "Transforms")
    _sub(transforms, DS, "Transform", Algorithm=ENVELOPED)
    _sub(doc_ref, DS, "DigestMethod", Algorithm=alg.digest)
    _sub(doc_ref, DS, "DigestValue")
    props_ref = _sub(signed_info, DS, "Reference", Type=SIGNED_PROPERTIES, URI="")
    _sub(props_ref, DS, "DigestMethod", Algorithm=alg.digest)
    _sub(props_ref, DS, "DigestValue")
    _sub(signature, DS, "SignatureValue")
    key_info = _sub(signature, DS, "KeyInfo")
    x509_data = _sub(key_info, DS, "X509Data")
    _sub(x509_data, DS, "X509SubjectName", facts.subject)
    _sub(x509_data, DS, "X509Certificate", facts.der_b64)
    obj = _sub(signature, DS, "Object")
    qualifying = _sub(obj, XADES, "QualifyingProperties", Target="")
    props = _sub(qualifying, XADES, "SignedProperties", Id="")
    sig_props = _sub(props, XADES, "SignedSignatureProperties")
    _sub(sig_props, XADES, "SigningTime")
    cert = _sub(_sub(sig_props, XADES, "SigningCertificate"), XADES, "Cert")
    cert_digest = _sub(cert, XADES, "CertDigest")
    _sub(cert_digest, DS, "DigestMethod", Algorithm=SHA256_URI)
    _sub(cert_digest, DS, "DigestValue", facts.digest_b64)
    issuer_serial = _sub(cert, XADES, "IssuerSerial")
    _sub(issuer_serial, DS, "X509IssuerName", facts.issuer)
    _sub(issuer_serial, DS, "X509SerialNumber", facts.serial)
    data_props = _sub(props, XADES, "SignedDataObjectProperties")
    data_format = _sub(data_props, XADES, "DataObjectFormat", ObjectReference="")
    _sub(data_format, XADES, "MimeType", "text/xml")
    return signature


_TEMPLATES: dict[tuple[str, _CertFacts], etree._Element] = {}


def _template(alg: Algorithms, facts: _CertFacts) -> etree._Element:
    """The signature skeleton of one key, built once; each signature starts from a copy."""
    found = _TEMPLATES.get((alg.signature, facts))
    if found is not None:
        return found
    if len(_TEMPLATES) > 64:
        _TEMPLATES.clear()
    signature = _skeleton(alg, facts)
    _TEMPLATES[alg.signature, facts] = signature
    return signature


def _from_template(  # noqa: PLR0917 - the values that differ from one signature to the next
    content: etree._Element,
    alg: Algorithms,
    facts: _CertFacts,
    when: dt.datetime,
    sig_id: str,
    ref_id: str,
    props_id: str,
) -> tuple[
    etree._Element, etree._Element, etree._Element, etree._Element, etree._Element, etree._Element
]:
    """A copy of the key's template with this signature's ids and time, appended to ``content``."""
    signature = copy.deepcopy(_template(alg, facts))
    content.append(signature)
    signature.set("Id", sig_id)
    signed_info, signature_value, obj = signature[0], signature[1], signature[3]
    doc_ref, props_ref = signed_info[2], signed_info[3]
    doc_ref.set("Id", ref_id)
    props_ref.set("URI", f"#{props_id}")
    qualifying = obj[0]
    qualifying.set("Target", f"#{sig_id}")
    props = qualifying[0]
    props.set("Id", props_id)
    props[0][0].text = when.isoformat()  # SignedSignatureProperties/SigningTime
    props[1][0].set("ObjectReference", f"#{ref_id}")  # SignedDataObjectProperties/…
    return signature, signed_info, doc_ref[2], props_ref[1], signature_value, props


def sign(
    xml: bytes,
    key: SigningKey,
    *,
    signing_time: dt.datetime,
    check_certificate: bool = True,
    on_behalf: bool = False,
) -> bytes:
    """Sign a UBL-TR document (Invoice, DespatchAdvice, ReceiptAdvice, ApplicationResponse) or
    an e-Arşiv report.

    ``on_behalf``: ``key`` is the integrator's own seal, signing for the document's issuer; its
    VKN need not be the issuer's (it must still be valid at ``signing_time``).

    Raises :class:`CertificateError` for a seal that may not sign it and
    :class:`NotSignableError` for a document without its extension slot or already signed.
    """
    return sign_tree(
        safe_xml.parse(xml),
        key,
        signing_time=signing_time,
        check_certificate=check_certificate,
        on_behalf=on_behalf,
    )


def sign_tree(
    root: etree._Element,
    key: SigningKey,
    *,
    signing_time: dt.datetime,
    check_certificate: bool = True,
    on_behalf: bool = False,
) -> bytes:
    """:func:`sign` for a tree already parsed (and validated) by the caller, which it changes.

    A pipeline that has just validated the document hands over its tree and saves a parse.
    """
    root = _without_prolog(root)
    when = signing_time.astimezone(ISTANBUL).replace(microsecond=0)
    if check_certificate:
        _check_certificate(key, root, when, on_behalf=on_behalf)
    content = _extension_content(root)
    tail = None
    if is_ubl(root):  # UBL: the signature replaces the builder's placeholder
        tail = content[0].tail if len(content) else None
        for child in list(content):
            content.remove(child)
    alg = algorithms_for(key)
    sig_id = _signature_id(root)
    suffix = sig_id.removeprefix("Signature_") or uuid.uuid4().hex
    ref_id, props_id = f"Reference_{suffix}", f"SignedProperties_{suffix}"
    facts = _facts(key.certificate)

    signature, signed_info, doc_digest, props_digest, signature_value, props = _from_template(
        content, alg, facts, when, sig_id, ref_id, props_id
    )
    signature.tail = tail

    tree = root.getroottree()
    props_digest.text = alg.digest_of(c14n(props))
    doc_digest.text = document_digest(tree, signature, alg)
    signature_value.text = base64.b64encode(_sign_bytes(key, c14n(signed_info), alg)).decode()
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def certificate_of(signature: etree._Element) -> x509.Certificate | None:
    """The first certificate in the signature's KeyInfo (the signer's)."""
    text = signature.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    if not text:
        return None
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
    except ValueError:
        return None
