"""XAdES-BES signing and verification: GİB's profile, an independent verifier, attacks."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from efatura_kontrol.kontrol import kontrol_et
from lxml import etree

from entegrator.rules import Source, Validator
from entegrator.signing import (
    CertificateError,
    KeyFileError,
    NotSignableError,
    SigningKey,
    TestCA,
    load_pkcs12,
    sign,
    verify,
)
from entegrator.signing.certs import to_pkcs12
from tests.clock import now, validation_settings

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
KEY_TYPES = ["rsa", "ec"]


def _codes(xml: bytes, ca: TestCA) -> list[str]:
    return sorted(f.code for f in verify(xml, trust=[ca.certificate]))


def _xmlsec_verify(xml: bytes) -> None:
    """libxmlsec1 (the library behind the xmlsec1 command), keyed from the document's cert."""
    root = etree.fromstring(xml)
    signature = root.find(f".//{{{DS}}}Signature")
    assert signature is not None
    xmlsec.tree.add_ids(root, ["Id"])
    cert = "".join((signature.findtext(f".//{{{DS}}}X509Certificate") or "").split())
    pem = b"-----BEGIN CERTIFICATE-----\n" + cert.encode() + b"\n-----END CERTIFICATE-----\n"
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatCertPem)
    ctx.verify(signature)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_signed_invoices_verify_everywhere(
    key_type: str,
    invoices: list[bytes],
    seal_for: Callable[[bytes, str], SigningKey],
    ca: TestCA,
) -> None:
    for xml in invoices[:6]:
        signed = sign(xml, seal_for(xml, key_type), signing_time=now())
        assert _codes(signed, ca) == []
        _xmlsec_verify(signed)  # an independent implementation agrees
        peer = kontrol_et(signed)
        assert peer.gecerli, [b.kod for b in peer.bulgular]
        assert [b.kod for b in peer.bulgular if b.kaynak == "imza"] == ["imza-var"]
        report = Validator(settings=validation_settings()).validate(signed)
        assert report.valid and not [f for f in report.findings if f.source is Source.SIGNATURE]


