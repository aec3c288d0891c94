"""How the client reaches GİB: one seam with two methods, over HTTP in production.

:class:`GibTransport` is all :class:`~entegrator.gib.client.GibClient` needs: exchange one SOAP
message with the document service, fetch one published file (the user lists). ``HttpTransport``
speaks HTTPS with the integrator's client certificate (or the simulator's bearer token); the
simulator offers an in-process one (``entegrator.gibsim.transport``) for fast tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import httpx

from entegrator.errors import EntegratorError

__all__ = ["GibTransport", "GibUnavailableError", "HttpTransport", "Reply"]


class GibUnavailableError(EntegratorError):
    """GİB did not answer (network, timeout, HTTP error): try again later."""

    code = "GIB_UNAVAILABLE"
    message_tr = "GİB'e ulaşılamadı: {detail}"
    message_en = "GİB cannot be reached: {detail}"
    http_status = 503


Reply = tuple[int, str, bytes]  # HTTP status, content type, body


class GibTransport(Protocol):
    def exchange(self, url: str, content_type: str, body: bytes) -> Reply:
        """Post one SOAP message; raises :class:`GibUnavailableError` when nothing answers."""
        ...

    def fetch(self, url: str) -> bytes:
        """One published file; raises :class:`GibUnavailableError` on any failure."""
        ...

    def close(self) -> None: ...


class HttpTransport:
    """HTTPS to GİB: the integrator's client certificate (``cert``/``key``), or the
    simulator's bearer ``token``."""

    def __init__(
        self,
        *,
        token: str | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client_cert = (str(cert), str(key)) if cert and key else (str(cert) if cert else None)
        self._http = httpx.Client(headers=headers, cert=client_cert, timeout=timeout)

    def exchange(self, url: str, content_type: str, body: bytes) -> Reply:
        try:
            reply = self._http.post(url, content=body, headers={"Content-Type": content_type})
        except httpx.HTTPError as exc:
            raise GibUnavailableError(detail=type(exc).__name__) from None
        return reply.status_code, reply.headers.get("content-type", ""), reply.content

    def fetch(self, url: str) -> bytes:
        try:
            reply = self._http.get(url)
            reply.raise_for_status()
        except httpx.HTTPError as exc:
            name = url.rsplit("/", 1)[-1]
            raise GibUnavailableError(detail=f"{name}: {type(exc).__name__}") from None
        return reply.content

    def close(self) -> None:
        self._http.close()
