"""The integrator's client of GİB's document service and of its published user lists.

Over HTTPS with the integrator's client certificate for the real GİB [unconfirmed: the exact
transport security is given at onboarding], or with a bearer token for the simulator.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from entegrator.documents.response import ResponseFacts, read_response
from entegrator.errors import EntegratorError
from entegrator.gib.soap import (
    DocumentResponse,
    GetAppResp,
    GetAppRespResponse,
    SendDocument,
    SoapError,
    build,
    parse_response,
)
from entegrator.gib.userlist import UserList

__all__ = ["GibClient", "GibUnavailableError"]


class GibUnavailableError(EntegratorError):
    """GİB did not answer (network, timeout, HTTP error): try again later."""

    code = "GIB_UNAVAILABLE"
    message_tr = "GİB'e ulaşılamadı: {detail}"
    message_en = "GİB cannot be reached: {detail}"
    http_status = 503


class GibClient:
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client_cert = (str(cert), str(key)) if cert and key else (str(cert) if cert else None)
        self.url = url
        self._http = httpx.Client(headers=headers, cert=client_cert, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _call(self, message: SendDocument | GetAppResp) -> DocumentResponse | GetAppRespResponse:
        content_type, body = build(message)
        try:
            reply = self._http.post(self.url, content=body, headers={"Content-Type": content_type})
        except httpx.HTTPError as exc:
            raise GibUnavailableError(detail=type(exc).__name__) from None
        try:
            return parse_response(reply.headers.get("content-type", ""), reply.content)
        except SoapError:
            raise GibUnavailableError(detail=f"HTTP {reply.status_code}") from None

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
            try:
                reply = self._http.get(f"{base_url.rstrip('/')}/{name}")
                reply.raise_for_status()
            except httpx.HTTPError as exc:
                raise GibUnavailableError(detail=f"{name}: {type(exc).__name__}") from None
            users.extend(reply.content, kind)  # type: ignore[arg-type]
        return users