def test_signature_follows_gibs_profile(
    invoices: list[bytes], seal_for: Callable[[bytes, str], SigningKey]
) -> None:
    xml = invoices[0]
    root = etree.fromstring(sign(xml, seal_for(xml, "rsa"), signing_time=now()))
    sig = root.find(f"{{*}}UBLExtensions/{{*}}UBLExtension/{{*}}ExtensionContent/{{{DS}}}Signature")
    assert sig is not None
    refs = sig.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    assert refs[0].get("URI") == ""
    assert len(refs[0].findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")) == 1
    assert refs[1].get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    uri = root.findtext(".//{*}DigitalSignatureAttachment/{*}ExternalReference/{*}URI")
    assert uri == "#" + str(sig.get("Id"))
    signing_time = sig.findtext(f".//{{{XADES}}}SigningTime") or ""
    assert signing_time.endswith("+03:00")
    cert_digest = f".//{{{XADES}}}SigningCertificate/{{{XADES}}}Cert/{{{XADES}}}CertDigest"
    assert sig.find(cert_digest) is not None


def test_despatch_advice_from_the_corpus(corpus: Path, ca: TestCA) -> None:
    xml = (corpus / "irsaliye.xml").read_bytes()
    from entegrator.documents import safe_xml
    from entegrator.signing.xades import issuer_identity

    identity = issuer_identity(safe_xml.parse(xml))
    assert identity
    seal = ca.issue(identity=identity, name="Sevk Eden", key_type="ec", now=now())
    try:
        signed = sign(xml, seal, signing_time=now())
    except NotSignableError:
        pytest.skip("the corpus despatch advice has no extension slot to sign into")
    assert _codes(signed, ca) == []
    _xmlsec_verify(signed)


# --- attacks and mistakes -----------------------------------------------------------------


@pytest.fixture(scope="module")
def signed(invoices: list[bytes], seal_for: Callable[[bytes, str], SigningKey]) -> bytes:
    return sign(invoices[1], seal_for(invoices[1], "rsa"), signing_time=now())


def test_any_changed_byte_of_content_is_detected(signed: bytes, ca: TestCA) -> None:
    amount = re.search(rb'(<cbc:PayableAmount currencyID="\w+">)([0-9.]+)<', signed)
    assert amount is not None
    tampered = signed.replace(amount.group(0), amount.group(1) + b"9" + amount.group(2) + b"<", 1)
    assert "sig-digest" in _codes(tampered, ca)
    with pytest.raises(xmlsec.Error):
        _xmlsec_verify(tampered)


def test_changed_signing_time_is_detected(signed: bytes, ca: TestCA) -> None:
    tampered = re.sub(rb"(<xades:SigningTime>)(\d{4})", rb"\g<1>2001", signed, count=1)
    assert tampered != signed
    assert "sig-digest" in _codes(tampered, ca)


def test_changed_signature_value_is_detected(signed: bytes, ca: TestCA) -> None:
    match = re.search(rb"<ds:SignatureValue>([^<]+)<", signed)
    assert match is not None
    raw = bytearray(base64.b64decode(match.group(1)))
    raw[10] ^= 0xFF
    tampered = signed.replace(match.group(1), base64.b64encode(bytes(raw)), 1)
    assert "sig-value" in _codes(tampered, ca)


def test_swapped_certificate_is_detected(signed: bytes, ca: TestCA) -> None:
    other = ca.issue(identity="1460415308", name="Başka", now=now())
    der = other.certificate.public_bytes(serialization.Encoding.DER)
    tampered = re.sub(
        rb"<ds:X509Certificate>[^<]+<",
        b"<ds:X509Certificate>" + base64.b64encode(der) + b"<",
        signed,
        count=1,
    )
    codes = _codes(tampered, ca)
    assert {"sig-value", "sig-certificate", "sig-identity"} <= set(codes)


def test_untrusted_issuer_is_detected(signed: bytes) -> None:
    stranger = TestCA.create("Başka SM", now=now())
    codes = sorted(f.code for f in verify(signed, trust=[stranger.certificate]))
    assert codes == ["sig-untrusted"]


def test_signature_wrapping_is_detected(signed: bytes, ca: TestCA) -> None:
    root = etree.fromstring(signed)
    sig = root.find(f".//{{{DS}}}Signature")
    assert sig is not None
    # A second, copied signature elsewhere in the document.
    twice = etree.fromstring(signed)
    note = twice.find("{*}Note")
    holder = note if note is not None else twice.find("{*}AccountingSupplierParty")
    assert holder is not None
    holder.append(etree.fromstring(etree.tostring(sig)))
    assert "sig-count" in _codes(etree.tostring(twice), ca)
    # The signature moved out of its slot.
    moved = etree.fromstring(signed)
    moved_sig = moved.find(f".//{{{DS}}}Signature")
    assert moved_sig is not None
    moved.append(moved_sig)
    assert "sig-location" in _codes(etree.tostring(moved), ca)
    # A duplicated Id (a decoy SignedProperties the reference could be resolved to).
    decoy = etree.fromstring(signed)
    props = decoy.find(f".//{{{XADES}}}SignedProperties")
    assert props is not None
    extra = etree.SubElement(decoy, "Decoy", Id=str(props.get("Id")))
    extra.text = "x"
    assert "sig-duplicate-id" in _codes(etree.tostring(decoy), ca)


def test_two_transforms_break_gibs_rule(signed: bytes, ca: TestCA) -> None:
    tampered = signed.replace(
        b'<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>',
        b'<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        b'<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>',
        1,
    )
    assert tampered != signed
    assert "sig-transform" in _codes(tampered, ca)
    codes = Validator(settings=validation_settings()).validate(tampered).codes()
    assert "sch-TransformCountCheck-1" in codes and "sig-transform" in codes


def test_validator_reports_signature_findings(signed: bytes, ca: TestCA) -> None:
    amount = re.search(rb'(<cbc:LineExtensionAmount currencyID="\w+">)([0-9.]+)<', signed)
    assert amount is not None
    tampered = signed.replace(amount.group(0), amount.group(1) + b"1" + amount.group(2) + b"<", 1)
    report = Validator(settings=validation_settings(trust=(ca.certificate,))).validate(tampered)
    assert not report.valid
    assert any(f.code == "sig-digest" and f.source is Source.SIGNATURE for f in report.findings)


# --- refusals before signing --------------------------------------------------------------


def test_wrong_vkn_expired_and_future_certificates_are_refused(
    invoices: list[bytes], ca: TestCA
) -> None:
    xml = invoices[0]
    with pytest.raises(CertificateError) as wrong:
        sign(xml, ca.issue(identity="1460415308", name="Başka", now=now()), signing_time=now())
    assert "1460415308" in wrong.value.text_en
    from entegrator.documents import safe_xml
    from entegrator.signing.xades import issuer_identity

    identity = issuer_identity(safe_xml.parse(xml))
    assert identity
    moment = now()
    expired = ca.issue(
        identity=identity,
        name="Eski",
        not_before=moment - dt.timedelta(days=800),
        not_after=moment - dt.timedelta(days=1),
        now=moment,
    )
    with pytest.raises(CertificateError, match="expired"):
        sign(xml, expired, signing_time=moment)
    future = ca.issue(
        identity=identity, name="Yeni", not_before=moment + dt.timedelta(days=2), now=moment
    )
    with pytest.raises(CertificateError, match="not valid before"):
        sign(xml, future, signing_time=moment)


def test_signing_twice_is_refused(signed: bytes, invoices: list[bytes], seal_for) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotSignableError):
        sign(signed, seal_for(invoices[1], "rsa"), signing_time=now())


