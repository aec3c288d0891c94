"""The API's errors as exceptions: one class per HTTP status, each carrying the machine
``code``, both messages, ``where`` and the validation ``findings`` of the answer."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConflictError",
    "ConnectionFailedError",
    "CreditsExhaustedError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitedError",
    "ServerError",
    "UnavailableError",
    "ValidationFailedError",
    "error_for",
]


class ApiError(Exception):
    """An answer that is not a success. ``status`` is the HTTP status (0 when the server was
    never reached), ``code`` the API's stable machine code (``VALIDATION_FAILED``,
    ``DOCUMENT_NOT_FOUND``, …), ``message_tr`` / ``message_en`` its two messages, ``where``
    the field or path concerned when known, ``findings`` the validation findings (422)."""

    def __init__(
        self,
        status: int,
        code: str,
        message_tr: str,
        message_en: str,
        *,
        where: str | None = None,
        findings: list[dict[str, Any]] | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message_en}")
        self.status = status
        self.code = code
        self.message_tr = message_tr
        self.message_en = message_en
        self.where = where
        self.findings = findings or []
        self.body = body
        self.retry_after = retry_after


class AuthenticationError(ApiError):
    """401: no API key, an unknown, wrong or revoked one."""


class CreditsExhaustedError(ApiError):
    """402: a prepaid tenant has no credits left to issue with."""


class ForbiddenError(ApiError):
    """403: the key's role may not do this."""


class NotFoundError(ApiError):
    """404: no such resource for this tenant."""


class ConflictError(ApiError):
    """409: the state forbids it (already answered, not signed yet, a reused key, …)."""


class ValidationFailedError(ApiError):
    """422: the document or the request breaks a rule; ``findings`` lists the problems."""


class RateLimitedError(ApiError):
    """429: too many attempts; ``retry_after`` says when to try again."""


class UnavailableError(ApiError):
    """503: the database or the view workers are away for a moment (``retry_after``)."""


class ServerError(ApiError):
    """Any other 5xx."""


class ConnectionFailedError(ApiError):
    """The server could not be reached or did not answer in time (status 0)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    402: CreditsExhaustedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationFailedError,
    429: RateLimitedError,
    503: UnavailableError,
}


def error_for(status: int, body: Any, retry_after: float | None = None) -> ApiError:
    """The exception for an error answer: its class by status, its fields from the API's
    error shape ``{"error": {code, message_tr, message_en, where?}, "findings"?}`` (a body of
    another shape, e.g. from a proxy, still gives an exception with code ``HTTP_<status>``)."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = body if isinstance(body, str) else ""
        return cls(
            status,
            f"HTTP_{status}",
            f"Sunucu {status} yanıtını verdi {text[:200]}".strip(),
            f"The server answered {status} {text[:200]}".strip(),
            body=body,
            retry_after=retry_after,
        )
    findings = body.get("findings") if isinstance(body, dict) else None
    return cls(
        status,
        str(error.get("code") or f"HTTP_{status}"),
        str(error.get("message_tr") or ""),
        str(error.get("message_en") or ""),
        where=str(error["where"]) if error.get("where") is not None else None,
        findings=[f for f in findings if isinstance(f, dict)] if isinstance(findings, list) else [],
        body=body,
        retry_after=retry_after,
    )
