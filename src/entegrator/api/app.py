"""The REST API (FastAPI): ``/api/v1`` for ERPs and integrations, health and metrics.

Every error leaves as ``{"error": {code, message_tr, message_en, where?}, "findings"?: [...]}``
with a 4xx/5xx status; nothing is stored for a request that fails.
"""

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import Error as PsycopgError
from pydantic import AfterValidator, BaseModel, Field, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entegrator import __version__
from entegrator.api import metrics
from entegrator.api.errors import (
    DocumentNotFoundError,
    EmptyBodyError,
    ForbiddenError,
    InvalidAmountError,
    InvalidApiKeyError,
    InvalidCursorError,
    InvalidParameterError,
    MetricsClosedError,
    NotSignedYetError,
    TooManyAttemptsError,
    TooManyLinesError,
    UnauthenticatedError,
    UnsupportedMediaTypeError,
    WebhookNotFoundError,
)
from entegrator.api.gib import gib_router
from entegrator.api.throttle import FailureThrottle
from entegrator.config import Settings
from entegrator.documents._validation import problems_from_validation
from entegrator.documents.model import InvoiceDraft
from entegrator.documents.model._base import xml_safe
from entegrator.errors import EntegratorError
from entegrator.rules import MAX_FINDINGS, Finding, Report
from entegrator.runtime import Runtime
from entegrator.services.invoices import (
    RequestError,
    ValidationFailedError,
    draft_findings,
    problem_findings,
)
from entegrator.store import DatabaseUnavailableError, is_unavailable, repo
from entegrator.store.ids import created_at
from entegrator.views import CONTENT_SECURITY_POLICY
from entegrator.views.sandbox import Renderer, RenderLimits
from entegrator.workflow.supervisor import WorkerHealth, WorkerStatus

__all__ = ["create_app"]

log = logging.getLogger(__name__)

WRITE_ROLES = frozenset({"owner", "accountant", "api"})
WEBHOOK_ROLES = frozenset({"owner", "api"})
XML_TYPES = ("application/xml", "text/xml")
MAX_PAGE = 200
_PLAIN = r"^[^\x00-\x1f\x7f]{1,100}$"  # a search term: no control characters
MAX_AMOUNT_DIGITS = 18  # amount filters beyond any invoice's total are refused
RETRY_AFTER_SECONDS = 5  # while the database is away


def _not_found() -> DocumentNotFoundError:
    return DocumentNotFoundError()


