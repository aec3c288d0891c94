"""The document service's SOAP messages, both versions, inline base64 and MTOM, faults."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from entegrator.gib.soap import (
    SOAP11,
    SOAP12,
    DocumentResponse,
    GetAppResp,
    GetAppRespResponse,
    GibFaultError,
    SendDocument,
    SoapActionError,
    SoapError,
    build,
    build_fault,
    parse_request,
    parse_response,
    requested_action,
)
from tests.testing.gib_packages import assert_contract, soap_payload, wsdl_operations, wsdl_schema

ZIP = b"PK\x03\x04" + os.urandom(5000)
NAME = "0bd6b1a3-0f5c-4a56-8d2a-6b0f8b9b7c11.zip"


@pytest.mark.parametrize("version", [SOAP11, SOAP12])
@pytest.mark.parametrize("mtom", [False, True])
def test_send_document_both_ways(version: str, mtom: bool) -> None:
    request = SendDocument(NAME, ZIP, hashlib.md5(ZIP).hexdigest())
    content_type, body = build(request, version=version, mtom=mtom)
    assert content_type.startswith(
        "multipart/related"
        if mtom
        else ("text/xml" if version == SOAP11 else "application/soap+xml")
    )
    assert parse_request(content_type, body) == request
    if mtom:
        assert ZIP in body  # raw bytes, not base64


@pytest.mark.parametrize("version", [SOAP11, SOAP12])
def test_responses_and_faults(version: str) -> None:
    ok = DocumentResponse("Döküman GIB tarafından alındı.", "ab12")
    assert parse_response(*build(ok, version=version)) == ok
    status = GetAppRespResponse("<ApplicationResponse>…</ApplicationResponse>")
    assert parse_response(*build(status, version=version)) == status
    assert parse_request(*build(GetAppResp("0bd6b1a3"), version=version)) == GetAppResp("0bd6b1a3")
    with pytest.raises(GibFaultError) as caught:
        parse_response(*build_fault(2000, "Özet değerleri farklı", version=version))
    assert caught.value.fault_code == 2000
    assert caught.value.msg == "Özet değerleri farklı"


def test_a_foreign_client_with_qualified_fields_is_understood() -> None:
    body = f"""<?xml version="1.0"?>
<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:ef="http://gib.gov.tr/vedop3/eFatura">
 <soapenv:Header/><soapenv:Body><ef:documentRequest><ef:fileName>{NAME}</ef:fileName>
 <ef:binaryData>UEsD
 BA==</ef:binaryData><ef:hash>x</ef:hash></ef:documentRequest></soapenv:Body>
