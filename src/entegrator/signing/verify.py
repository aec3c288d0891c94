"""Verifying XAdES-BES signatures of UBL-TR documents; every failure is a finding.

What is checked, in GİB's terms (1161 no identity, 1176 wrong signer, 1177 invalid signature):

* exactly one ``ds:Signature`` in the document, in the first ``ext:ExtensionContent``;
* exactly two references: the whole document (``URI=""``) with exactly one Transform, the
  enveloped-signature transform (GİB's TransformCountCheck), and this signature's own
  ``xades:SignedProperties`` (by a unique Id, inside its ``ds:Object``); nothing else is signed
  and nothing signed is elsewhere, which is what defeats signature wrapping;
* both digests and the signature value, computed the way XML-DSig defines them: the declared
  canonicalisation of SignedInfo (inclusive C14N 1.0 or 1.1, exclusive C14N with its
  ``InclusiveNamespaces`` prefix list, each with or without comments) and each reference's own
  transforms (the enveloped-signature transform and any of those canonicalisations; a
  reference whose transforms leave a node-set gets inclusive C14N 1.0). A same-document
  reference (``URI=""`` or ``#Id``) never carries comments;
* SHA-256/384/512 digests, RSA (PKCS#1 v1.5) and ECDSA (raw ``r‖s``) signatures; SHA-1 is
  verified, so that the verdict stays exact, and refused (``sig-sha1``) as GİB refuses it;
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
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
    certificate_of,
    is_ubl,
    issuer_identity,
    removed,
    signature_slot,
    slot_name,
)

__all__ = ["SIGNED_PROPERTIES_TYPES", "verify", "verify_tree"]

_RSA, _EC = "rsa", "ec"
_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
_SIGNATURE_METHODS: dict[str, tuple[str, hashes.HashAlgorithm]] = {
    f"{_MORE}rsa-sha256": (_RSA, hashes.SHA256()),
    f"{_MORE}rsa-sha384": (_RSA, hashes.SHA384()),
    f"{_MORE}rsa-sha512": (_RSA, hashes.SHA512()),
    f"{_MORE}ecdsa-sha256": (_EC, hashes.SHA256()),
    f"{_MORE}ecdsa-sha384": (_EC, hashes.SHA384()),
    f"{_MORE}ecdsa-sha512": (_EC, hashes.SHA512()),
    # Verified, so that the verdict is exact, but refused by policy (``sig-sha1``).
    f"{DS}rsa-sha1": (_RSA, hashes.SHA1()),  # noqa: S303 - recognised in order to refuse it
    f"{_MORE}ecdsa-sha1": (_EC, hashes.SHA1()),  # noqa: S303 - recognised in order to refuse it
}
_DIGESTS: dict[str, hashes.HashAlgorithm] = {
    "http://www.w3.org/2001/04/xmlenc#sha256": hashes.SHA256(),
    f"{_MORE}sha384": hashes.SHA384(),
    "http://www.w3.org/2001/04/xmlenc#sha512": hashes.SHA512(),
    f"{DS}sha1": hashes.SHA1(),  # noqa: S303 - recognised in order to refuse it
}


@dataclass(frozen=True)
class _Canonicalisation:
    """One of XML-DSig's canonicalisation algorithms, as lxml (libxml2) runs it."""

    exclusive: bool
    comments: bool
    version_11: bool = False


_EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
_C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
_CANONICALISATIONS = {
    C14N: _Canonicalisation(exclusive=False, comments=False),
    f"{C14N}#WithComments": _Canonicalisation(exclusive=False, comments=True),
    _C14N11: _Canonicalisation(exclusive=False, comments=False, version_11=True),
    f"{_C14N11}#WithComments": _Canonicalisation(exclusive=False, comments=True, version_11=True),
    _EXC: _Canonicalisation(exclusive=True, comments=False),
    f"{_EXC}WithComments": _Canonicalisation(exclusive=True, comments=True),
}
# The default for a same-document reference whose transforms leave a node-set.
_DEFAULT_C14N = _CANONICALISATIONS[C14N]
_XML_NS = "http://www.w3.org/XML/1998/namespace"
# SignedProperties reference types written by the XAdES versions and the signers in use.
SIGNED_PROPERTIES_TYPES = frozenset(
    {
        SIGNED_PROPERTIES,
        "http://uri.etsi.org/01903/v1.1.1#SignedProperties",
        "http://uri.etsi.org/01903/v1.2.2#SignedProperties",
        "http://uri.etsi.org/01903/v1.3.2#SignedProperties",
        "http://uri.etsi.org/01903/v1.3.2/XAdES.xsd#SignedProperties",
        "http://uri.etsi.org/01903/v1.1.1/XAdES.xsd#SignedProperties",
        "http://uri.etsi.org/01903/v1.2.2/XAdES.xsd#SignedProperties",
    }
)


