"""The client's errors: one class per kind of answer, each carrying the server's code and both
messages."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ClientError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "WebhookSignatureError",
    "error_for",
]


class ClientError(Exception):
    """Anything the client raises."""


class TransportError(ClientError):
    """The server could not be reached, or the connection broke, after every retry."""


class WebhookSignatureError(ClientError):
    """A webhook's ``Entegrator-Signature`` is missing, malformed, stale or wrong."""


class ApiError(ClientError):
    """The server answered with an error: ``status``, ``code``, ``message_tr``, ``message_en``,
    ``where`` (the field or part at fault, if known) and ``findings`` (a document's problems)."""

    def __init__(
        self,
        status: int,
        code: str,
        message_tr: str,
        message_en: str,
        *,
        where: str | None = None,
        findings: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message_en}")
        self.status = status
        self.code = code
        self.message_tr = message_tr
        self.message_en = message_en
        self.where = where
        self.findings = findings or []
        self.retry_after = retry_after


class AuthenticationError(ApiError):
    """401: no API key, or not a valid one."""


class PermissionDeniedError(ApiError):
    """403: the key's role may not do this."""


class NotFoundError(ApiError):
    """404: no such document (or not this tenant's)."""


class ConflictError(ApiError):
    """409: a conflict with what is stored (see ``code``)."""


class ValidationError(ApiError):
    """422 (and 400, 413, 415): the request or its document is not valid; see ``findings``."""


class RateLimitedError(ApiError):
    """429: too many failed attempts; ``retry_after`` seconds."""


class ServerError(ApiError):
    """5xx: the server or its database is away; retried before it is raised."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}


def error_for(status: int, body: Any, retry_after: float | None) -> ApiError:
    """The typed error of an answer's status and JSON body (any body: never raises)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    if status in _BY_STATUS:
        kind = _BY_STATUS[status]
    elif status >= 500:
        kind = ServerError
    else:
        kind = ValidationError
    findings = body.get("findings") if isinstance(body, dict) else None
    return kind(
        status,
        str(error.get("code") or f"HTTP_{status}"),
        str(error.get("message_tr") or ""),
        str(error.get("message_en") or f"HTTP {status}"),
        where=error.get("where"),
        findings=findings if isinstance(findings, list) else None,
        retry_after=retry_after,
    )
