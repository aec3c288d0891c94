"""The asynchronous client: :class:`AsyncClient` (the same operations as ``Client``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import httpx

from entegrator.client import _calls as calls
from entegrator.client._calls import Call, Document
from entegrator.client._retry import RetryPolicy, outcome, retryable, transport_error
from entegrator.client.errors import ApiError
from entegrator.client.types import (
    Acknowledged,
    Change,
    ChangePage,
    Delivery,
    EarsivReports,
    Exported,
    GibUsers,
    Issued,
    Page,
    SeriesDefaults,
    Webhook,
)

__all__ = ["AsyncClient"]


class AsyncClient:
    """entegrator's API for one tenant's API key.

    >>> async with AsyncClient("http://127.0.0.1:8000", "ent_…") as api:  # doctest: +SKIP
    ...     issued = await api.invoices.issue(draft, idempotency_key="order-1001")
    ...     async for invoice in api.invoices.iter(party="7047649710"):
    ...         print(invoice["number"], invoice["status"])

    Every POST carries an ``Idempotency-Key`` (yours, or a new one per call), so that the
    retries after a lost connection, a 429, 502, 503 or 504 (``retry``) never do the work
    twice. Errors are :class:`~entegrator.client.errors.ApiError` subclasses.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "entegrator-client"},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.invoices = Invoices(self)
        self.incoming = Incoming(self)
        self.earsiv = Earsiv(self)
        self.webhooks = Webhooks(self)
        self.settings = Settings(self)
        self.gib_users = GibUserLookup(self)
        self.reports = Reports(self)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call) -> Any:
        """Sends ``call``, retrying as the policy allows; the result or an ``ApiError``."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    content=call.body,
                    headers=call.headers(),
                )
            except httpx.HTTPError as exc:
                error: ApiError = transport_error(exc)
            else:
                result, maybe = outcome(call, response)
                if maybe is None:
                    return result
                error = maybe
            pause = self.retry.pause(attempt, error.retry_after) if retryable(call, error) else None
            if pause is None:
                raise error
            await self._sleep(pause)

    async def pages(self, path: str, filters: Mapping[str, object]) -> AsyncIterator[Document]:
        """Every item of a cursor-paged list, page after page."""
        cursor: str | None = None
        while True:
            page = cast(Page, await self.send(calls.search(path, {**filters, "cursor": cursor})))
            for item in page["items"]:
                yield item
            cursor = page.get("next_cursor")
            if not cursor:
                return

    # -- operations outside a resource -------------------------------------------------------

    async def validate(
        self, document: Mapping[str, Any] | bytes | str, *, purpose: str | None = None
    ) -> dict[str, Any]:
        """``POST /api/v1/validate``: the validation report (stores nothing)."""
        return cast(dict[str, Any], await self.send(calls.validate(document, purpose)))

    async def ready(self) -> dict[str, Any]:
        """``GET /readyz`` (raises ``UnavailableError`` while not ready)."""
        return cast(dict[str, Any], await self.send(Call("GET", "/readyz")))

    async def changes_page(
        self, since: str | None = None, *, limit: int | None = None, direction: str | None = None
    ) -> ChangePage:
        """One page of ``GET /api/v1/changes``: ``items``, ``next_cursor``, ``more``."""
        return cast(ChangePage, await self.send(calls.changes_page(since, limit, direction)))

    async def changes(
        self, since: str | None = None, *, limit: int | None = None, direction: str | None = None
    ) -> AsyncIterator[tuple[Change, str]]:
        """Every change after ``since`` until none is waiting, each with its cursor."""
        while True:
            page = await self.changes_page(since, limit=limit, direction=direction)
            for item in page["items"]:
                yield item, item["cursor"]
            since = page["next_cursor"]
            if not page["more"]:
                return

    async def export(
        self, start: dt.date, end: dt.date, target: Path, *, pdf: bool = False
    ) -> Exported:
        """``GET /api/v1/exports`` streamed into ``target``; the manifest's SHA-256 and the
        number of documents."""
        call = calls.export(start, end, pdf)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._http.stream(
                    "GET", call.path, params=call.params, headers=call.headers()
                ) as response:
                    if response.status_code < 400:
                        with target.open("wb") as out:
                            async for chunk in response.aiter_bytes():
                                out.write(chunk)
                        return {
                            "manifest_sha256": response.headers.get(
                                "X-Entegrator-Manifest-SHA256", ""
                            ),
                            "documents": int(response.headers.get("X-Entegrator-Documents", 0)),
                        }
                    await response.aread()
                    _, maybe = outcome(call, response)
                    error: ApiError = maybe or transport_error(httpx.HTTPError("no answer"))
            except httpx.HTTPError as exc:
                error = transport_error(exc)
            pause = self.retry.pause(attempt, error.retry_after) if retryable(call, error) else None
            if pause is None:
                raise error
            await self._sleep(pause)


class _Resource:
    path = ""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def get(self, document_id: str) -> Document:
        return cast(Document, await self._c.send(calls.get(self.path, document_id)))

    async def search(self, **filters: object) -> Page:
        """One page; ``cursor=`` the previous page's ``next_cursor``."""
        return cast(Page, await self._c.send(calls.search(self.path, filters)))

    def iter(self, **filters: object) -> AsyncIterator[Document]:
        """Every document matching ``filters``, newest first, across pages."""
        return self._c.pages(self.path, filters)

    async def xml(self, document_id: str) -> bytes:
        return cast(bytes, await self._c.send(calls.get(self.path, document_id, "/xml", "bytes")))

    async def html(self, document_id: str) -> bytes:
        return cast(bytes, await self._c.send(calls.get(self.path, document_id, "/html", "bytes")))

    async def pdf(self, document_id: str) -> bytes:
        return cast(bytes, await self._c.send(calls.get(self.path, document_id, "/pdf", "bytes")))


