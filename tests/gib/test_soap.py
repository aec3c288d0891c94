"""The document service's SOAP messages, both versions, inline base64 and MTOM, faults."""

from __future__ import annotations

import hashlib
import os

import pytest

from entegrator.gib.soap import (
    SOAP11,
    SOAP12,
    DocumentResponse,
    GetAppResp,
    GetAppRespResponse,
    GibFaultError,
    SendDocument,
    SoapError,
    build,
    build_fault,
    parse_request,
    parse_response,
)

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
