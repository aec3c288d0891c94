"""The integrator's client of GİB's document service and of its published user lists.

Over HTTPS with the integrator's client certificate for the real GİB [unconfirmed: the exact
transport security is given at onboarding], or with a bearer token for the simulator.
"""

from __future__ import annotations

from pathlib import Path

from entegrator.documents.response import ResponseFacts, read_response
from entegrator.gib.soap import (
    DocumentResponse,
    GetAppResp,
    GetAppRespResponse,
    SendDocument,
    SoapError,
    build,
    parse_response,
)
from entegrator.gib.transport import GibTransport, GibUnavailableError, HttpTransport
from entegrator.gib.userlist import UserList

__all__ = ["GibClient", "GibUnavailableError"]


class GibClient:
    """GİB's document service and user lists, through a transport (HTTP unless told)."""

    def __init__(self, url: str, *, transport: GibTransport) -> None:
        self.url = url
        self.transport = transport

    @classmethod
    def over_http(
        cls,
        url: str,
        *,
        token: str | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        timeout: float = 60.0,
    ) -> GibClient:
        return cls(url, transport=HttpTransport(token=token, cert=cert, key=key, timeout=timeout))

    def close(self) -> None:
        self.transport.close()

    def _call(self, message: SendDocument | GetAppResp) -> DocumentResponse | GetAppRespResponse:
        content_type, body = build(message)
        status, reply_type, reply = self.transport.exchange(self.url, content_type, body)
        try:
            return parse_response(reply_type, reply)
        except SoapError:
            raise GibUnavailableError(detail=f"HTTP {status}") from None

    def send(self, file_name: str, data: bytes, md5: str) -> DocumentResponse:
        """``sendDocument``; raises ``GibFaultError`` or :class:`GibUnavailableError`."""
        answer = self._call(SendDocument(file_name, data, md5))
        if not isinstance(answer, DocumentResponse):
            raise GibUnavailableError(detail="unexpected answer to sendDocument")
        return answer

    def status(self, envelope_id: str) -> ResponseFacts:
        """``getApplicationResponse``: the envelope's current status (an S_APR)."""
        answer = self._call(GetAppResp(envelope_id))
        if not isinstance(answer, GetAppRespResponse):
            raise GibUnavailableError(detail="unexpected answer to getApplicationResponse")
        return read_response(answer.application_response.encode())

    def user_list(self, base_url: str) -> UserList:
        """Both published lists (PK and GB), merged."""
        users = UserList()
        for kind, name in (("PK", "newUserPkListxml.zip"), ("GB", "newUserGbListxml.zip")):
            data = self.transport.fetch(f"{base_url.rstrip('/')}/{name}")
            users.extend(data, kind)  # type: ignore[arg-type]
        return users