class Invoices(_Resource):
    """Outgoing invoices: ``/api/v1/invoices``."""

    path = "/api/v1/invoices"

    async def issue(
        self,
        document: Mapping[str, Any] | bytes | str,
        *,
        series: str | None = None,
        idempotency_key: str | None = None,
    ) -> Issued:
        """A draft (mapping) or UBL-TR XML; ``idempotency_key`` your own order id."""
        call = calls.issue_invoice(document, series=series, idempotency_key=idempotency_key)
        return cast(Issued, await self._c.send(call))

    async def cancel(
        self, document_id: str, reason: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """An e-Arşiv invoice's cancellation."""
        call = calls.cancel_invoice(document_id, reason, idempotency_key)
        return cast(dict[str, Any], await self._c.send(call))

    async def deliver(
        self, document_id: str, email: str, *, idempotency_key: str | None = None
    ) -> Delivery:
        """E-mails the signed invoice (again) to ``email``."""
        call = calls.deliver_invoice(document_id, email, idempotency_key)
        return cast(Delivery, await self._c.send(call))

    async def deliveries(self, document_id: str) -> list[Delivery]:
        page = await self._c.send(calls.get(self.path, document_id, "/deliveries"))
        return cast(list[Delivery], page["items"])


class Incoming(_Resource):
    """Incoming invoices: ``/api/v1/incoming``."""

    path = "/api/v1/incoming"

    def unacknowledged(
        self, consumer: str | None = None, **filters: object
    ) -> AsyncIterator[Document]:
        """Received documents ``consumer`` has not acknowledged, oldest first."""
        return self._c.pages(self.path, {"unacknowledged": "true", "consumer": consumer, **filters})

    async def acknowledge(self, ids: Sequence[str], consumer: str | None = None) -> Acknowledged:
        """``POST /api/v1/incoming/ack``: idempotent; unknown ids come back in ``unknown``."""
        return cast(Acknowledged, await self._c.send(calls.acknowledge(ids, consumer)))

    async def accept(self, document_id: str, *, idempotency_key: str | None = None) -> Document:
        """KABUL for a TICARIFATURA."""
        return cast(
            Document, await self._c.send(calls.accept_incoming(document_id, idempotency_key))
        )

    async def reject(
        self, document_id: str, reason: str, *, idempotency_key: str | None = None
    ) -> Document:
        """RED with its reason."""
        call = calls.reject_incoming(document_id, reason, idempotency_key)
        return cast(Document, await self._c.send(call))


class Earsiv:
    """e-Arşiv reports: ``/api/v1/earsiv/reports``."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def reports(
        self, *, status: str | None = None, period: str | None = None, limit: int | None = None
    ) -> EarsivReports:
        filters = {"status": status, "period": period, "limit": limit}
        return cast(
            EarsivReports, await self._c.send(calls.search("/api/v1/earsiv/reports", filters))
        )

    async def report(self, report_id: str) -> dict[str, Any]:
        return cast(
            dict[str, Any], await self._c.send(calls.get("/api/v1/earsiv/reports", report_id))
        )

    async def report_xml(self, report_id: str) -> bytes:
        call = calls.get("/api/v1/earsiv/reports", report_id, "/xml", "bytes")
        return cast(bytes, await self._c.send(call))


class Webhooks:
    """Webhook endpoints: ``/api/v1/webhooks``."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def create(
        self,
        url: str,
        events: Sequence[str] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Webhook:
        """Registers ``url``; the answer's ``secret`` is shown only now."""
        return cast(Webhook, await self._c.send(calls.create_webhook(url, events, idempotency_key)))

    async def endpoints(self) -> list[Webhook]:
        page = await self._c.send(Call("GET", "/api/v1/webhooks"))
        return cast(list[Webhook], page["items"] if isinstance(page, dict) else page)

    async def delete(self, webhook_id: str) -> None:
        await self._c.send(calls.delete_webhook(webhook_id))

    async def deliveries(self, webhook_id: str) -> list[dict[str, Any]]:
        page = await self._c.send(calls.get("/api/v1/webhooks", webhook_id, "/deliveries"))
        return cast(list[dict[str, Any]], page["items"] if isinstance(page, dict) else page)


class Settings:
    """Tenant settings: ``/api/v1/settings``."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def series(self) -> SeriesDefaults:
        return cast(SeriesDefaults, await self._c.send(Call("GET", "/api/v1/settings/series")))

    async def set_series(self, **kinds: str) -> SeriesDefaults:
        """``set_series(internet="WEB")``: the kinds to change; all three come back."""
        return cast(SeriesDefaults, await self._c.send(calls.set_series(kinds)))


class GibUserLookup:
    """GİB's registered users, from the installation's cached list: ``/api/v1/gib-users``."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def get(self, identifier: str) -> GibUsers:
        return cast(GibUsers, await self._c.send(calls.gib_user(identifier)))

    async def lookup(self, identifiers: Sequence[str]) -> GibUsers:
        return cast(GibUsers, await self._c.send(calls.gib_users(identifiers)))


class Reports:
    """``/api/v1/reports/{kdv,partners,counts}``."""

    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    async def get(self, name: str, period: str, *, format: str = "json") -> Any:
        """The report as a dict (``json``), or the file's bytes (``csv``, ``xlsx``)."""
        return await self._c.send(calls.report(name, period, format))