def test_pkcs12_round_trip_and_wrong_password(ca: TestCA) -> None:
    seal = ca.issue(identity="9876543217", name="P12", key_type="ec", now=now())
    data = to_pkcs12(seal, b"gizli")
    loaded = load_pkcs12(data, b"gizli")
    assert loaded.identity == "9876543217"
    assert loaded.chain and loaded.chain[0] == ca.certificate
    with pytest.raises(KeyFileError):
        load_pkcs12(data, b"yanlis")
    with pytest.raises(KeyFileError):
        load_pkcs12(b"not a p12", b"gizli")


def test_prolog_outside_the_root_is_not_signed(corpus: Path, ca: TestCA) -> None:
    xml = (corpus / "temel_fatura.xml").read_bytes()
    assert b"<?xml-stylesheet" in xml
    from entegrator.documents import safe_xml
    from entegrator.signing.xades import issuer_identity

    identity = issuer_identity(safe_xml.parse(xml))
    assert identity
    signed = sign(xml, ca.issue(identity=identity, name="Corpus", now=now()), signing_time=now())
    assert b"<?xml-stylesheet" not in signed  # what is signed is what an envelope carries
    assert _codes(signed, ca) == []
    _xmlsec_verify(signed)


@pytest.mark.parametrize("kind", ["application-response", "receipt-advice"])
@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_responses_sign_verify_and_travel(kind: str, key_type: str, ca: TestCA) -> None:
    from entegrator.envelope import EnvelopeType, build, pack, unpack
    from tests.signing.templates import application_response, receipt_advice

    buyer, supplier = "1234567890", "9876543217"
    if kind == "application-response":
        document = application_response(buyer, supplier, "6f1e3c1a-2b7d-4c61-9a43-8e2f0b9c7d15")
    else:
        document = receipt_advice(buyer, supplier)
    signed = sign(
        document,
        ca.issue(identity=buyer, name="Alıcı A.Ş.", key_type=key_type, now=now()),
        signing_time=now(),
    )
    assert _codes(signed, ca) == []
    _xmlsec_verify(signed)
    assert kontrol_et(signed).gecerli
    report = Validator(settings=validation_settings()).validate(signed)
    assert report.valid, report.codes()
    envelope = build(
        [signed],
        sender_alias="urn:mail:defaultpk@alici.example",
        receiver_alias="urn:mail:defaultgb@satici.example",
        type=EnvelopeType.POSTBOXENVELOPE,
        created=now(),
    )
    opened, xml = unpack(pack(envelope).data)
    assert opened.sender.identity == buyer and opened.receiver.identity == supplier
    assert _codes(opened.documents[0], ca) == []
    assert Validator(settings=validation_settings()).validate(xml).valid


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_earsiv_report_is_signed_by_its_preparer(key_type: str, ca: TestCA) -> None:
    from tests.signing.templates import earsiv_report

    integrator, taxpayer = "9876543217", "1234567890"
    report = earsiv_report(integrator, taxpayer)
    with pytest.raises(CertificateError):
        sign(report, ca.issue(identity=taxpayer, name="Mükellef", now=now()), signing_time=now())
    signed = sign(
        report,
        ca.issue(identity=integrator, name="Entegratör", key_type=key_type, now=now()),
        signing_time=now(),
    )
    root = etree.fromstring(signed)
    baslik = root.find("{http://earsiv.efatura.gov.tr}baslik")
    assert baslik is not None and baslik[-1].tag == f"{{{DS}}}Signature"
    assert _codes(signed, ca) == []
    _xmlsec_verify(signed)
    tampered = signed.replace(b"<odenecekTutar>120.00", b"<odenecekTutar>12.00", 1)
    assert "sig-digest" in _codes(tampered, ca)


