"""The messages of GİB's document service (EFaturaMerkez), on SOAP 1.1 or 1.2, with or without MTOM.

Both sides of the network speak it: an integrator calls ``sendDocument`` and
``getApplicationResponse`` on GİB, and GİB calls ``sendDocument`` on the integrator's own
endpoint (``envelope-and-transport.md`` §5). This module builds and reads those messages and
the faults (``EFaturaFaultType {code, msg}``); it does no I/O.

The contract is GİB's WSDL (``e-FaturaPaketi.zip``, ``wsdl/EFatura_Test.wsdl``): namespace
``http://gib.gov.tr/vedop3/eFatura``, a SOAP 1.2 document/literal binding, the body elements
``documentRequest``/``documentResponse``, ``getAppRespRequest``/``getAppRespResponse`` and the
fault ``EFaturaFault {code, msg}``, fields unqualified (the schema has no
``elementFormDefault``), and the soapActions ``sendDocument`` and ``getApplicationResponse``.
The writer follows it: SOAP 1.2, unqualified fields, base64 inline unless MTOM is asked for,
and a request names its operation in the ``action`` parameter of its Content-Type
(``application/soap+xml; charset=utf-8; action="sendDocument"``; with MTOM in ``start-info``).
The reader is tolerant of what others send (SOAP 1.1 or 1.2, fields found by local name,
base64 inline or an MTOM/XOP attachment, an action or none: the WSDL requires none of a
caller) but refuses an action that names another operation than the body
(:class:`SoapActionError`).

>>> ct, body = build(SendDocument("0bd6b1a3-0f5c-4a56-8d2a-6b0f8b9b7c11.zip", b"PK..", "ab"))
>>> ct
'application/soap+xml; charset=utf-8; action="sendDocument"'
>>> parse_request(ct, body).file_name
'0bd6b1a3-0f5c-4a56-8d2a-6b0f8b9b7c11.zip'
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import re
import uuid
from dataclasses import dataclass
from typing import Any

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.errors import XMLError
from entegrator.errors import EntegratorError

__all__ = [
    "ACTIONS",
    "NS",
    "SOAP11",
    "SOAP12",
    "DocumentResponse",
    "GetAppResp",
    "GetAppRespResponse",
    "GibFaultError",
    "SendDocument",
    "SoapActionError",
    "SoapError",
    "action_of",
    "build",
    "build_fault",
    "parse_request",
    "parse_response",
    "requested_action",
    "version_of",
]

NS = "http://gib.gov.tr/vedop3/eFatura"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XOP = "http://www.w3.org/2004/08/xop/include"
MAX_MESSAGE_BYTES = 110 * 1024 * 1024  # an envelope zip (100 MiB) in base64 would not fit
MAX_PARTS = 8  # sendDocument needs two (the SOAP part and the envelope); a few spare


class SoapError(EntegratorError):
    """A message that is not a well-formed request or response of the document service."""

    code = "SOAP_INVALID"
    message_tr = "SOAP iletisi geçersiz: {detail_tr}"
    message_en = "Invalid SOAP message: {detail_en}"
    http_status = 400


class SoapActionError(SoapError):
    """The request's SOAP action names another operation than its body."""

    code = "SOAP_ACTION_MISMATCH"
    message_tr = "SOAP action ({action}) gövdedeki işlemle ({operation}) uyuşmuyor"
    message_en = "The SOAP action ({action}) does not match the body's operation ({operation})"


class GibFaultError(EntegratorError):
    """A fault answered by the other side (``EFaturaFaultType``), e.g. 2000 hash mismatch."""

    code = "GIB_FAULT"
    message_tr = "GİB hatası {fault_code}: {msg}"
    message_en = "GİB fault {fault_code}: {msg}"
    http_status = 502

    def __init__(self, fault_code: int = 0, msg: str = "", **data: Any) -> None:
        self.fault_code = fault_code
        self.msg = msg
        super().__init__(fault_code=fault_code, msg=msg, **data)


@dataclass(frozen=True)
class SendDocument:
    file_name: str  # <envelope uuid>.zip
    data: bytes  # the zip
    hash: str  # MD5 of the zip, hex


@dataclass(frozen=True)
class DocumentResponse:
    msg: str
    hash: str  # MD5 as the receiver computed it


