"""ASGI middleware of the API: the body limit (size and time); the access log's logger and
what it names a request by (``metrics.Middleware`` writes the line beside its counters)."""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "access_log", "log_route"]

access_log = logging.getLogger("entegrator.access")


class BodyLimit:
    """ASGI middleware: refuse bodies over the limit (413) before the application reads them,
    and bodies that take longer than ``timeout`` seconds to arrive (408): a slow upload holds
    a connection, never a worker, for long. ``paths`` gives some paths a limit of their own
    (a bulk import's upload, streamed to disk)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        timeout: float = 60.0,
        paths: dict[str, tuple[int, float]] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self.paths = paths or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, timeout = self.paths.get(scope.get("path", ""), (self.limit, self.timeout))
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._too_large(send, limit)
                return
        seen = 0
        deadline = asyncio.get_running_loop().time() + timeout
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
                if seen > limit:
                    raise _TooLargeError
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except _TooLargeError:
            if not started:
                await self._too_large(send, limit)
        except _SlowBodyError:
            if not started:
                await self._refuse(
                    send,
                    408,
                    "BODY_TOO_SLOW",
                    f"İstek gövdesi {timeout:g} saniyede gelmedi",
                    f"The request body did not arrive within {timeout:g} seconds",
                )

    async def _too_large(self, send: Send, limit: int) -> None:
        await self._refuse(
            send,
            413,
            "BODY_TOO_LARGE",
            f"İstek gövdesi {limit} baytı aşıyor",
            f"The request body exceeds {limit} bytes",
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


# Paths that carry no document, party or secret: logged as they are when no route template
# matched them (the API's pages and their static files).
_PLAIN_PATHS = ("/docs", "/redoc", "/openapi.json")


def log_route(scope: Scope) -> str:
    """The route template of a request, or its path when it names nothing private."""
    template = getattr(scope.get("route"), "path", None)
    if template:
        return str(template)
    path = str(scope["path"])
    return path if path.startswith(_PLAIN_PATHS) else "unmatched"