def _error_body(exc: EntegratorError, findings: list[Finding] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": exc.to_dict()}
    if findings is not None:
        body["findings"] = [f.to_dict() for f in findings[:MAX_FINDINGS]]
        body["truncated"] = max(0, len(findings) - MAX_FINDINGS)
    return body


def _draft_findings(exc: ValidationError) -> list[Finding]:
    return problem_findings(problems_from_validation(exc))


def metrics_access(settings: Settings, authorization: str | None) -> None:
    """``/metrics`` is for the operator: with ``ENTEGRATOR_METRICS_TOKEN`` it wants that token;
    otherwise it is open on a loopback bind and closed elsewhere, unless
    ``ENTEGRATOR_METRICS_PUBLIC`` says otherwise."""
    token = settings.metrics_token
    if token is not None and token.get_secret_value():
        expected = f"Bearer {token.get_secret_value()}".encode()
        if not hmac.compare_digest((authorization or "").encode(), expected):
            raise MetricsClosedError
        return
    public = settings.metrics_public
    if public is None:
        public = _is_loopback(settings.host)
    if not public:
        raise MetricsClosedError


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        deadline = time.monotonic() + self.timeout
        started = False

        async def limited() -> Message:
            nonlocal seen
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
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


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _document_json(doc: repo.DocumentRow, events: list[repo.EventRow] | None) -> dict[str, Any]:
    base = f"/api/v1/invoices/{doc.document_id}"
    out: dict[str, Any] = {
        "id": str(doc.document_id),
        "ettn": str(doc.ettn).upper(),
        "number": doc.number,
        "status": doc.status,
        "status_code": doc.status_code,
        "status_detail": doc.status_detail,
        "direction": doc.direction,
        "profile": doc.profile,
        "type": doc.type,
        "issue_date": doc.issue_date.isoformat() if doc.issue_date else None,
        "sender": {"id": doc.sender_id, "name": doc.sender_name},
        "receiver": {"id": doc.receiver_id, "name": doc.receiver_name},
        "currency": doc.currency,
        "totals": {
            "line_extension": _money(doc.line_extension),
            "tax_exclusive": _money(doc.tax_exclusive),
            "tax_total": _money(doc.tax_total),
            "payable": _money(doc.payable),
        },
        "signed": doc.signed_sha256 is not None,
        "created_at": doc.created_at.isoformat(),
        "updated_at": doc.updated_at.isoformat(),
        "links": {"xml": f"{base}/xml", "html": f"{base}/html", "pdf": f"{base}/pdf"},
    }
    if events is not None:
        out["events"] = [e.to_dict() for e in events]
    return out


def _encode_cursor(doc: repo.DocumentRow) -> str:
    raw = json.dumps([doc.created_at.isoformat(), str(doc.document_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, ident = json.loads(raw)
        return dt.datetime.fromisoformat(when), uuid.UUID(ident)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise InvalidCursorError(where="cursor") from None


def _database_unavailable() -> JSONResponse:
    return JSONResponse(
        _error_body(DatabaseUnavailableError()),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def create_app(  # noqa: PLR0915 - the routes of one API
    runtime: Runtime, *, worker: WorkerHealth | None = None
) -> FastAPI:
    """The API on ``runtime``; ``worker`` is the health of the worker this process runs
    beside it (``serve --with-worker``), which ``/readyz`` then reports."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Requests do their CPU work (parsing, validating) in threads that share one GIL: a
        # few threads and a queue on the event loop beat many threads thrashing it.
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = runtime.settings.api_threads
        warm = asyncio.create_task(renderer.warm())
        try:
            yield
        finally:
            warm.cancel()
            await renderer.aclose()

    app = FastAPI(
        lifespan=lifespan,
        # No trailing-slash redirects: they would echo the Host header back in Location.
        redirect_slashes=False,
        title="entegrator",
        version=__version__,
        description="Turkish e-document integrator: e-Fatura, e-Arşiv and e-İrsaliye through GİB.",
    )
    app.state.runtime = runtime
    # Views run in limited worker processes; a request awaits its render without a thread.
    renderer = Renderer(
        RenderLimits(
            html_seconds=runtime.settings.view_html_seconds,
            pdf_seconds=runtime.settings.view_pdf_seconds,
            memory_mb=runtime.settings.view_memory_mb,
            concurrency=runtime.settings.view_concurrency,
            queue_seconds=runtime.settings.view_queue_seconds,
        )
    )
    app.state.renderer = renderer
    app.add_middleware(
        BodyLimit,
        limit=runtime.settings.max_body_bytes,
        timeout=runtime.settings.body_timeout_seconds,
    )
    app.add_middleware(metrics.Middleware)

    @app.exception_handler(EntegratorError)
    async def _entegrator_error(_request: Request, exc: EntegratorError) -> JSONResponse:
        findings = exc.findings if isinstance(exc, ValidationFailedError) else None
        if exc.http_status >= 500:
            log.error("request failed: %s", exc.text_en)
        retry = exc.data.get("retry_after")
        headers = {"Retry-After": str(retry)} if retry is not None else None
        return JSONResponse(
            _error_body(exc, findings), status_code=exc.http_status, headers=headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        body = {
            "error": {
                "code": "INTERNAL_ERROR",
                "message_tr": "Beklenmeyen bir hata oluştu; kayıtlı hiçbir şey değişmedi",
                "message_en": "An unexpected error occurred; nothing stored was changed",
            }
        }
        return JSONResponse(body, status_code=500)

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(PsycopgError)
    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_unavailable(exc):
            return await _unexpected(request, exc)
        # Not a failure of ours or the client's: the same request may be sent again later.
        log.warning("database unavailable: %s %s", request.method, request.url.path)
        return _database_unavailable()

    @app.exception_handler(RequestValidationError)
    async def _request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        err = InvalidParameterError(where=where, detail=f"{where}: {first.get('msg', '')}")
        return JSONResponse(_error_body(err), status_code=422)

    # -- authentication ------------------------------------------------------------------------

    bearer = HTTPBearer(auto_error=False, description="An API key: `Bearer ent_…`")

    throttle = FailureThrottle(
        runtime.settings.auth_failure_limit, runtime.settings.auth_failure_window_seconds
    )

    def authenticate(
        credentials: HTTPAuthorizationCredentials | None, client: str | None
    ) -> repo.ApiKey:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise UnauthenticatedError
        token = credentials.credentials.strip()
        # Guessing is throttled per address and per key prefix, before any key is looked up.
        counted = (("address", client), ("prefix", token[:16]))
        wait = throttle.wait(*counted)
        if wait > 0:
            raise TooManyAttemptsError(retry_after=math.ceil(wait))
        with runtime.db.unscoped() as conn:
            key = repo.authenticate(conn, token)
        if key is None:
            throttle.failed(*counted)
            raise InvalidApiKeyError
        return key

    def principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> repo.ApiKey:
        return authenticate(credentials, request.client.host if request.client else None)

    def load(key: repo.ApiKey, document_id: str, direction: str) -> repo.DocumentRow:
        try:
            ident = uuid.UUID(document_id)
        except ValueError:
            raise _not_found() from None
        if ident.version != 7:
            raise _not_found()
        with runtime.db.tenant(key.tenant_id) as conn:
            doc = repo.get_document(conn, key.tenant_id, ident, created_at(ident))
        if doc is None or doc.direction != direction:
            raise _not_found()
        return doc

    def parse_draft(body: bytes) -> InvoiceDraft:
        """A draft from JSON, refused (422, every problem listed) when it does not read or
        has more lines than ``ENTEGRATOR_MAX_DRAFT_LINES``."""
        try:
            draft = InvoiceDraft.model_validate_json(body)
        except ValidationError as exc:
            raise ValidationFailedError(_draft_findings(exc)) from None
        limit = runtime.settings.max_draft_lines
        if len(draft.lines) > limit:
            raise TooManyLinesError(lines=len(draft.lines), limit=limit, where="lines")
        return draft

    async def read_body(request: Request) -> bytes:
        return await request.body()

    def writer(credentials: HTTPAuthorizationCredentials | None, client: str | None) -> repo.ApiKey:
        key = authenticate(credentials, client)
        if key.role not in WRITE_ROLES:
            raise ForbiddenError(role=key.role)
        return key

    def issue_sync(
        key: repo.ApiKey,
        body: bytes,
        content_type: str,
        series: str | None,
        idempotency_key: str | None,
    ) -> Any:
        if not body:
            raise EmptyBodyError
        # A replay is the same request: the same body, type and series.
        request_sha = hashlib.sha256(
            b"\0".join((content_type.encode(), (series or "").encode(), body))
        ).digest()
        draft = xml = None
        if content_type in XML_TYPES:
            xml = body
        elif content_type in ("application/json", ""):
            try:
                draft = parse_draft(body)
            except ValidationFailedError:
                metrics.REJECTED.inc()
                raise
        else:
            raise UnsupportedMediaTypeError
        try:
            return runtime.invoices.issue(
                key,
                draft=draft,
                xml=xml,
                series=series,
                idempotency_key=idempotency_key,
                request_sha256=request_sha,
            )
        except (ValidationFailedError, RequestError):
            metrics.REJECTED.inc()
            raise

    # -- invoices --------------------------------------------------------------------------------

    @app.post(
        "/api/v1/invoices",
        status_code=201,
        summary="Issue an invoice from a draft (JSON) or UBL-TR XML",
        tags=["invoices"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/xml": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def issue_invoice(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        series: Annotated[str | None, Query(description="3-character series (seri)")] = None,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        # The caller is known before its body is read; parsing and validating run in a
        # worker thread, never on the event loop.
        client = request.client.host if request.client else None
        key = await run_in_threadpool(writer, credentials, client)
        body = await read_body(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        result = await run_in_threadpool(
            issue_sync, key, body, content_type, series, idempotency_key
        )
        if not result.replayed:
            metrics.ISSUED.inc()
        headers = {"Location": f"/api/v1/invoices/{result.id}"}
        if result.replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(result.to_dict(), status_code=201, headers=headers)

    def document_routes(prefix: str, direction: str, tag: str) -> None:  # noqa: PLR0915
        """The reading routes of one direction: outgoing invoices, incoming ones."""

        @app.get(prefix + "/{document_id}", tags=[tag], summary="One invoice", name=f"{tag}-get")
        def get_invoice(
            document_id: str, key: Annotated[repo.ApiKey, Depends(principal)]
        ) -> dict[str, Any]:
            doc = load(key, document_id, direction)
            with runtime.db.tenant(key.tenant_id) as conn:
                events = repo.list_events(conn, key.tenant_id, doc.document_id)
            return _document_json(doc, events)

        def signed_xml(key: repo.ApiKey, doc: repo.DocumentRow) -> bytes:
            if doc.signed_sha256 is None:
                raise NotSignedYetError(status=doc.status)
            with runtime.db.tenant(key.tenant_id) as conn:
                return repo.get_blob(conn, key.tenant_id, doc.signed_sha256)

        @app.get(
            prefix + "/{document_id}/xml",
            tags=[tag],
            name=f"{tag}-xml",
            summary="The signed UBL-TR XML",
            response_class=Response,
        )
        def get_invoice_xml(
            document_id: str, key: Annotated[repo.ApiKey, Depends(principal)]
        ) -> Response:
            doc = load(key, document_id, direction)
            data = signed_xml(key, doc)
            return Response(
                data,
                media_type="application/xml",
                headers={
                    "Content-Disposition": f'attachment; filename="{doc.number}.xml"',
                    "ETag": f'"{doc.signed_sha256.hex() if doc.signed_sha256 else ""}"',
                },
            )

        def stored_view_input(key: repo.ApiKey, document_id: str) -> tuple[repo.DocumentRow, bytes]:
            doc = load(key, document_id, direction)
            return doc, signed_xml(key, doc)

        def view_headers(source: str, fallback: str | None) -> dict[str, str]:
            headers = {"X-Entegrator-Stylesheet": source}
            if fallback is not None:
                headers["X-Entegrator-View-Fallback"] = fallback
            return headers

        @app.get(
            prefix + "/{document_id}/html",
            tags=[tag],
            name=f"{tag}-html",
            summary="The invoice view (its own XSLT, or entegrator's), with the QR code",
            response_class=Response,
        )
        async def get_invoice_html(
            document_id: str, key: Annotated[repo.ApiKey, Depends(principal)]
        ) -> Response:
            _doc, xml = await run_in_threadpool(stored_view_input, key, document_id)
            view = await renderer.html(xml)  # in a worker process, awaited without a thread
            return Response(
                view.html,
                media_type="text/html; charset=utf-8",
                headers={
                    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                    "X-Content-Type-Options": "nosniff",
                    **view_headers(view.source, view.fallback),
                },
            )

        @app.get(
            prefix + "/{document_id}/pdf",
            tags=[tag],
            name=f"{tag}-pdf",
            summary="The invoice view as PDF",
            response_class=Response,
        )
        async def get_invoice_pdf(
            document_id: str, key: Annotated[repo.ApiKey, Depends(principal)]
        ) -> Response:
            doc, xml = await run_in_threadpool(stored_view_input, key, document_id)
            view = await renderer.pdf(xml)
            return Response(
                view.pdf,
                media_type="application/pdf",
                headers={
                    "Content-Disposition": f'inline; filename="{doc.number}.pdf"',
                    **view_headers(view.source, view.fallback),
                },
            )

        @app.get(prefix, tags=[tag], summary="Search (newest first)", name=f"{tag}-search")
        def search_invoices(  # noqa: PLR0917 - one query parameter per filter
            key: Annotated[repo.ApiKey, Depends(principal)],
            issued_from: dt.date | None = None,
            issued_to: dt.date | None = None,
            party: Annotated[str | None, Query(pattern=r"^[0-9]{10,11}$")] = None,
            status: Annotated[str | None, Query(pattern=_PLAIN)] = None,
            profile: Annotated[str | None, Query(pattern=_PLAIN)] = None,
            type: Annotated[str | None, Query(pattern=_PLAIN)] = None,
            number: Annotated[str | None, Query(pattern=_PLAIN)] = None,
            min_total: str | None = None,
            max_total: str | None = None,
            limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
            cursor: str | None = None,
        ) -> dict[str, Any]:
            where = ["tenant_id = :t", "direction = :direction"]
            params: dict[str, Any] = {
                "t": key.tenant_id,
                "limit": limit + 1,
                "direction": direction,
            }
            simple = {
                "status": status,
                "profile": profile,
                "type": type,
                "number": number,
            }
            for column, value in simple.items():
                if value is not None:
                    where.append(f"{column} = :{column}")
                    params[column] = value
            if issued_from is not None:
                where.append("issue_date >= :issued_from")
                params["issued_from"] = issued_from
            if issued_to is not None:
                where.append("issue_date <= :issued_to")
                params["issued_to"] = issued_to
            if party is not None:
                where.append("(receiver_id = :party OR sender_id = :party)")
                params["party"] = party
            for name, value, op in (("min_total", min_total, ">="), ("max_total", max_total, "<=")):
                if value is None:
                    continue
                try:
                    amount = Decimal(value)
                except InvalidOperation:
                    raise InvalidAmountError(where=name) from None
                if not amount.is_finite() or amount.adjusted() >= MAX_AMOUNT_DIGITS:
                    raise InvalidAmountError(where=name)
                params[name] = amount
                where.append(f"payable {op} :{name}")
            if cursor is not None:
                when, ident = _decode_cursor(cursor)
                where.append("(created_at, document_id) < (:c_at, :c_id)")
                params["c_at"], params["c_id"] = when, ident
            sql = (
                f"SELECT {repo.DOCUMENT_COLUMNS} FROM documents WHERE {' AND '.join(where)} "  # noqa: S608 - constant columns and clauses; values are bound
                "ORDER BY created_at DESC, document_id DESC LIMIT :limit"
            )
            with runtime.db.tenant(key.tenant_id) as conn:
                rows = [repo.DocumentRow.from_row(r) for r in conn.execute(text(sql), params)]
            more = len(rows) > limit
            rows = rows[:limit]
            return {
                "items": [_document_json(d, None) for d in rows],
                "next_cursor": _encode_cursor(rows[-1]) if more and rows else None,
            }

    document_routes("/api/v1/invoices", "out", "invoices")
    document_routes("/api/v1/incoming", "in", "incoming")

    class AnswerIn(BaseModel):
        reason: Annotated[str | None, Field(max_length=500), AfterValidator(xml_safe)] = None

    def answer_route(answer: str, path: str) -> None:
        @app.post(
            f"/api/v1/incoming/{{document_id}}/{path}",
            tags=["incoming"],
            summary=f"{answer} a TICARIFATURA invoice (signed answer sent through GİB)",
            name=f"incoming-{path}",
        )
        def answer_invoice(
            document_id: str,
            key: Annotated[repo.ApiKey, Depends(principal)],
            body: AnswerIn | None = None,
        ) -> dict[str, Any]:
            if key.role not in WRITE_ROLES:
                raise ForbiddenError(role=key.role)
            reason = body.reason if body else None
            if answer == "RED" and not reason:
                raise InvalidParameterError(where="reason", detail="reason: required to reject")
            doc = load(key, document_id, "in")
            return runtime.answers.answer(key, doc.document_id, answer=answer, reason=reason)

    answer_route("KABUL", "accept")
    answer_route("RED", "reject")

    # -- webhooks ------------------------------------------------------------------------------

    class WebhookIn(BaseModel):
        url: Annotated[str, Field(max_length=2000)]
        events: list[str] | None = None

    def webhook_admin(key: repo.ApiKey) -> None:
        if key.role not in WEBHOOK_ROLES:
            raise ForbiddenError(role=key.role)

    def webhook_id_of(value: str) -> uuid.UUID:
        try:
            return uuid.UUID(value)
        except ValueError:
            raise WebhookNotFoundError() from None

    @app.post(
        "/api/v1/webhooks",
        tags=["webhooks"],
        status_code=201,
        summary="Register an ERP endpoint; the answer shows its signing secret once",
    )
    def create_webhook(
        body: WebhookIn, key: Annotated[repo.ApiKey, Depends(principal)]
    ) -> dict[str, Any]:
        webhook_admin(key)
        with runtime.db.tenant(key.tenant_id) as conn:
            created = runtime.webhooks.create(conn, key.tenant_id, body.url, body.events)
            repo.append_audit(
                conn,
                key.tenant_id,
                actor=key.actor,
                action="webhook.create",
                target=created["id"],
                data={"url": body.url, "events": created["events"]},
            )
        return created

    @app.get("/api/v1/webhooks", tags=["webhooks"], summary="The tenant's endpoints")
    def list_webhooks(key: Annotated[repo.ApiKey, Depends(principal)]) -> dict[str, Any]:
        webhook_admin(key)
        with runtime.db.tenant(key.tenant_id) as conn:
            return {"items": runtime.webhooks.endpoints(conn, key.tenant_id)}

    @app.delete(
        "/api/v1/webhooks/{webhook_id}",
        tags=["webhooks"],
        status_code=204,
        summary="Stop notifying an endpoint",
    )
    def delete_webhook(webhook_id: str, key: Annotated[repo.ApiKey, Depends(principal)]) -> None:
        webhook_admin(key)
        wid = webhook_id_of(webhook_id)
        with runtime.db.tenant(key.tenant_id) as conn:
            if not runtime.webhooks.deactivate(conn, key.tenant_id, wid):
                raise WebhookNotFoundError()
            repo.append_audit(
                conn, key.tenant_id, actor=key.actor, action="webhook.delete", target=str(wid)
            )

    @app.get(
        "/api/v1/webhooks/{webhook_id}/deliveries",
        tags=["webhooks"],
        summary="What was sent to an endpoint, newest first, with each one's outcome",
    )
    def webhook_deliveries(
        webhook_id: str, key: Annotated[repo.ApiKey, Depends(principal)]
    ) -> dict[str, Any]:
        webhook_admin(key)
        with runtime.db.tenant(key.tenant_id) as conn:
            items = runtime.webhooks.deliveries(conn, key.tenant_id, webhook_id_of(webhook_id))
        if items is None:
            raise WebhookNotFoundError()
        return {"items": items}

    # -- validation ------------------------------------------------------------------------------

    @app.post(
        "/api/v1/validate",
        tags=["validation"],
        summary="Validate a document (UBL-TR XML or an invoice draft) without storing it",
    )
    async def validate(
        request: Request, key: Annotated[repo.ApiKey, Depends(principal)]
    ) -> dict[str, Any]:
        del key
        body = await read_body(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        # A draft is parsed and built, and any document validated, off the event loop.
        report: Report = await run_in_threadpool(validate_sync, body, content_type)
        return report.to_dict()

    def validate_sync(body: bytes, content_type: str) -> Report:
        if content_type == "application/json":
            from entegrator.documents import build_invoice
            from entegrator.documents.errors import DraftError

            draft = parse_draft(body)
            try:
                updates: dict[str, Any] = {}
                if draft.number is None:
                    updates["number"] = f"TST{draft.issue_date.year}000000001"
                if draft.ettn is None:
                    updates["ettn"] = str(uuid.uuid4())
                body = build_invoice(draft.model_copy(update=updates) if updates else draft)
            except DraftError as exc:
                raise ValidationFailedError(draft_findings(exc)) from None
        return runtime.validator.validate(body, name="request")

    # -- GİB delivers envelopes here ------------------------------------------------------------

    app.include_router(gib_router(runtime, via_tls=False))

    # -- operations ------------------------------------------------------------------------------

    # On the event loop, not in the request threads: it answers while they are all busy.
    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="The database answers and is migrated, and the worker (if any) is running",
    )
    def readyz() -> JSONResponse:
        state = "absent" if worker is None else str(worker.status)
        try:
            revision = runtime.db.revision()
        except Exception as exc:  # any failure means: not ready
            return JSONResponse(
                {"status": "unavailable", "detail": type(exc).__name__, "worker": state},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        head = runtime.db.head()
        if revision != head:
            status = "migrating"
        elif worker is not None and worker.status is not WorkerStatus.RUNNING:
            status = "unavailable"  # nothing would sign what this process accepts
        else:
            status = "ready"
        return JSONResponse(
            {"status": status, "revision": revision, "head": head, "worker": state},
            status_code=200 if status == "ready" else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    def get_metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
        metrics_access(runtime.settings, authorization)
        data, content_type = metrics.render()
        return Response(data, media_type=content_type)

    return app