class _UnsupportedError(Exception):
    """A canonicalisation this verifier cannot reproduce exactly (see ``_canonical``)."""

    def __init__(self, text_tr: str, text_en: str) -> None:
        super().__init__(text_en)
        self.text_tr, self.text_en = text_tr, text_en


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
    if method is None or method.get("Algorithm") not in _CANONICALISATIONS:
        name = (method.get("Algorithm") if method is not None else None) or "-"
        out.add(
            "sig-algorithm",
            f"Desteklenmeyen SignedInfo kanonikleştirmesi: {name}",
            f"Unsupported SignedInfo canonicalisation: {name}",
            method if method is not None else signed_info,
        )
    sig_method = signed_info.find(f"{{{DS}}}SignatureMethod")
    name = (sig_method.get("Algorithm") if sig_method is not None else None) or "-"
    if name not in _SIGNATURE_METHODS:
        out.add(
            "sig-algorithm",
            f"Desteklenmeyen imza algoritması: {name}",
            f"Unsupported signature algorithm: {name}",
            sig_method if sig_method is not None else signed_info,
        )
    elif isinstance(_SIGNATURE_METHODS[name][1], hashes.SHA1):
        _refuse_sha1(out, name, sig_method)
    references = signed_info.findall(f"{{{DS}}}Reference")
    whole = [r for r in references if r.get("URI") == ""]
    props = [r for r in references if r.get("Type") in SIGNED_PROPERTIES_TYPES]
    if not props:
        props = [r for r in references if r.get("URI") and _properties_of(signature, r)]
        for ref in props:
            out.add(
                "sig-reference-type",
                "SignedProperties referansının Type özniteliği XAdES'in tanımladığı değer değil",
                "The SignedProperties reference lacks the Type value XAdES defines",
                ref,
                Severity.WARNING,
            )
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


def _refuse_sha1(out: _Out, name: str, node: etree._Element | None) -> None:
    out.add(
        "sig-sha1",
        f"SHA-1 kullanılmış ({name}): GİB SHA-1 ile yapılmış imzaları kabul etmiyor",
        f"SHA-1 is used ({name}): GİB does not accept signatures made with SHA-1",
        node,
    )


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
    if not _digest_matches(signature, ref, root, out):
        out.add(
            "sig-digest",
            "Belge imzadan sonra değişmiş: özet tutmuyor (GİB 1177)",
            "The document changed after signing: its digest does not match (GİB 1177)",
            ref,
        )


def _properties_of(signature: etree._Element, ref: etree._Element) -> list[etree._Element]:
    """This signature's SignedProperties that the reference's ``#Id`` names."""
    uri = ref.get("URI") or ""
    target_id = uri[1:] if uri.startswith("#") else None
    return [
        p
        for p in signature.iterfind(
            f"{{{DS}}}Object/{{{XADES}}}QualifyingProperties/{{{XADES}}}SignedProperties"
        )
        if target_id is not None and p.get("Id") == target_id
    ]


def _check_properties_reference(signature: etree._Element, ref: etree._Element, out: _Out) -> None:
    props = _properties_of(signature, ref)
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
    if not _digest_matches(signature, ref, props[0], out):
        out.add(
            "sig-digest",
            "İmza özellikleri (SignedProperties) imzadan sonra değişmiş (GİB 1177)",
            "The signed properties changed after signing (GİB 1177)",
            props[0],
        )


