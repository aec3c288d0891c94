"""The sync and async clients: one method per API operation, retries, paging, typed errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

import httpx

from entegrator.client._errors import TransportError, error_for

__all__ = [
    "AckResult",
    "AsyncClient",
    "Change",
    "Client",
    "GibUsers",
    "InvoiceSummary",
    "IssueResult",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
ReportFormat = Literal["json", "csv", "xlsx"]


class IssueResult(TypedDict):
    id: str
    ettn: str
    number: str
    status: str
    warnings: list[dict[str, Any]]


class InvoiceSummary(TypedDict, total=False):
    id: str
    ettn: str
    number: str | None
    status: str
    status_code: str | None
    direction: str
    profile: str | None
    type: str | None
    issue_date: str | None
    sender: dict[str, Any]
    receiver: dict[str, Any]
    currency: str | None
    totals: dict[str, Any]
    signed: bool
    created_at: str
    updated_at: str


class Change(TypedDict):
    cursor: str
    document_id: str
    direction: str | None
    kind: str | None
    number: str | None
    seq: int
    type: str
    status: str | None
    document_status: str | None
    at: str


class AckResult(TypedDict):
    consumer: str
    acknowledged: list[str]
    unknown: list[str]


class GibUsers(TypedDict):
    users: list[dict[str, Any]]
    list_refreshed_at: str
    list_age_seconds: int


def _params(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, dt.date):
            out[name] = value.isoformat()
        else:
            out[name] = str(value)
    return out


class _Base:
    """What both clients share: the address, the key, retry policy, turning answers into
    values or typed errors."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}", "User-Agent": "entegrator-client"}
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff

    def _pause(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            after = response.headers.get("Retry-After", "")
            if after.isdigit():
                return min(float(after), self.max_backoff)
        pause = min(self.backoff * 2.0**attempt, self.max_backoff)
        return pause * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not secrecy

    @staticmethod
    def _headers(method: str, idempotency_key: str | None) -> dict[str, str]:
        # Every POST carries an Idempotency-Key, the same on each retry: a retried request whose
        # first answer was lost is answered again, never done twice.
        if method == "POST":
            return {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return {}

    @staticmethod
    def _should_retry(response: httpx.Response) -> bool:
        return response.status_code in RETRY_STATUSES

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        after = response.headers.get("Retry-After", "")
        raise error_for(response.status_code, body, float(after) if after.isdigit() else None)


def _items_of(page: Any) -> list[Any]:
    return list(page.get("items", [])) if isinstance(page, dict) else []


class Client(_Base):
    """The API over HTTP, synchronously. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, retries=retries, backoff=backoff)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self.headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """One call, retried on a broken connection, 429 and 502–504 (POSTs too: each carries
        the same Idempotency-Key on every attempt); an error answer raises its typed error."""
        sent = {**self._headers(method, idempotency_key), **(headers or {})}
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(
                    method, path, params=_params(params or {}), json=json, content=content,
                    headers=sent,
                )  # fmt: skip
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise TransportError(f"{method} {path}: {exc!r}") from exc
                time.sleep(self._pause(attempt, None))
                continue
            if self._should_retry(response) and attempt < self.retries:
                time.sleep(self._pause(attempt, response))
                continue
            self._raise_for(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Any]:
        query = dict(params)
        while True:
            page = self._json("GET", path, params=query)
            yield from _items_of(page)
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    # -- outgoing invoices ----------------------------------------------------------------------

    def issue_invoice(
        self, draft: Mapping[str, Any] | bytes, *, idempotency_key: str | None = None
    ) -> IssueResult:
        """Issue an invoice from a draft (JSON) or UBL-TR XML bytes."""
        if isinstance(draft, bytes):
            response = self.request(
                "POST", "/api/v1/invoices", content=draft,
                headers={"Content-Type": "application/xml"}, idempotency_key=idempotency_key,
            )  # fmt: skip
        else:
            response = self.request(
                "POST", "/api/v1/invoices", json=dict(draft), idempotency_key=idempotency_key
            )
        return cast(IssueResult, response.json())

    def get_invoice(self, document_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._json("GET", f"/api/v1/invoices/{document_id}"))

    def invoice_xml(self, document_id: str) -> bytes:
        return self.request("GET", f"/api/v1/invoices/{document_id}/xml").content

    def invoice_pdf(self, document_id: str) -> bytes:
        return self.request("GET", f"/api/v1/invoices/{document_id}/pdf").content

    def invoices(self, *, limit: int = 100, **filters: Any) -> Iterator[InvoiceSummary]:
        """Every outgoing invoice passing ``filters`` (as ``GET /api/v1/invoices`` takes them),
        newest first, page after page."""
        return self._pages("/api/v1/invoices", {"limit": limit, **filters})

    def cancel_invoice(self, document_id: str, reason: str | None = None) -> dict[str, Any]:
        body = {"reason": reason} if reason else None
        return cast(
            dict[str, Any], self._json("POST", f"/api/v1/invoices/{document_id}/cancel", json=body)
        )

    # -- incoming documents ---------------------------------------------------------------------

    def incoming(self, *, limit: int = 100, **filters: Any) -> Iterator[InvoiceSummary]:
        return self._pages("/api/v1/incoming", {"limit": limit, **filters})

    def unacknowledged(
        self, consumer: str | None = None, *, limit: int = 100, **filters: Any
    ) -> Iterator[InvoiceSummary]:
        """Incoming documents ``consumer`` has not acknowledged, oldest first."""
        return self._pages(
            "/api/v1/incoming",
            {"unacknowledged": True, "consumer": consumer, "limit": limit, **filters},
        )

    def acknowledge(self, ids: Sequence[str], consumer: str | None = None) -> AckResult:
        body: dict[str, Any] = {"ids": list(ids)}
        if consumer is not None:
            body["consumer"] = consumer
        return cast(AckResult, self._json("POST", "/api/v1/incoming/ack", json=body))

    def accept_incoming(self, document_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._json("POST", f"/api/v1/incoming/{document_id}/accept"))

    def reject_incoming(self, document_id: str, reason: str) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            self._json("POST", f"/api/v1/incoming/{document_id}/reject", json={"reason": reason}),
        )

    # -- the change feed ------------------------------------------------------------------------

    def changes_page(
        self, since: str | None = None, *, limit: int = 100, direction: str | None = None
    ) -> dict[str, Any]:
        """One page: ``items``, ``next_cursor`` (store it after handling the items), ``more``."""
        params = {"since": since, "limit": limit, "direction": direction}
        return cast(dict[str, Any], self._json("GET", "/api/v1/changes", params=params))

    def changes(
        self, since: str | None = None, *, limit: int = 100, direction: str | None = None
    ) -> Iterator[tuple[Change, str]]:
        """Every change after ``since`` until none is waiting, each with the cursor to store
        once it is handled."""
        while True:
            page = self.changes_page(since, limit=limit, direction=direction)
            for item in page["items"]:
                yield cast(Change, item), item["cursor"]
            since = page["next_cursor"]
            if not page["more"]:
                return

    # -- GİB users, reports, exports ------------------------------------------------------------

    def gib_user(self, identifier: str) -> GibUsers:
        return cast(GibUsers, self._json("GET", f"/api/v1/gib-users/{identifier}"))

    def gib_users(self, identifiers: Sequence[str]) -> GibUsers:
        return cast(
            GibUsers,
            self._json("POST", "/api/v1/gib-users", json={"identifiers": list(identifiers)}),
        )

    def report(
        self,
        name: Literal["kdv", "partners", "counts"],
        period: str,
        *,
        format: ReportFormat = "json",
    ) -> Any:
        """A report as a dict (``json``), or the file's bytes (``csv``, ``xlsx``)."""
        response = self.request(
            "GET", f"/api/v1/reports/{name}", params={"period": period, "format": format}
        )
        return response.json() if format == "json" else response.content

    def export(
        self, start: dt.date, end: dt.date, target: Path, *, pdf: bool = False
    ) -> dict[str, str]:
        """Stream ``GET /api/v1/exports`` into ``target``; the manifest's SHA-256 and the count."""
        params = _params({"from": start, "to": end, "pdf": pdf})
        with self._http.stream("GET", "/api/v1/exports", params=params) as response:
            if response.status_code >= 400:
                response.read()
                self._raise_for(response)
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            return {
                "manifest_sha256": response.headers.get("X-Entegrator-Manifest-SHA256", ""),
                "documents": response.headers.get("X-Entegrator-Documents", ""),
            }


class AsyncClient(_Base):
    """The API over HTTP for asyncio: the same methods as :class:`Client`, awaited; paging
    methods are async iterators."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, retries=retries, backoff=backoff)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self.headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        sent = {**self._headers(method, idempotency_key), **(headers or {})}
        for attempt in range(self.retries + 1):
            try:
                response = await self._http.request(
                    method, path, params=_params(params or {}), json=json, content=content,
                    headers=sent,
                )  # fmt: skip
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise TransportError(f"{method} {path}: {exc!r}") from exc
                await asyncio.sleep(self._pause(attempt, None))
                continue
            if self._should_retry(response) and attempt < self.retries:
                await asyncio.sleep(self._pause(attempt, response))
                continue
            self._raise_for(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self.request(method, path, **kwargs)).json()

    async def _pages(self, path: str, params: Mapping[str, Any]) -> AsyncIterator[Any]:
        query = dict(params)
        while True:
            page = await self._json("GET", path, params=query)
            for item in _items_of(page):
                yield item
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    async def issue_invoice(
        self, draft: Mapping[str, Any] | bytes, *, idempotency_key: str | None = None
    ) -> IssueResult:
        if isinstance(draft, bytes):
            response = await self.request(
                "POST", "/api/v1/invoices", content=draft,
                headers={"Content-Type": "application/xml"}, idempotency_key=idempotency_key,
            )  # fmt: skip
        else:
            response = await self.request(
                "POST", "/api/v1/invoices", json=dict(draft), idempotency_key=idempotency_key
            )
        return cast(IssueResult, response.json())

    async def get_invoice(self, document_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], await self._json("GET", f"/api/v1/invoices/{document_id}"))

    def invoices(self, *, limit: int = 100, **filters: Any) -> AsyncIterator[InvoiceSummary]:
        return self._pages("/api/v1/invoices", {"limit": limit, **filters})

    def unacknowledged(
        self, consumer: str | None = None, *, limit: int = 100, **filters: Any
    ) -> AsyncIterator[InvoiceSummary]:
        return self._pages(
            "/api/v1/incoming",
            {"unacknowledged": True, "consumer": consumer, "limit": limit, **filters},
        )

    async def acknowledge(self, ids: Sequence[str], consumer: str | None = None) -> AckResult:
        body: dict[str, Any] = {"ids": list(ids)}
        if consumer is not None:
            body["consumer"] = consumer
        return cast(AckResult, await self._json("POST", "/api/v1/incoming/ack", json=body))

    async def changes(
        self, since: str | None = None, *, limit: int = 100, direction: str | None = None
    ) -> AsyncIterator[tuple[Change, str]]:
        while True:
            params = {"since": since, "limit": limit, "direction": direction}
            page = await self._json("GET", "/api/v1/changes", params=params)
            for item in page["items"]:
                yield cast(Change, item), item["cursor"]
            since = page["next_cursor"]
            if not page["more"]:
                return

    async def gib_users(self, identifiers: Sequence[str]) -> GibUsers:
        return cast(
            GibUsers,
            await self._json("POST", "/api/v1/gib-users", json={"identifiers": list(identifiers)}),
        )

    async def report(
        self,
        name: Literal["kdv", "partners", "counts"],
        period: str,
        *,
        format: ReportFormat = "json",
    ) -> Any:
        response = await self.request(
            "GET", f"/api/v1/reports/{name}", params={"period": period, "format": format}
        )
        return response.json() if format == "json" else response.content
