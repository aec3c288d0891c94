"""Errors become HTTP answers here, and only here: every error leaves as the ``Error`` shape
``{"error": {code, message_tr, message_en, where?}, "findings"?, "truncated"?}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg import Error as PsycopgError
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect

from entegrator.api.errors import InvalidParameterError
from entegrator.api.schemas import Error, ErrorDetail
from entegrator.errors import EntegratorError
from entegrator.services.invoices import ValidationFailedError
from entegrator.store import DatabaseUnavailableError, is_unavailable

__all__ = ["RETRY_AFTER_SECONDS", "register_handlers"]

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # while the database is away


def register_handlers(app: FastAPI) -> None:
    """Map ``EntegratorError``, request validation, database outages and anything else."""
    app.add_exception_handler(EntegratorError, _entegrator_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_error)  # type: ignore[arg-type]
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(PsycopgError, _database_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)


async def _entegrator_error(_request: Request, exc: EntegratorError) -> JSONResponse:
    findings = exc.findings if isinstance(exc, ValidationFailedError) else None
    if exc.http_status >= 500:
        log.error("request failed: %s", exc.text_en)
    retry = exc.data.get("retry_after")
    headers = {"Retry-After": str(retry)} if retry is not None else None
    return JSONResponse(
        Error.of(exc, findings).body(), status_code=exc.http_status, headers=headers
    )


async def _request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    err = InvalidParameterError(where=where, detail=f"{where}: {first.get('msg', '')}")
    return JSONResponse(Error.of(err).body(), status_code=422)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_unavailable(exc):
        return await _unexpected(request, exc)
    # Not a failure of ours or the client's: the same request may be sent again later.
    log.warning("database unavailable: %s %s", request.method, request.url.path)
    return JSONResponse(
        Error.of(DatabaseUnavailableError()).body(),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


# nginx's code for "client closed request": nobody receives it, the access log and metrics do.
CLIENT_CLOSED = 499


async def _client_gone(request: Request, _exc: Exception) -> Response:
    """The client closed its connection before its body arrived: nothing was read, nothing
    stored, and no fault of ours, so no traceback."""
    log.info("client closed the connection mid-request: %s %s", request.method, request.url.path)
    return Response(status_code=CLIENT_CLOSED)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    error = ErrorDetail(
        code="INTERNAL_ERROR",
        message_tr="Beklenmeyen bir hata oluştu; kayıtlı hiçbir şey değişmedi",
        message_en="An unexpected error occurred; nothing stored was changed",
    )
    return JSONResponse(Error(error=error).body(), status_code=500)
