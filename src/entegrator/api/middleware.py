"""ASGI middleware of the API: the body limit (size and time) and the access log."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog", "BodyLimit"]

access_log = logging.getLogger("entegrator.access")


class BodyLimit:
    """ASGI middleware: refuse bodies over the limit (413) before the application reads them,
    and bodies that take longer than ``timeout`` seconds to arrive (408): a slow upload holds
    a connection, never a worker, for long."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 60.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._too_large(send)
                return
        seen = 0
        deadline = asyncio.get_running_loop().time() + self.timeout
        started = False

        async def limited() -> Message:
            nonlocal seen
            try:
                async with asyncio.timeout_at(deadline):  # no task per message, unlike wait_for
                    message = await receive()
            except TimeoutError:
                raise _SlowBodyError from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLargeError
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except _TooLargeError:
            await self._too_large(send)
        except _SlowBodyError:
            if not started:
                await self._refuse(
                    send,
                    408,
                    "BODY_TOO_SLOW",
                    f"İstek gövdesi {self.timeout:g} saniyede gelmedi",
                    f"The request body did not arrive within {self.timeout:g} seconds",
                )

    async def _too_large(self, send: Send) -> None:
        await self._refuse(
            send,
            413,
            "BODY_TOO_LARGE",
            f"İstek gövdesi {self.limit} baytı aşıyor",
            f"The request body exceeds {self.limit} bytes",
        )

    @staticmethod
    async def _refuse(send: Send, status: int, code: str, tr: str, en: str) -> None:
        body = json.dumps({"error": {"code": code, "message_tr": tr, "message_en": en}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLargeError(Exception):
    pass


class _SlowBodyError(Exception):
    pass


class AccessLog:
    """One line per request on the ``entegrator.access`` logger (INFO): method, route
    template, status and duration in milliseconds.

    The template (``/api/v1/invoices/{document_id}``), not the raw path, and never the query
    string or a header: what is logged names no document, party or secret."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recorded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recorded)
        finally:
            route = getattr(scope.get("route"), "path", None) or _unrouted(scope["path"])
            ms = (time.perf_counter() - start) * 1000
            access_log.info("%s %s %d %.1fms", scope["method"], route, status, ms)


# Paths that carry no document, party or secret: logged as they are when no route template
# matched them (the API's pages and their static files).
_PLAIN_PATHS = ("/docs", "/redoc", "/openapi.json")


def _unrouted(path: str) -> str:
    return path if path.startswith(_PLAIN_PATHS) else "unmatched"
