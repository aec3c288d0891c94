"""The simulator reached in process: a :class:`~entegrator.gib.transport.GibTransport` that
calls the simulator's app directly, without a socket (for fast tests and tools).

The app runs exactly as over HTTP (same routes, same checks, same answers); only the network is
left out. Deliveries the simulator makes to integrators still go over HTTP to their endpoints.
"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from entegrator.gib.transport import GibUnavailableError, Reply

__all__ = ["InProcessTransport"]


class InProcessTransport:
    def __init__(self, app: Any, *, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Starlette's client drives an ASGI app synchronously, in this process.
        self._client = TestClient(app, headers=headers, raise_server_exceptions=False)

    def exchange(self, url: str, content_type: str, body: bytes) -> Reply:
        reply = self._client.post(_path(url), content=body, headers={"Content-Type": content_type})
        return reply.status_code, reply.headers.get("content-type", ""), reply.content

    def fetch(self, url: str) -> bytes:
        reply = self._client.get(_path(url))
        if reply.status_code != 200:
            raise GibUnavailableError(detail=f"{_path(url)}: HTTP {reply.status_code}")
        return reply.content

    def close(self) -> None:
        self._client.close()


def _path(url: str) -> str:
    """The path of a URL (the app is the host)."""
    if "://" in url:
        url = "/" + url.split("://", 1)[1].split("/", 1)[-1]
    return url
