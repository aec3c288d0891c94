"""Signatures in every variant XML-DSig allows, made by libxmlsec1 (``xmlsec1 --sign``) from a
signature of our own rewritten into a template: canonicalisations, digests, keys, Type values,
certificate digests. The verifier's parity tests and the end-to-end delivery tests share them."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from lxml import etree

from entegrator.signing import SigningKey, sign
from entegrator.signing.verify import SIGNED_PROPERTIES_TYPES
from tests.signing import xmlsec1

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
C14N10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
MORE = "http://www.w3.org/2001/04/xmldsig-more#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA384 = f"{MORE}sha384"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
SHA1 = f"{DS}sha1"
XML = "http://www.w3.org/XML/1998/namespace"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"


@dataclass(frozen=True)
class Variant:
    """How a signature made with our own ``sign`` is rewritten into an xmlsec1 template."""

    c14n: str = C14N10
    c14n_prefixes: str | None = None
    signature_method: str = f"{MORE}rsa-sha256"
    digest: str = SHA256
    key_type: str = "rsa"
    doc_transforms: tuple[str, ...] = (ENVELOPED,)
    props_transforms: tuple[str, ...] = ()
    props_prefixes: str | None = None
    props_type: str | None = "http://uri.etsi.org/01903#SignedProperties"
    comments: bool = False  # comments inside the document, SignedInfo and SignedProperties
    root_xml: tuple[tuple[str, str], ...] = ()  # xml:* attributes on the document element
    cert_digest: str | None = None  # SigningCertificate's CertDigest made with this algorithm
    expected: tuple[str, ...] = field(default=())  # our codes, beyond the cryptography


VARIANTS = {
    "exclusive": Variant(c14n=EXC, props_transforms=(EXC,)),
    "exclusive-comments-prefixlist": Variant(
        c14n=f"{EXC}WithComments",
        c14n_prefixes="#default cac xades",
        props_transforms=(f"{EXC}WithComments",),
        props_prefixes="ds cbc",
        comments=True,
    ),
    "inclusive-comments": Variant(c14n=f"{C14N10}#WithComments", comments=True),
    "c14n11": Variant(c14n=C14N11, props_transforms=(C14N11,)),
    "c14n11-comments": Variant(c14n=f"{C14N11}#WithComments", comments=True),
    "no-transform-on-properties": Variant(props_transforms=()),
    "inclusive-transform-on-properties": Variant(props_transforms=(C14N10,)),
    "sha384": Variant(signature_method=f"{MORE}rsa-sha384", digest=SHA384),
    "sha512": Variant(signature_method=f"{MORE}rsa-sha512", digest=SHA512),
    "ecdsa-sha256": Variant(signature_method=f"{MORE}ecdsa-sha256", key_type="ec"),
    "ecdsa-sha384": Variant(signature_method=f"{MORE}ecdsa-sha384", digest=SHA384, key_type="ec"),
    "ecdsa-sha512": Variant(signature_method=f"{MORE}ecdsa-sha512", digest=SHA512, key_type="ec"),
    # GİB allows one Transform on the document reference; the digest is still what it is.
    "document-c14n-with-comments-transform": Variant(
        doc_transforms=(ENVELOPED, f"{C14N10}#WithComments"),
        comments=True,
        expected=("sig-transform",),
    ),
    "document-exclusive-transform": Variant(
        c14n=EXC, doc_transforms=(ENVELOPED, EXC), expected=("sig-transform",)
    ),
    # Verifies everywhere, refused by GİB's policy: accounted for, not hidden.
    "rsa-sha1": Variant(
        signature_method=f"{DS}rsa-sha1", digest=SHA1, expected=("sig-sha1", "sig-sha1", "sig-sha1")
    ),
    **{
        f"type-{type_.split('//', 1)[1]}": Variant(props_type=type_)
        for type_ in sorted(SIGNED_PROPERTIES_TYPES)
    },
    # xml:* attributes the signed subtrees inherit: all in C14N 1.0, xml:lang/space in 1.1,
    # none in exclusive C14N.
    "xml-attributes-c14n10": Variant(root_xml=(("lang", "tr"), ("id", "belge"), ("base", "a/"))),
    "xml-attributes-c14n11": Variant(
        c14n=C14N11, props_transforms=(C14N11,), root_xml=(("lang", "tr"), ("id", "belge"))
    ),
    "xml-attributes-exclusive": Variant(
        c14n=EXC, props_transforms=(EXC,), root_xml=(("lang", "tr"), ("base", "a/"))
    ),
    "untyped-properties-reference": Variant(props_type=None, expected=("sig-reference-type",)),
    # The certificate's digest is made with the algorithm its CertDigest declares.
    "cert-digest-sha384": Variant(cert_digest=SHA384),
    "cert-digest-sha512": Variant(cert_digest=SHA512),
    "cert-digest-sha1": Variant(cert_digest=SHA1, expected=("sig-sha1",)),
}

_HASHES = {SHA1: "sha1", SHA256: "sha256", SHA384: "sha384", SHA512: "sha512"}


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{DS}}}{tag}", attrs)


def _transforms(ref: etree._Element, algorithms: tuple[str, ...], prefixes: str | None) -> None:
    old = ref.find(f"{{{DS}}}Transforms")
    if old is not None:
        ref.remove(old)
    if not algorithms:
        return
    transforms = etree.Element(f"{{{DS}}}Transforms")
    ref.insert(0, transforms)
    for algorithm in algorithms:
        transform = _sub(transforms, "Transform", Algorithm=algorithm)
        if prefixes and algorithm.startswith(EXC):
            etree.SubElement(transform, f"{{{EXC}}}InclusiveNamespaces", PrefixList=prefixes)
        if algorithm == XPATH:
            _sub(transform, "XPath").text = "not(ancestor-or-self::ds:Signature)"


def template(signed: bytes, variant: Variant) -> bytes:
    """Our signature rewritten to the variant, its digests and value emptied for xmlsec1."""
    root = etree.fromstring(signed)
    signature = root.find(f".//{{{DS}}}Signature")
    assert signature is not None
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    assert signed_info is not None
    method = signed_info.find(f"{{{DS}}}CanonicalizationMethod")
    assert method is not None
    method.set("Algorithm", variant.c14n)
    if variant.c14n_prefixes:
        etree.SubElement(method, f"{{{EXC}}}InclusiveNamespaces", PrefixList=variant.c14n_prefixes)
    sig_method = signed_info.find(f"{{{DS}}}SignatureMethod")
    assert sig_method is not None
    sig_method.set("Algorithm", variant.signature_method)
    doc_ref, props_ref = signed_info.findall(f"{{{DS}}}Reference")
    _transforms(doc_ref, variant.doc_transforms, None)
    _transforms(props_ref, variant.props_transforms, variant.props_prefixes)
    if variant.props_type is None:
        del props_ref.attrib["Type"]
    else:
        props_ref.set("Type", variant.props_type)
    for ref in (doc_ref, props_ref):
        digest_method = ref.find(f"{{{DS}}}DigestMethod")
        assert digest_method is not None
        digest_method.set("Algorithm", variant.digest)
        value = ref.find(f"{{{DS}}}DigestValue")
        assert value is not None
        value.text = ""
    value_node = signature.find(f"{{{DS}}}SignatureValue")
    assert value_node is not None
    value_node.text = ""
    if variant.comments:
        signed_info.insert(2, etree.Comment(" imza bilgisi "))
        props = signature.find(f".//{{{XADES}}}SignedProperties")
        assert props is not None
        props.insert(0, etree.Comment(" imza özellikleri "))
        root.insert(len(root) - 1, etree.Comment(" belge notu "))
    for name, text in variant.root_xml:
        root.set(f"{{{XML}}}{name}", text)
    if variant.cert_digest is not None:
        der = base64.b64decode(signature.findtext(f".//{{{DS}}}X509Certificate") or "")
        cert_digest = signature.find(f".//{{{XADES}}}SigningCertificate//{{{XADES}}}CertDigest")
        assert cert_digest is not None
        cert_method = cert_digest.find(f"{{{DS}}}DigestMethod")
        cert_value = cert_digest.find(f"{{{DS}}}DigestValue")
        assert cert_method is not None and cert_value is not None
        cert_method.set("Algorithm", variant.cert_digest)
        made = hashlib.new(_HASHES[variant.cert_digest], der).digest()
        cert_value.text = base64.b64encode(made).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def xmlsec1_sign(
    xml: bytes,
    seal: SigningKey,
    variant: Variant,
    folder: Path,
    *,
    now: dt.datetime,
    on_behalf: bool = False,
) -> bytes:
    """``xml`` signed by xmlsec1 with ``seal``'s key in ``variant`` (our ``sign`` makes the
    template; ``on_behalf``: the seal is an integrator's, signing for the issuer)."""
    key_pem = folder / "key.pem"
    key_pem.write_bytes(
        seal.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    source, out = folder / "template.xml", folder / "signed.xml"
    signed = sign(xml, seal, signing_time=now, on_behalf=on_behalf)
    source.write_bytes(template(signed, variant))
    xmlsec1.sign_file(source, key_pem, out)
    return out.read_bytes()