@dataclass(frozen=True)
class GetAppResp:
    instance_identifier: str  # the envelope uuid


@dataclass(frozen=True)
class GetAppRespResponse:
    application_response: str  # an ApplicationResponse (XML text)


Message = SendDocument | DocumentResponse | GetAppResp | GetAppRespResponse

# The soapAction of each operation in the WSDL's binding (soap12:operation/@soapAction).
ACTIONS = {"documentRequest": "sendDocument", "getAppRespRequest": "getApplicationResponse"}
_ACTION = re.compile(r'(?:^|[;\s"])action\s*=\s*(?:\\?"([^"\\]*)\\?"|([^;\s"\\]+))', re.I)


def action_of(message: Message) -> str | None:
    """The soapAction of a request (None for a response)."""
    if isinstance(message, SendDocument):
        return ACTIONS["documentRequest"]
    if isinstance(message, GetAppResp):
        return ACTIONS["getAppRespRequest"]
    return None


def _bad(tr: str, en: str) -> SoapError:
    return SoapError(detail_tr=tr, detail_en=en)


def _envelope(version: str) -> tuple[etree._Element, etree._Element]:
    env = etree.Element(f"{{{version}}}Envelope", nsmap={"s": version})
    body = etree.SubElement(env, f"{{{version}}}Body")
    return env, body


def _content_type(version: str, action: str | None = None) -> str:
    if version == SOAP11:
        return "text/xml; charset=utf-8"  # SOAP 1.1 names the action in a SOAPAction header
    if action is None:
        return "application/soap+xml; charset=utf-8"
    return f'application/soap+xml; charset=utf-8; action="{action}"'


def version_of(content_type: str) -> str:
    """The SOAP version of a message by its Content-Type (MTOM: by its ``start-info``)."""
    lowered = content_type.lower()
    if lowered.startswith("text/xml") or re.search(r'start-info\s*=\s*"?text/xml', lowered):
        return SOAP11
    return SOAP12


def build(message: Message, *, version: str = SOAP12, mtom: bool = False) -> tuple[str, bytes]:
    """(Content-Type, body) of a request or response; a SOAP 1.2 request names its action."""
    env, body = _envelope(version)
    attachment: bytes | None = None
    if isinstance(message, SendDocument):
        node = etree.SubElement(body, f"{{{NS}}}documentRequest", nsmap={"ef": NS})
        etree.SubElement(node, "fileName").text = message.file_name
        data = etree.SubElement(node, "binaryData")
        if mtom:
            attachment = message.data
            etree.SubElement(data, f"{{{XOP}}}Include", nsmap={"xop": XOP}).set(
                "href", "cid:binaryData@entegrator"
            )
        else:
            data.text = base64.b64encode(message.data).decode()
        etree.SubElement(node, "hash").text = message.hash
    elif isinstance(message, DocumentResponse):
        node = etree.SubElement(body, f"{{{NS}}}documentResponse", nsmap={"ef": NS})
        etree.SubElement(node, "msg").text = message.msg
        etree.SubElement(node, "hash").text = message.hash
    elif isinstance(message, GetAppResp):
        node = etree.SubElement(body, f"{{{NS}}}getAppRespRequest", nsmap={"ef": NS})
        etree.SubElement(node, "instanceIdentifier").text = message.instance_identifier
    else:
        node = etree.SubElement(body, f"{{{NS}}}getAppRespResponse", nsmap={"ef": NS})
        etree.SubElement(node, "applicationResponse").text = message.application_response
    xml = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    action = action_of(message)
    if attachment is None:
        return _content_type(version, action), xml
    return _multipart(xml, attachment, version, action)


def _multipart(
    xml: bytes, attachment: bytes, version: str, action: str | None
) -> tuple[str, bytes]:
    boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
    soap_type = "text/xml" if version == SOAP11 else "application/soap+xml"
    if version == SOAP12 and action is not None:
        soap_type += f'; action=\\"{action}\\"'
    parts = [
        f"--{boundary}\r\n"
        f'Content-Type: application/xop+xml; charset=UTF-8; type="{soap_type}"\r\n'
        "Content-Transfer-Encoding: binary\r\nContent-ID: <root@entegrator>\r\n\r\n".encode()
        + xml
        + b"\r\n",
        f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: binary\r\nContent-ID: <binaryData@entegrator>\r\n\r\n".encode()
        + attachment
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<root@entegrator>"; start-info="{soap_type}"'
    )
    return content_type, b"".join(parts)


