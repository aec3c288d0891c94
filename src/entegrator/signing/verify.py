"""Verifying XAdES-BES signatures of UBL-TR documents; every failure is a finding.

What is checked, in GİB's terms (1161 no identity, 1176 wrong signer, 1177 invalid signature):

* exactly one ``ds:Signature`` in the document, in the first ``ext:ExtensionContent``;
* inclusive C14N, a signature method of today (no rsa-sha1);
* exactly two references: the whole document (``URI=""``) with exactly one Transform, the
  enveloped-signature transform, and this signature's own ``xades:SignedProperties`` (by a
  unique Id, inside its ``ds:Object``); nothing else is signed and nothing signed is elsewhere,
  which is what defeats signature wrapping;
* both digests and the signature value;
* ``SigningCertificate`` names the certificate in ``KeyInfo`` (digest, issuer, serial), which was
  valid at ``SigningTime`` and chains to a configured trust anchor;
* who signed (``signing.md`` §1, §5): the seal's VKN/TCKN is the document issuer's, and
  ``cac:Signature/cbc:ID`` names the issuer (or the signer). A seal of someone else is an
  error (``sig-identity``, 1176) unless it belongs to a known integrator (``integrators``): an
  özel entegratör signing with its own mali mühür on the issuer's behalf, which is normal
  practice and only a warning (``sig-integrator``). With ``any_signer`` (documents GİB has
  delivered: GİB checked who may sign before it did) any other signer is a warning.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree

from entegrator.findings import Finding, Severity, Source
from entegrator.findings.paths import element_path, line_of
from entegrator.signing.certs import identity_of
from entegrator.signing.xades import (
    C14N,
    CAC,
    CBC,
    DS,
    ENVELOPED,
    SIGNED_PROPERTIES,
    XADES,
    Algorithms,
    c14n,
    certificate_of,
    document_digest,
    is_ubl,
    issuer_identity,
    signature_slot,
    slot_name,
)

__all__ = ["verify", "verify_tree"]

_SIGNATURE_METHODS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", hashes.SHA256()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", hashes.SHA384()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", hashes.SHA512()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ec", hashes.SHA256()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", hashes.SHA384()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ec", hashes.SHA512()),
}
_DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": hashes.SHA256(),
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashes.SHA384(),
    "http://www.w3.org/2001/04/xmlenc#sha512": hashes.SHA512(),
}


class _Out:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(
        self,
        code: str,
        tr: str,
        en: str,
        node: etree._Element | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.findings.append(
            Finding(
                code=code,
                severity=severity,
                source=Source.SIGNATURE,
                line=line_of(node) if node is not None else None,
                xpath=element_path(node) if node is not None else None,
                message_tr=tr,
                message_en=en,
            )
        )


def _digest_alg(method: etree._Element | None) -> Algorithms | None:
    uri = method.get("Algorithm") if method is not None else None
    algorithm = _DIGESTS.get(uri or "")
    return Algorithms("", uri or "", algorithm) if algorithm else None


def verify(
    xml: bytes,
    *,
    trust: Sequence[x509.Certificate] = (),
    at: dt.datetime | None = None,
    integrators: Collection[str] = (),
    any_signer: bool = False,
) -> list[Finding]:
    """Findings about the document's signature; empty when it verifies (and, with ``trust``,
    chains to one of the anchors) and the issuer signed it.

    ``integrators``: VKNs of seals known to be integrators'; such a seal signing for another
    issuer is a warning (``sig-integrator``), any other signer an error (``sig-identity``).
    ``any_signer``: every signer other than the issuer is only a warning (documents GİB has
    delivered).
    """
    from entegrator.documents import safe_xml

    root = safe_xml.parse(xml)
    return verify_tree(root, trust=trust, at=at, integrators=integrators, any_signer=any_signer)


def verify_tree(
    root: etree._Element,
    *,
    trust: Sequence[x509.Certificate] = (),
    at: dt.datetime | None = None,
    integrators: Collection[str] = (),
    any_signer: bool = False,
) -> list[Finding]:
    """:func:`verify` for a tree already parsed by the caller (left unchanged)."""
    out = _Out()
    signatures = list(root.iter(f"{{{DS}}}Signature"))
    if not signatures:
        out.add("sig-missing", "Belge imzalı değil", "The document is not signed", root)
        return out.findings
    if len(signatures) > 1:
        out.add(
            "sig-count",
            f"Belgede {len(signatures)} imza var; tam bir tane olmalı",
            f"The document holds {len(signatures)} signatures; exactly one is allowed",
            signatures[1],
        )
        return out.findings
    signature = signatures[0]
    slot = signature_slot(root)
    if slot is None or signature.getparent() is not slot:
        where = slot_name(root)
        out.add(
            "sig-location",
            f"İmza yerinde değil ({where})",
            f"The signature is not in its place ({where})",
            signature,
        )
        return out.findings
    _check_ids(root, out)
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    if signed_info is None:
        out.add("sig-structure", "ds:SignedInfo yok", "ds:SignedInfo is missing", signature)
        return out.findings
    _check_signed_info(root, signature, signed_info, out)
    cert = certificate_of(signature)
    if cert is None:
        out.add(
            "sig-certificate",
            "İmzada okunabilir bir X509Certificate yok",
            "The signature carries no readable X509Certificate",
            signature,
        )
        return out.findings
    _check_value(signature, signed_info, cert, out)
    _check_certificate(signature, cert, trust, at, out)
    _check_signer(root, signature, cert, out, integrators=integrators, any_signer=any_signer)
    return out.findings


_ID_ATTRIBUTES = etree.XPath("//@Id | //@ID | //@id")


def _check_ids(root: etree._Element, out: _Out) -> None:
    seen: set[str] = set()
    values: Any = _ID_ATTRIBUTES(root)
    for value in values:
        text = str(value)
        if text in seen:
            out.add(
                "sig-duplicate-id",
                f"'{text}' kimliği birden çok elemanda: imza sarmalama girişimi olabilir",
                f"Id '{text}' is used more than once: possible signature wrapping",
                value.getparent(),
            )
        seen.add(text)


def _check_signed_info(
    root: etree._Element, signature: etree._Element, signed_info: etree._Element, out: _Out
) -> None:
    method = signed_info.find(f"{{{DS}}}CanonicalizationMethod")
    if method is None or method.get("Algorithm") != C14N:
        out.add(
            "sig-algorithm",
            "SignedInfo kanonikleştirmesi C14N 1.0 (yorumsuz) olmalı",
            "SignedInfo must use inclusive C14N 1.0 without comments",
            method if method is not None else signed_info,
        )
    sig_method = signed_info.find(f"{{{DS}}}SignatureMethod")
    if sig_method is None or sig_method.get("Algorithm") not in _SIGNATURE_METHODS:
        name = sig_method.get("Algorithm") if sig_method is not None else "-"
        out.add(
            "sig-algorithm",
            f"Desteklenmeyen imza algoritması: {name}",
            f"Unsupported signature algorithm: {name}",
            sig_method if sig_method is not None else signed_info,
        )
    references = signed_info.findall(f"{{{DS}}}Reference")
    whole = [r for r in references if r.get("URI") == ""]
    props = [r for r in references if r.get("Type") == SIGNED_PROPERTIES]
    if len(whole) != 1 or len(props) != 1 or len(references) != 2:
        out.add(
            "sig-reference",
            'İmza tam iki referans içermeli: belgenin tamamı (URI="") ve SignedProperties',
            'The signature must hold exactly two references: the whole document (URI="") '
            "and its SignedProperties",
            signed_info,
        )
        return
    _check_document_reference(root, signature, whole[0], out)
    _check_properties_reference(signature, props[0], out)


def _check_document_reference(
    root: etree._Element, signature: etree._Element, ref: etree._Element, out: _Out
) -> None:
    transforms = ref.findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    if len(transforms) != 1 or transforms[0].get("Algorithm") != ENVELOPED:
        out.add(
            "sig-transform",
            "Belge referansında tam bir Transform olmalı: enveloped-signature",
            "The document reference must have exactly one Transform: enveloped-signature",
            ref,
        )
        return
    alg = _digest_alg(ref.find(f"{{{DS}}}DigestMethod"))
    if alg is None:
        out.add("sig-algorithm", "Bilinmeyen özet algoritması", "Unknown digest algorithm", ref)
        return
    written = "".join((ref.findtext(f"{{{DS}}}DigestValue") or "").split())
    if document_digest(root.getroottree(), signature, alg) != written:
        out.add(
            "sig-digest",
            "Belge imzadan sonra değişmiş: özet tutmuyor (GİB 1177)",
            "The document changed after signing: its digest does not match (GİB 1177)",
            ref,
        )


def _check_properties_reference(signature: etree._Element, ref: etree._Element, out: _Out) -> None:
    uri = ref.get("URI") or ""
    target_id = uri[1:] if uri.startswith("#") else None
    props = [
        p
        for p in signature.iterfind(
            f"{{{DS}}}Object/{{{XADES}}}QualifyingProperties/{{{XADES}}}SignedProperties"
        )
        if target_id is not None and p.get("Id") == target_id
    ]
    if len(props) != 1:
        out.add(
            "sig-reference",
            "SignedProperties referansı bu imzanın xades:SignedProperties elemanını göstermiyor",
            "The SignedProperties reference does not point at this signature's SignedProperties",
            ref,
        )
        return
    qualifying = props[0].getparent()
    if qualifying is not None and qualifying.get("Target") != f"#{signature.get('Id')}":
        out.add(
            "sig-structure",
            "QualifyingProperties/@Target bu imzanın kimliği değil",
            "QualifyingProperties/@Target is not this signature's Id",
            qualifying,
        )
    alg = _digest_alg(ref.find(f"{{{DS}}}DigestMethod"))
    written = "".join((ref.findtext(f"{{{DS}}}DigestValue") or "").split())
    if alg is None or alg.digest_of(c14n(props[0])) != written:
        out.add(
            "sig-digest",
            "İmza özellikleri (SignedProperties) imzadan sonra değişmiş (GİB 1177)",
            "The signed properties changed after signing (GİB 1177)",
            props[0],
        )


def _check_value(
    signature: etree._Element, signed_info: etree._Element, cert: x509.Certificate, out: _Out
) -> None:
    method = signed_info.find(f"{{{DS}}}SignatureMethod")
    kind, algorithm = _SIGNATURE_METHODS.get(
        method.get("Algorithm", "") if method is not None else "", ("", hashes.SHA256())
    )
    value_node = signature.find(f"{{{DS}}}SignatureValue")
    try:
        value = base64.b64decode(
            "".join((value_node.text or "").split()) if value_node is not None else ""
        )
    except ValueError:
        value = b""
    data = c14n(signed_info)
    key = cert.public_key()
    try:
        if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, padding.PKCS1v15(), algorithm)
        elif kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            size = (key.curve.key_size + 7) // 8
            if len(value) != 2 * size:
                raise InvalidSignature
            der = encode_dss_signature(
                int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big")
            )
            key.verify(der, data, ec.ECDSA(algorithm))
        else:
            raise InvalidSignature
    except InvalidSignature:
        out.add(
            "sig-value",
            "İmza değeri sertifikanın anahtarıyla doğrulanamadı (GİB 1177)",
            "The signature value does not verify with the certificate's key (GİB 1177)",
            value_node if value_node is not None else signature,
        )


def _signing_time(signature: etree._Element) -> dt.datetime | None:
    text = signature.findtext(f".//{{{XADES}}}SignedSignatureProperties/{{{XADES}}}SigningTime")
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _check_certificate(
    signature: etree._Element,
    cert: x509.Certificate,
    trust: Sequence[x509.Certificate],
    at: dt.datetime | None,
    out: _Out,
) -> None:
    cert_node = signature.find(f".//{{{XADES}}}SigningCertificate/{{{XADES}}}Cert")
    der = cert.public_bytes(Encoding.DER)
    if cert_node is None:
        out.add(
            "sig-structure",
            "xades:SigningCertificate yok",
            "xades:SigningCertificate is missing",
            signature,
        )
    else:
        digest = "".join((cert_node.findtext(f".//{{{DS}}}DigestValue") or "").split())
        serial = (cert_node.findtext(f".//{{{DS}}}X509SerialNumber") or "").strip()
        if digest != base64.b64encode(hashlib.sha256(der).digest()).decode() or serial != str(
            cert.serial_number
        ):
            out.add(
                "sig-certificate",
                "SigningCertificate, KeyInfo'daki sertifikayı göstermiyor (sertifika değişmiş)",
                "SigningCertificate does not name the certificate in KeyInfo (certificate swapped)",
                cert_node,
            )
    when = _signing_time(signature) or at
    if when is None:
        out.add("sig-structure", "xades:SigningTime yok", "xades:SigningTime is missing", signature)
    elif not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
        out.add(
            "sig-certificate-validity",
            f"Sertifika imza zamanında ({when:%Y-%m-%d %H:%M}) geçerli değil",
            f"The certificate was not valid at signing time ({when:%Y-%m-%d %H:%M})",
            signature,
        )
    if trust:
        chain = [_cert(c) for c in _key_info_certs(signature)]
        if not _chains(cert, [c for c in chain if c is not None], trust):
            out.add(
                "sig-untrusted",
                "Sertifika güvenilen bir sertifika otoritesine zincirlenmiyor",
                "The certificate does not chain to a trusted certificate authority",
                signature,
            )


def _check_signer(
    root: etree._Element,
    signature: etree._Element,
    cert: x509.Certificate,
    out: _Out,
    *,
    integrators: Collection[str],
    any_signer: bool,
) -> None:
    """Who signed: the issuer, a known integrator on its behalf, or someone else (1161/1176)."""
    holder = identity_of(cert)
    issuer = issuer_identity(root)
    pointer = (
        (root.findtext(f"{{{CAC}}}Signature/{{{CBC}}}ID") or "").strip() or None
        if is_ubl(root)
        else None
    )
    # Delivered documents passed GİB's own check of the signer: ours is advice only.
    severity = Severity.WARNING if any_signer else Severity.ERROR
    if holder is None:
        out.add(
            "sig-no-identity",
            "Sertifikadan VKN/TCKN okunamadı (GİB 1161)",
            "No VKN/TCKN can be read from the certificate (GİB 1161)",
            signature,
        )
        return
    if pointer is not None and pointer not in (issuer, holder):
        out.add(
            "sig-identity",
            f"cac:Signature/cbc:ID {pointer}, belgeyi düzenleyen {issuer} (GİB 1176)",
            f"cac:Signature/cbc:ID is {pointer}, the document's issuer is {issuer} (GİB 1176)",
            signature,
            severity,
        )
    if holder == issuer:
        return
    name = _holder_name(cert)
    if holder in integrators:
        out.add(
            "sig-integrator",
            f"Belge, düzenleyen {issuer} adına entegratör {name} ({holder}) mührüyle imzalı",
            f"Signed with the seal of integrator {name} ({holder}) on behalf of the issuer "
            f"{issuer}",
            signature,
            Severity.WARNING,
        )
        return
    out.add(
        "sig-identity",
        f"İmzalayan {name} ({holder}), belgeyi düzenleyen {issuer} (GİB 1176)",
        f"The signer is {name} ({holder}), the document's issuer is {issuer} (GİB 1176)",
        signature,
        severity,
    )


def _holder_name(cert: x509.Certificate) -> str:
    """The seal holder's name (subject CN, else O), for messages."""
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        for attr in cert.subject.get_attributes_for_oid(oid):
            value = str(attr.value).strip()
            if value:
                return value
    return "-"


def _key_info_certs(signature: etree._Element) -> Iterable[str]:
    for node in signature.iterfind(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate"):
        yield node.text or ""


def _cert(text: str) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
    except ValueError:
        return None


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _chains(
    cert: x509.Certificate,
    intermediates: list[x509.Certificate],
    trust: Sequence[x509.Certificate],
    depth: int = 0,
) -> bool:
    if depth > 5:
        return False
    if any(_issued_by(cert, anchor) for anchor in trust) or cert in trust:
        return True
    return any(
        _issued_by(cert, mid) and _chains(mid, intermediates, trust, depth + 1)
        for mid in intermediates
        if mid != cert
    )
