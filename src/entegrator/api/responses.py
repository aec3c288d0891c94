"""The error answers a route declares in the OpenAPI document, each with the ``Error`` schema.

A route lists every status it can answer: ``AUTH`` for any route behind an API key (no key or
a wrong one, throttled guessing, the database away), ``BODY`` for any route that reads a body
(too slow, too large).
"""

from __future__ import annotations

from typing import Any

from entegrator.api.schemas import Error

__all__ = ["AUTH", "BODY", "errors"]

_WHEN = {
    401: "No API key, or not a valid one (UNAUTHENTICATED, INVALID_API_KEY)",
    402: "A prepaid tenant has no credits left (CREDITS_EXHAUSTED); nothing was stored",
    403: "The key's role may not do this (FORBIDDEN)",
    404: "No such document or webhook for this tenant",
    408: "The body did not arrive in time (BODY_TOO_SLOW)",
    409: "A conflict with what is stored (see the code)",
    413: "The body is over the limit (BODY_TOO_LARGE)",
    415: "The body is neither JSON nor XML (UNSUPPORTED_MEDIA_TYPE)",
    422: "The request or its document is not valid (findings list every problem)",
    429: "Too many failed authentications (TOO_MANY_ATTEMPTS); see Retry-After",
    503: "The database is away (DATABASE_UNAVAILABLE) or the service is busy; see Retry-After",
}

AUTH = (401, 429, 503)
BODY = (408, 413)


def errors(*codes: int, when: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each of ``codes`` with the ``Error`` model, described by
    ``when`` where the route's reason differs from the usual one."""
    told = _WHEN | (when or {})
    return {code: {"model": Error, "description": told[code]} for code in sorted(set(codes))}


def only_declared_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document without FastAPI's generated 422 answers (``HTTPValidationError``).

    FastAPI adds one to every route that has a parameter, whether or not the parameter can
    fail, and with a shape the API never sends: a request that does not validate is answered
    with ``Error`` (``INVALID_PARAMETER``). The routes where it can happen declare 422
    themselves."""
    generated = "#/components/schemas/HTTPValidationError"
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            ref = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if ref.get("$ref") == generated:
                del operation["responses"]["422"]
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return schema