</soapenv:Envelope>""".encode()
    parsed = parse_request("text/xml", body)
    assert isinstance(parsed, SendDocument)
    assert parsed.data == b"PK\x03\x04"


@pytest.mark.parametrize(
    "body",
    [
        b"<notsoap/>",
        b"not xml at all",
        f'<s:Envelope xmlns:s="{SOAP12}"><s:Body/></s:Envelope>'.encode(),
        f'<s:Envelope xmlns:s="{SOAP12}"><s:Body><x:other xmlns:x="urn:x"/></s:Body>'
        f"</s:Envelope>".encode(),
        f'<s:Envelope xmlns:s="{SOAP12}"><s:Body><documentRequest><fileName>a</fileName>'
        f"<binaryData>%%%</binaryData></documentRequest></s:Body></s:Envelope>".encode(),
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    ],
)
def test_bad_requests_are_soap_errors(body: bytes) -> None:
    with pytest.raises(SoapError):
        parse_request("application/soap+xml", body)


def test_an_mtom_reference_to_a_missing_part_is_an_error() -> None:
    content_type, body = build(SendDocument(NAME, ZIP, "x"), mtom=True)
    broken = body.replace(b"cid:binaryData@entegrator", b"cid:missing@x")
    with pytest.raises(SoapError, match="MTOM"):
        parse_request(content_type, broken)


# -- GİB's contract: the WSDL of e-FaturaPaketi.zip ----------------------------------------------

REQUESTS: dict[str, SendDocument | GetAppResp] = {
    "sendDocument": SendDocument(NAME, ZIP, hashlib.md5(ZIP).hexdigest()),
    "getApplicationResponse": GetAppResp("0bd6b1a3-0f5c-4a56-8d2a-6b0f8b9b7c11"),
}
RESPONSES: dict[str, DocumentResponse | GetAppRespResponse] = {
    "sendDocument": DocumentResponse(
        "Döküman GIB tarafından alındı.", hashlib.md5(ZIP).hexdigest()
    ),
    "getApplicationResponse": GetAppRespResponse("<ApplicationResponse>…</ApplicationResponse>"),
}


@pytest.mark.parametrize("mtom", [False, True])
def test_requests_name_the_soap_action_of_the_wsdls_binding(gib_packages: Path, mtom: bool) -> None:
    operations = wsdl_operations(gib_packages)
    assert sorted(operations) == sorted(REQUESTS)
    for name, operation in operations.items():
        content_type, body = build(REQUESTS[name], mtom=mtom)
        assert requested_action(content_type) == operation.action
        if not mtom or name == "getApplicationResponse":  # MTOM only carries a binary
            assert content_type == (
                f'application/soap+xml; charset=utf-8; action="{operation.action}"'
            )
        else:
            assert f'start-info="application/soap+xml; action=\\"{operation.action}\\""' in (
                content_type
            )
        assert soap_payload(content_type, body).tag == operation.input
        assert parse_request(content_type, body) == REQUESTS[name]
    for response in RESPONSES.values():  # an action belongs to requests only
        assert requested_action(build(response)[0]) is None


@pytest.mark.parametrize("version", [SOAP11, SOAP12])
@pytest.mark.parametrize("mtom", [False, True])
def test_every_message_validates_against_the_wsdls_schema(
    gib_packages: Path, version: str, mtom: bool
) -> None:
    schema = wsdl_schema(gib_packages)
    validated = 0
    for name, operation in wsdl_operations(gib_packages).items():
        assert_contract(schema, *build(REQUESTS[name], version=version, mtom=mtom), operation.input)
        assert_contract(schema, *build(RESPONSES[name], version=version), operation.output)
        for sender in (False, True):
            fault = build_fault(2000, "Özet değerleri farklı", version=version, sender=sender)
            assert_contract(schema, *fault, operation.fault)
        validated += 4
    assert validated == 8


def test_the_wsdls_schema_refuses_what_the_contract_does_not_allow(gib_packages: Path) -> None:
    schema = wsdl_schema(gib_packages)
    _, body = build(REQUESTS["sendDocument"])
    qualified = body.replace(b"<fileName>", b"<ef:fileName>").replace(
        b"</fileName>", b"</ef:fileName>"
    )
    assert not schema.validate(soap_payload("application/soap+xml", qualified))
    _, fault = build_fault(2000, "x")
    assert not schema.validate(soap_payload("application/soap+xml", fault.replace(b"2000", b"x")))


@pytest.mark.parametrize(
    ("content_type", "soap_action"),
    [
        ('application/soap+xml; charset=utf-8; action="getApplicationResponse"', None),
        ("application/soap+xml;action=urn:x:getApplicationResponse", None),
        ('application/soap+xml; action="somethingElse"', None),
        ("text/xml; charset=utf-8", '"getApplicationResponse"'),
    ],
)
def test_an_action_naming_another_operation_is_refused(
    content_type: str, soap_action: str | None
) -> None:
    _, body = build(REQUESTS["sendDocument"])
    with pytest.raises(SoapActionError) as caught:
        parse_request(content_type, body, soap_action=soap_action)
    assert caught.value.code == "SOAP_ACTION_MISMATCH"
    assert "sendDocument" in caught.value.text_en and "sendDocument" in caught.value.text_tr


def test_an_mtom_request_with_the_wrong_action_in_its_start_info_is_refused() -> None:
    content_type, body = build(REQUESTS["sendDocument"], mtom=True)
    wrong = content_type.replace('\\"sendDocument\\"', '\\"getApplicationResponse\\"')
    assert wrong != content_type
    with pytest.raises(SoapActionError):
        parse_request(wrong, body)


@pytest.mark.parametrize(
    ("content_type", "soap_action"),
    [
        ("application/soap+xml; charset=utf-8", None),  # none named: taken from others
        ('application/soap+xml; action="sendDocument"', None),
        ('application/soap+xml; action="http://gib.gov.tr/vedop3/eFatura/sendDocument"', None),
        ("text/xml", '""'),  # SOAP 1.1's empty SOAPAction names nothing
        ("text/xml", "sendDocument"),
    ],
)
def test_a_request_without_an_action_or_with_its_own_is_taken(
    content_type: str, soap_action: str | None
) -> None:
    _, body = build(REQUESTS["sendDocument"])
    assert parse_request(content_type, body, soap_action=soap_action) == REQUESTS["sendDocument"]
