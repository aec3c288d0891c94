"""GİB's e-Arşiv report service (``EArsivWs``): ``sendDocumentFile`` and ``getBatchStatus``.

SOAP 1.2, document/literal, namespace ``http://earsiv.vedop3.ggm.gov.org/`` with unqualified
children, as GİB's ``EArsivWs.wsdl`` declares (``earsiv-and-others.md`` §2.1). A report goes
up as ``Attachment{fileName, binaryData}`` (``<raporNo>.zip``); its status comes back as
``durum{durumAciklama, durumKodu, paketId, …}``; faults carry ``EArsivFault{code, message}``.

What is not certain [unconfirmed]: which id ``getBatchStatus`` takes as ``paketId`` (here: the
report number, ``raporNo``), the meaning of the status codes beyond one client's reading (10
and 15 pending, 30 success; anything else is taken as a refusal), the fault codes, the
endpoint and the message-level security. Both sides (the client here and the simulator) use
this module, so the simulator speaks exactly what the client sends.

>>> ct, body = build_send("a.zip", b"PK")
>>> parse_request(ct, body)
SendDocumentFile(file_name='a.zip', data=b'PK')
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.errors import XMLError
from entegrator.gib.soap import SOAP11, SOAP12, SoapError
from entegrator.gib.transport import GibTransport, GibUnavailableError, HttpTransport

__all__ = [
    "NS",
    "PENDING",
    "SUCCESS",
    "BatchStatus",
    "EArsivClient",
    "EArsivFaultError",
    "GetBatchStatus",
    "SendDocumentFile",
    "build_fault",
    "build_send",
    "build_send_response",
    "build_status",
    "build_status_response",
    "parse_request",
]

NS = "http://earsiv.vedop3.ggm.gov.org/"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
MAX_MESSAGE_BYTES = 120 * 1024 * 1024
PENDING = frozenset({10, 15})  # [unconfirmed] one client's reading
SUCCESS = 30


class EArsivFaultError(SoapError):
    """A fault GİB's e-Arşiv service answered (``EArsivFault``)."""

    code = "EARSIV_FAULT"
    message_tr = "GİB e-Arşiv hatası {fault_code}: {msg}"
    message_en = "GİB e-Arşiv fault {fault_code}: {msg}"
    http_status = 502

    def __init__(self, fault_code: int = 0, msg: str = "") -> None:
        self.fault_code = fault_code
        self.msg = msg
        super().__init__(fault_code=fault_code, msg=msg)


@dataclass(frozen=True)
class SendDocumentFile:
    file_name: str
    data: bytes


@dataclass(frozen=True)
class GetBatchStatus:
    package_id: str  # paketId


@dataclass(frozen=True)
class BatchStatus:
    code: int  # durumKodu
    description: str  # durumAciklama
    package_id: str  # paketId
    vkn: str | None = None  # vergiKimlikNo

    @property
    def pending(self) -> bool:
        return self.code in PENDING

    @property
    def succeeded(self) -> bool:
        return self.code == SUCCESS


def _envelope(operation: str) -> tuple[etree._Element, etree._Element]:
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12, "tns": NS})
    body = etree.SubElement(env, f"{{{SOAP12}}}Body")
    return env, etree.SubElement(body, f"{{{NS}}}{operation}")


def _sub(parent: etree._Element, tag: str, value: str | None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = value
    return el


def _out(env: etree._Element) -> tuple[str, bytes]:
    return CONTENT_TYPE, etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def build_send(file_name: str, data: bytes) -> tuple[str, bytes]:
    env, op = _envelope("sendDocumentFile")
    attachment = etree.SubElement(op, "Attachment")
    _sub(attachment, "fileName", file_name)
    _sub(attachment, "binaryData", base64.b64encode(data).decode())
    return _out(env)


def build_send_response(text: str) -> tuple[str, bytes]:
    env, op = _envelope("sendDocumentFileResponse")
    _sub(op, "return", text)
    return _out(env)


def build_status(package_id: str) -> tuple[str, bytes]:
    env, op = _envelope("getBatchStatus")
    _sub(op, "paketId", package_id)
    return _out(env)


def build_status_response(status: BatchStatus) -> tuple[str, bytes]:
    env, op = _envelope("getBatchStatusResponse")
    ret = etree.SubElement(op, "return")
    _sub(ret, "durumAciklama", status.description)
    _sub(ret, "durumKodu", str(status.code))
    _sub(ret, "paketId", status.package_id)
    if status.vkn:
        _sub(ret, "vergiKimlikNo", status.vkn)
    return _out(env)


def build_fault(code: int, message: str) -> tuple[str, bytes]:
    """A SOAP 1.2 fault with ``EArsivFault{code, message}`` (sent with HTTP 500)."""
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12, "tns": NS})
    body = etree.SubElement(env, f"{{{SOAP12}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP12}}}Fault")
    value = etree.SubElement(etree.SubElement(fault, f"{{{SOAP12}}}Code"), f"{{{SOAP12}}}Value")
    value.text = "soap:Receiver"
    reason = etree.SubElement(etree.SubElement(fault, f"{{{SOAP12}}}Reason"), f"{{{SOAP12}}}Text")
    reason.text = message
    reason.set("{http://www.w3.org/XML/1998/namespace}lang", "tr")
    detail = etree.SubElement(fault, f"{{{SOAP12}}}Detail")
    inner = etree.SubElement(detail, f"{{{NS}}}EArsivFault")
    _sub(inner, "code", str(code))
    _sub(inner, "message", message)
    return _out(env)