def build_fault(
    fault_code: int, msg: str, *, version: str = SOAP12, sender: bool = False
) -> tuple[str, bytes]:
    """A SOAP fault carrying ``EFaturaFaultType {code, msg}`` (HTTP status 500); ``sender``:
    the request was at fault (``Sender``/``Client``), not the service (``Receiver``/``Server``)."""
    env, body = _envelope(version)
    fault = etree.SubElement(body, f"{{{version}}}Fault")
    if version == SOAP11:
        etree.SubElement(fault, "faultcode").text = "s:Client" if sender else "s:Server"
        etree.SubElement(fault, "faultstring").text = msg
        detail = etree.SubElement(fault, "detail")
    else:
        code = etree.SubElement(fault, f"{{{version}}}Code")
        etree.SubElement(code, f"{{{version}}}Value").text = "s:Sender" if sender else "s:Receiver"
        reason = etree.SubElement(fault, f"{{{version}}}Reason")
        text = etree.SubElement(reason, f"{{{version}}}Text")
        text.text = msg
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "tr")
        detail = etree.SubElement(fault, f"{{{version}}}Detail")
    ef = etree.SubElement(detail, f"{{{NS}}}EFaturaFault", nsmap={"ef": NS})
    etree.SubElement(ef, "code").text = str(fault_code)
    etree.SubElement(ef, "msg").text = msg
    return _content_type(version), etree.tostring(env, xml_declaration=True, encoding="UTF-8")


# -- reading -------------------------------------------------------------------------------------


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _field(node: etree._Element, name: str) -> etree._Element | None:
    for child in node:
        if isinstance(child.tag, str) and _local(child) == name:
            return child
    return None


def _text(node: etree._Element, name: str) -> str:
    found = _field(node, name)
    return (found.text or "").strip() if found is not None else ""


def _split(content_type: str, body: bytes) -> tuple[bytes, dict[str, bytes]]:
    """The SOAP part and the attachments by Content-ID of a multipart/related (MTOM) body."""
    if not content_type.lower().startswith("multipart/"):
        return body, {}
    boundary = _boundary(content_type)
    if boundary is None:
        raise _bad(
            "çok parçalı iletide sınır (boundary) yok", "the multipart message has no boundary"
        )
    # sendDocument is the SOAP part and one attachment: count before the MIME parser runs.
    if body.count(b"--" + boundary) > MAX_PARTS + 1:
        raise _bad(
            f"çok parçalı iletide {MAX_PARTS} parçadan fazlası var",
            f"the multipart message has more than {MAX_PARTS} parts",
        )
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    if not message.is_multipart():
        raise _bad("çok parçalı ileti okunamadı", "the multipart message cannot be read")
    parts = list(message.iter_parts())
    if not parts:
        raise _bad("çok parçalı ileti boş", "the multipart message is empty")
    start = message.get_param("start")
    root = parts[0]
    attachments: dict[str, bytes] = {}
    for part in parts:
        cid = str(part.get("Content-ID") or "").strip().strip("<>")
        if start and f"<{cid}>" == str(start):
            root = part
        attachments[cid] = _payload(part)
    return _payload(root), attachments


def _boundary(content_type: str) -> bytes | None:
    found = re.search(r'boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))', content_type, re.IGNORECASE)
    if found is None:
        return None
    return (found.group(1) or found.group(2)).encode("ascii", "replace")


def _payload(part: object) -> bytes:
    data = part.get_payload(decode=True)  # type: ignore[attr-defined]
    return data if isinstance(data, bytes) else b""


def _body(content_type: str, data: bytes) -> tuple[etree._Element, dict[str, bytes]]:
    if len(data) > MAX_MESSAGE_BYTES:
        raise _bad("ileti çok büyük", "the message is too large")
    xml, attachments = _split(content_type, data)
    try:
        env = safe_xml.parse(xml, max_bytes=MAX_MESSAGE_BYTES)
    except XMLError as exc:
        raise _bad(f"XML okunamadı: {exc.text_tr}", f"unreadable XML: {exc.text_en}") from None
    if _local(env) != "Envelope" or etree.QName(env).namespace not in (SOAP11, SOAP12):
        raise _bad("SOAP zarfı değil", "not a SOAP envelope")
    body = next((c for c in env if isinstance(c.tag, str) and _local(c) == "Body"), None)
    if body is None or not len(body):
        raise _bad("SOAP gövdesi yok", "no SOAP body")
    payload = next(c for c in body if isinstance(c.tag, str))
    return payload, attachments