def _digest_matches(
    signature: etree._Element, ref: etree._Element, target: etree._Element, out: _Out
) -> bool:
    """Whether the reference's digest holds; ``True`` as well when it cannot be computed (an
    unknown algorithm or transform), which has then been reported as ``sig-algorithm``."""
    method = ref.find(f"{{{DS}}}DigestMethod")
    name = (method.get("Algorithm") if method is not None else None) or "-"
    algorithm = _DIGESTS.get(name)
    if algorithm is None:
        out.add(
            "sig-algorithm",
            f"Bilinmeyen özet algoritması: {name}",
            f"Unknown digest algorithm: {name}",
            method if method is not None else ref,
        )
        return True
    if isinstance(algorithm, hashes.SHA1):
        _refuse_sha1(out, name, method)
    data = _reference_octets(signature, ref, target, out)
    if data is None:
        return True
    written = "".join((ref.findtext(f"{{{DS}}}DigestValue") or "").split())
    digest = base64.b64encode(hashlib.new(algorithm.name, data).digest()).decode()
    return digest == written


def _reference_octets(
    signature: etree._Element, ref: etree._Element, target: etree._Element, out: _Out
) -> bytes | None:
    """The octets a same-document reference digests: its node-set (comments excluded, as
    XML-DSig says for ``URI=""`` and ``#Id``) through its transforms, canonicalised by the
    last one or, when they leave a node-set, by inclusive C14N 1.0; ``None`` when a transform
    is not one XML-DSig's required or recommended set (reported)."""
    excluded: etree._Element | None = None
    method: _Canonicalisation | None = None
    prefixes: list[str] | None = None
    for transform in ref.iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform"):
        name = transform.get("Algorithm") or "-"
        if method is None and name == ENVELOPED:
            excluded = signature
        elif method is None and name in _CANONICALISATIONS:
            method, prefixes = _CANONICALISATIONS[name], _prefix_list(transform)
        else:
            out.add(
                "sig-algorithm",
                f"Desteklenmeyen dönüşüm (Transform) ya da dönüşüm sırası: {name}",
                f"Unsupported transform, or transform order: {name}",
                transform,
            )
            return None
    try:
        return _canonical(target, method or _DEFAULT_C14N, prefixes, excluded=excluded)
    except _UnsupportedError as exc:
        out.add("sig-algorithm", exc.text_tr, exc.text_en, ref)
        return None


def _prefix_list(method: etree._Element) -> list[str] | None:
    """The ``InclusiveNamespaces/@PrefixList`` of an exclusive canonicalisation
    (``#default`` names the default namespace; libxml2 reads it so)."""
    node = method.find(f"{{{_EXC}}}InclusiveNamespaces")
    if node is None:
        return None
    return (node.get("PrefixList") or "").split() or None


def _canonical(
    node: etree._Element,
    method: _Canonicalisation,
    prefixes: list[str] | None,
    *,
    excluded: etree._Element | None = None,
    comments: bool = False,
) -> bytes:
    """``node``'s subtree (the document, when it is the root), without ``excluded``'s subtree,
    canonicalised by ``method``; comments only when ``comments`` and the method keep them."""
    if excluded is not None and (
        excluded is node or any(a is excluded for a in node.iterancestors())
    ):
        return b""  # the enveloped transform removes the whole node-set
    if excluded is not None and not any(a is node for a in excluded.iterancestors()):
        excluded = None  # not inside: nothing to remove
    with removed(excluded):
        if method.exclusive and prefixes and "#default" in prefixes:
            node = _reparsed(node)
        subject: etree._Element | etree._ElementTree = (
            node.getroottree() if node.getparent() is None else node
        )
        with _inherited_xml_attributes(node, method):
            return etree.tostring(
                subject,
                method="c14n",
                exclusive=method.exclusive,
                with_comments=comments and method.comments,
                inclusive_ns_prefixes=prefixes if method.exclusive else None,
            )