# -- reading ---------------------------------------------------------------------------------


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _child(node: etree._Element | None, name: str) -> etree._Element | None:
    if node is None:
        return None
    return next((c for c in node if isinstance(c.tag, str) and _local(c) == name), None)


def _text(node: etree._Element | None, name: str) -> str:
    found = _child(node, name)
    return (found.text or "").strip() if found is not None else ""


def _payload(data: bytes) -> etree._Element:
    if len(data) > MAX_MESSAGE_BYTES:
        raise SoapError(detail_tr="ileti çok büyük", detail_en="the message is too large")
    try:
        env = safe_xml.parse(data, max_bytes=MAX_MESSAGE_BYTES)
    except XMLError as exc:
        raise SoapError(
            detail_tr=f"XML okunamadı: {exc.text_tr}", detail_en=f"unreadable XML: {exc.text_en}"
        ) from None
    if _local(env) != "Envelope" or etree.QName(env).namespace not in (SOAP11, SOAP12):
        raise SoapError(detail_tr="SOAP zarfı değil", detail_en="not a SOAP envelope")
    body = _child(env, "Body")
    payload = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
    if payload is None:
        raise SoapError(detail_tr="SOAP gövdesi yok", detail_en="no SOAP body")
    return payload


def parse_request(content_type: str, data: bytes) -> SendDocumentFile | GetBatchStatus:
    """A request as the service receives it (``content_type`` is not needed: no MTOM)."""
    del content_type
    payload = _payload(data)
    name = _local(payload)
    if name == "sendDocumentFile":
        attachment = _child(payload, "Attachment")
        binary = _child(attachment, "binaryData")
        if attachment is None or binary is None:
            raise SoapError(detail_tr="Attachment/binaryData yok", detail_en="no Attachment")
        try:
            raw = base64.b64decode("".join((binary.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            raise SoapError(
                detail_tr="binaryData base64 değil", detail_en="binaryData is not base64"
            ) from None
        return SendDocumentFile(_text(attachment, "fileName"), raw)
    if name == "getBatchStatus":
        return GetBatchStatus(_text(payload, "paketId"))
    raise SoapError(detail_tr=f"bilinmeyen işlem: {name}", detail_en=f"unknown operation: {name}")


def _parse_response(data: bytes) -> etree._Element:
    """The response payload; a fault raises :class:`EArsivFaultError`."""
    payload = _payload(data)
    if _local(payload) == "Fault":
        detail = _child(payload, "Detail")
        if detail is None:
            detail = _child(payload, "detail")
        inner = _child(detail, "EArsivFault")
        code = _text(inner, "code")
        message = _text(inner, "message") or " ".join(
            str(t).strip() for t in payload.itertext() if str(t).strip()
        )
        raise EArsivFaultError(int(code) if code.isdigit() else 0, message)
    return payload


class EArsivClient:
    """GİB's e-Arşiv report service through a transport (HTTP unless told)."""

    def __init__(self, url: str, *, transport: GibTransport) -> None:
        self.url = url
        self.transport = transport

    @classmethod
    def over_http(
        cls, url: str, *, token: str | None = None, timeout: float = 60.0
    ) -> EArsivClient:
        return cls(url, transport=HttpTransport(token=token, timeout=timeout))

    def close(self) -> None:
        self.transport.close()

    def _call(self, content_type: str, body: bytes) -> etree._Element:
        status, _, reply = self.transport.exchange(self.url, content_type, body)
        try:
            return _parse_response(reply)
        except EArsivFaultError:
            raise
        except SoapError:
            raise GibUnavailableError(detail=f"HTTP {status}") from None

    def send(self, file_name: str, data: bytes) -> str:
        """``sendDocumentFile``: GİB's answer text (``Dosya Kaydedildi``); raises
        :class:`EArsivFaultError` or ``GibUnavailableError``."""
        payload = self._call(*build_send(file_name, data))
        return _text(payload, "return")

    def status(self, package_id: str) -> BatchStatus:
        """``getBatchStatus``."""
        payload = self._call(*build_status(package_id))
        ret = _child(payload, "return")
        code = _text(ret, "durumKodu")
        if not code.lstrip("-").isdigit():
            raise GibUnavailableError(detail="getBatchStatus: no durumKodu")
        return BatchStatus(
            int(code),
            _text(ret, "durumAciklama"),
            _text(ret, "paketId") or package_id,
            _text(ret, "vergiKimlikNo") or None,
        )