def test_sign_tree_signs_the_callers_tree(
    invoices: list[bytes], seal_for: Callable[[bytes, str], SigningKey], ca: TestCA
) -> None:
    from entegrator.documents import safe_xml
    from entegrator.signing import sign_tree

    xml = invoices[2]
    signed = sign_tree(safe_xml.parse(xml), seal_for(xml, "rsa"), signing_time=now())
    assert _codes(signed, ca) == []
    _xmlsec_verify(signed)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_user_account_message_signed_and_sent_to_gib(key_type: str, ca: TestCA) -> None:
    from entegrator.envelope import EnvelopeError, EnvelopeType, build, pack, unpack
    from tests.signing.templates import process_user_account

    integrator = "9876543217"
    message = process_user_account(integrator, "1234567890")
    signed = sign(
        message,
        ca.issue(identity=integrator, name="Entegratör", key_type=key_type, now=now()),
        signing_time=now(),
    )
    slot = etree.fromstring(signed).find(
        "{http://www.openapplications.org/oagis/9}ApplicationArea/"
        "{http://www.openapplications.org/oagis/9}Signature"
    )
    assert slot is not None and slot[0].tag == f"{{{DS}}}Signature"
    assert _codes(signed, ca) == []
    _xmlsec_verify(signed)
    envelope = build(
        [signed],
        sender_alias="usergb",
        receiver_alias="GIB",
        type=EnvelopeType.USERENVELOPE,
        created=now(),
    )
    assert envelope.sender.identity == integrator and envelope.receiver.identity == "3900383669"
    opened, _xml = unpack(pack(envelope).data)
    assert opened.groups[0].element_type == "PROCESSUSERACCOUNT"
    assert _codes(opened.documents[0], ca) == []
    with pytest.raises(EnvelopeError):
        build(
            [signed], sender_alias="usergb", receiver_alias="GIB", created=now()
        )  # not a SENDERENVELOPE


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_the_xmlsec1_command_verifies_and_refuses(
    key_type: str,
    invoices: list[bytes],
    seal_for: Callable[[bytes, str], SigningKey],
    ca: TestCA,
    tmp_path: Path,
) -> None:
    """``xmlsec1 --verify`` (Debian's package, installed by ``make test``) with the test CA."""
    import shutil
    import subprocess

    tool = shutil.which("xmlsec1")
    assert tool, "xmlsec1 is not installed: run make test (it installs Debian's xmlsec1)"
    ca_pem = tmp_path / "ca.pem"
    ca_pem.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    signed = sign(invoices[3], seal_for(invoices[3], key_type), signing_time=now())
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(signed)
    bad.write_bytes(signed.replace(b"</cbc:Name>", b"X</cbc:Name>", 1))
    command = [tool, "--verify", "--id-attr:Id", f"{XADES}:SignedProperties", "--trusted-pem"]
    ok = subprocess.run(
        [*command, str(ca_pem), str(good)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert "References (ok/all): 2/2" in ok.stderr
    refused = subprocess.run(
        [*command, str(ca_pem), str(bad)], capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0


def test_validate_then_sign_the_same_tree(
    invoices: list[bytes], seal_for: Callable[[bytes, str], SigningKey], ca: TestCA
) -> None:
    from entegrator.signing import sign_tree

    xml = invoices[4]
    before = etree.tostring(etree.fromstring(xml), method="c14n")
    report, root = Validator(settings=validation_settings()).validate_parsed(xml)
    assert report.valid and root is not None
    assert etree.tostring(root, method="c14n") == before  # validation did not touch the tree
    signed = sign_tree(root, seal_for(xml, "ec"), signing_time=now())
    assert _codes(signed, ca) == []
    assert Validator(settings=validation_settings()).validate(signed).valid


def test_damaged_signatures_give_findings_not_crashes(
    invoices: list[bytes], seal_for: Callable[[bytes, str], SigningKey], ca: TestCA
) -> None:
    """Every part of a signature replaced by junk or removed: findings, never an exception."""
    signed = sign(invoices[0], seal_for(invoices[0], "ec"), signing_time=now())
    root = etree.fromstring(signed)
    sig = root.find(f".//{{{DS}}}Signature")
    assert sig is not None
    count = len(list(sig.iter(etree.Element)))
    protected = {
        f"{{{DS}}}SignedInfo",
        f"{{{XADES}}}SignedProperties",
        f"{{{DS}}}SignatureValue",
        f"{{{DS}}}X509Certificate",
    }
    for index in range(1, count):
        for action in ("junk", "remove", "empty-attrs"):
            doc = etree.fromstring(signed)
            doc_sig = doc.find(f".//{{{DS}}}Signature")
            assert doc_sig is not None
            node = list(doc_sig.iter(etree.Element))[index]
            path = node.tag
            inside = any(el.tag in protected for el in [node, *node.iterancestors()])
            holds = any(el.tag in protected for el in node.iter())
            if action == "junk":
                node.text = "!!not base64 nor a date nor a number!!"
            elif action == "remove":
                parent = node.getparent()
                assert parent is not None
                parent.remove(node)
            else:
                for key in list(node.attrib):
                    node.set(key, "")
            damaged = etree.tostring(doc)
            if damaged == etree.tostring(etree.fromstring(signed)):
                continue  # nothing to damage (an element without attributes)
            findings = verify(damaged, trust=[ca.certificate])  # never raises
            assert all(f.code.startswith("sig-") for f in findings)
            covered = inside or (action == "remove" and holds)
            if covered:  # signed, or what the signature check needs: damage is reported
                assert findings, (path, action)