def _reparsed(node: etree._Element) -> etree._Element:
    """``node`` in a fresh parse of its document, made in this thread after ``#default`` was
    put into the thread's parser dictionary.

    lxml hands libxml2 only those ``inclusive_ns_prefixes`` that its document's dictionary
    already holds, and ``#default`` (the PrefixList token for the default namespace) is never a
    name, so lxml would drop it silently. A namespace URI is a dictionary string, so parsing a
    declaration of it puts it there for every document this thread then parses.
    """
    from entegrator.documents import safe_xml

    steps = [
        a.index(c)
        for c, a in zip([node, *node.iterancestors()], node.iterancestors(), strict=False)
    ]
    safe_xml.parse(b'<a xmlns:d="#default"/>')
    found = safe_xml.parse(etree.tostring(node.getroottree()))
    for step in reversed(steps):
        found = found[step]
    return found


@contextmanager
def _inherited_xml_attributes(node: etree._Element, method: _Canonicalisation) -> Iterator[None]:
    """Inclusive canonicalisation of a subtree renders the ``xml:*`` attributes its ancestors
    pass down (C14N 1.0: all of them; 1.1: ``xml:lang`` and ``xml:space``, ``xml:base`` joined
    up). libxml2, through lxml, renders a subtree without them, so they are put on the apex for
    the time of the canonicalisation. C14N 1.1's ``xml:base`` fix-up is not reproduced: such a
    subtree is refused rather than given a verdict that may be wrong."""
    added: list[str] = []
    if not method.exclusive:
        for ancestor in node.iterancestors():
            for name, value in ancestor.attrib.items():
                if not str(name).startswith(f"{{{_XML_NS}}}") or name in node.attrib:
                    continue
                local = str(name).split("}", 1)[1]
                if method.version_11 and local == "id":
                    continue
                if method.version_11 and local == "base":
                    raise _UnsupportedError(
                        "C14N 1.1 ile xml:base taşıyan bir atanın altındaki bölüm "
                        "doğrulanamıyor (xml:base düzeltmesi desteklenmiyor)",
                        "A subtree below an ancestor with xml:base cannot be verified under "
                        "C14N 1.1 (its xml:base fix-up is not supported)",
                    )
                node.set(name, value)
                added.append(str(name))
    try:
        yield
    finally:
        for name in added:
            del node.attrib[name]


def _check_value(
    signature: etree._Element, signed_info: etree._Element, cert: x509.Certificate, out: _Out
) -> None:
    sig_method = signed_info.find(f"{{{DS}}}SignatureMethod")
    c14n_method = signed_info.find(f"{{{DS}}}CanonicalizationMethod")
    entry = _SIGNATURE_METHODS.get(
        sig_method.get("Algorithm", "") if sig_method is not None else ""
    )
    method = _CANONICALISATIONS.get(
        c14n_method.get("Algorithm", "") if c14n_method is not None else ""
    )
    if entry is None or method is None or c14n_method is None:
        return  # reported as sig-algorithm: there is nothing to verify the value with
    kind, algorithm = entry
    value_node = signature.find(f"{{{DS}}}SignatureValue")
    try:
        value = base64.b64decode(
            "".join((value_node.text or "").split()) if value_node is not None else ""
        )
    except ValueError:
        value = b""
    try:
        data = _canonical(signed_info, method, _prefix_list(c14n_method), comments=True)
    except _UnsupportedError as exc:
        out.add("sig-algorithm", exc.text_tr, exc.text_en, c14n_method)
        return
    key = cert.public_key()
    try:
        if kind == _RSA and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, padding.PKCS1v15(), algorithm)
        elif kind == _EC and isinstance(key, ec.EllipticCurvePublicKey):
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
        # The certificate's digest is made with the algorithm its CertDigest declares (any of
        # the reference digests; SHA-1 is refused there as everywhere).
        method = cert_node.find(f".//{{{DS}}}DigestMethod")
        name = (method.get("Algorithm") if method is not None else None) or "-"
        algorithm = _DIGESTS.get(name)
        if algorithm is None:
            out.add(
                "sig-algorithm",
                f"Bilinmeyen özet algoritması: {name}",
                f"Unknown digest algorithm: {name}",
                method if method is not None else cert_node,
            )
        elif isinstance(algorithm, hashes.SHA1):
            _refuse_sha1(out, name, method)
        expected = (
            base64.b64encode(hashlib.new(algorithm.name, der).digest()).decode()
            if algorithm is not None
            else digest
        )
        if digest != expected or serial != str(cert.serial_number):
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