def _binary(node: etree._Element, attachments: dict[str, bytes]) -> bytes:
    include = next((c for c in node if isinstance(c.tag, str) and _local(c) == "Include"), None)
    if include is not None:
        href = (include.get("href") or "").removeprefix("cid:")
        if href not in attachments:
            raise _bad("MTOM eki bulunamadı", "the MTOM attachment is missing")
        return attachments[href]
    try:
        return base64.b64decode("".join((node.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise _bad("binaryData base64 değil", "binaryData is not base64") from None


def requested_action(content_type: str, soap_action: str | None = None) -> str | None:
    """The action a request names: the ``action`` parameter of a SOAP 1.2 Content-Type (of
    MTOM's ``start-info``), else the SOAP 1.1 ``SOAPAction`` header; None when it names none
    (an empty ``SOAPAction: ""`` names none either)."""
    found = _ACTION.search(content_type)
    if found is not None:
        return (found.group(1) or found.group(2) or "").strip() or None
    if soap_action is not None:
        return soap_action.strip().strip('"').strip() or None
    return None


def _check_action(action: str | None, operation: str) -> None:
    """A named action must be the operation's (a URI ending in it is taken too); none is fine."""
    if action is None:
        return
    expected = ACTIONS[operation]
    if action == expected or re.search(rf"[/#:]{expected}$", action):
        return
    raise SoapActionError(action=action[:100], operation=expected)


def parse_request(
    content_type: str, data: bytes, *, soap_action: str | None = None
) -> SendDocument | GetAppResp:
    """A request as the service receives it; ``soap_action``: the SOAP 1.1 ``SOAPAction``
    header, if any. An action that names another operation raises :class:`SoapActionError`."""
    payload, attachments = _body(content_type, data)
    name = _local(payload)
    action = requested_action(content_type, soap_action)
    if name in ("documentRequest", "sendDocument"):
        _check_action(action, "documentRequest")
        binary = _field(payload, "binaryData")
        if binary is None:
            raise _bad("binaryData yok", "no binaryData")
        return SendDocument(
            file_name=_text(payload, "fileName"),
            data=_binary(binary, attachments),
            hash=_text(payload, "hash"),
        )
    if name in ("getAppRespRequest", "getApplicationResponse"):
        _check_action(action, "getAppRespRequest")
        return GetAppResp(_text(payload, "instanceIdentifier"))
    raise _bad(f"bilinmeyen işlem: {name}", f"unknown operation: {name}")


def parse_response(content_type: str, data: bytes) -> DocumentResponse | GetAppRespResponse:
    """A response as the caller receives it; a fault raises :class:`GibFaultError`."""
    payload, _ = _body(content_type, data)
    name = _local(payload)
    if name == "Fault":
        detail = next(
            (c for c in payload if isinstance(c.tag, str) and _local(c) in ("Detail", "detail")),
            None,
        )
        inner = (
            next((c for c in detail if isinstance(c.tag, str)), None)
            if detail is not None
            else None
        )
        code_text = _text(inner, "code") if inner is not None else ""
        msg = _text(inner, "msg") if inner is not None else ""
        return _raise_fault(code_text, msg or _fault_reason(payload))
    if name == "documentResponse":
        return DocumentResponse(_text(payload, "msg"), _text(payload, "hash"))
    if name == "getAppRespResponse":
        return GetAppRespResponse(_text(payload, "applicationResponse"))
    raise _bad(f"bilinmeyen yanıt: {name}", f"unknown response: {name}")


def _fault_reason(fault: etree._Element) -> str:
    return " ".join(str(t).strip() for t in fault.itertext() if str(t).strip())


def _raise_fault(code_text: str, msg: str) -> DocumentResponse:
    code = int(code_text) if code_text.isdigit() else 0
    raise GibFaultError(fault_code=code, msg=msg)
