"""The client library against a real server (uvicorn on loopback, PostgreSQL): issuing with
idempotent retries, paging, downloads, typed errors; sync and async alike.

Where a test needs the network to misbehave (an answer lost after the server did the work, a
503 from a proxy), a transport wraps the real one: the request still reaches the real server.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from entegrator.client import (
    ApiError,
    AsyncClient,
    AuthenticationError,
    Client,
    ConflictError,
    ConnectionFailedError,
    ForbiddenError,
    NotFoundError,
    RetryPolicy,
    UnavailableError,
    ValidationFailedError,
)
from entegrator.runtime import Runtime
from tests.testing.platform import TenantHandle, drain

FAST = RetryPolicy(attempts=4, backoff_seconds=0.0, max_wait_seconds=1.0)


def _client(tenant: TenantHandle, **kw: Any) -> Client:
    return Client(tenant.base_url, tenant.token, retry=kw.pop("retry", FAST), **kw)


class LoseFirstAnswers(httpx.BaseTransport):
    """Passes every request to the server, but drops the answer of the first ``n`` POSTs, as a
    connection that breaks after the server has done the work."""

    def __init__(self, n: int = 1) -> None:
        self.inner = httpx.HTTPTransport()
        self.left = n
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            self.keys.append(request.headers.get("Idempotency-Key"))
            if self.left:
                self.left -= 1
                response.read()
                response.close()
                raise httpx.ReadError("connection reset", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


class BusyFirst(httpx.BaseTransport):
    """Answers the first ``n`` requests itself with 503 and ``Retry-After`` (a busy proxy),
    then passes requests to the server."""

    def __init__(self, n: int, retry_after: str = "0") -> None:
        self.inner = httpx.HTTPTransport()
        self.left = n
        self.retry_after = retry_after
        self.seen = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.left:
            self.left -= 1
            return httpx.Response(
                503,
                headers={"Retry-After": self.retry_after},
                json={
                    "error": {
                        "code": "DATABASE_UNAVAILABLE",
                        "message_tr": "Veritabanına ulaşılamıyor",
                        "message_en": "The database is unavailable",
                    }
                },
            )
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_issue_read_and_download_through_the_client(tenant: TenantHandle, runtime: Runtime) -> None:
    with _client(tenant) as api:
        issued = api.invoices.issue(tenant.draft(), idempotency_key=f"order-{uuid.uuid4()}")
        assert issued["number"].startswith("EFA") and issued["status"] == "validated"
        drain(runtime)
        invoice = api.invoices.get(issued["id"])
        assert invoice["number"] == issued["number"] and invoice["status"] != "validated"
        xml = api.invoices.xml(issued["id"])
        assert issued["ettn"].encode() in xml.upper() and b"ds:Signature" in xml
        assert api.invoices.pdf(issued["id"]).startswith(b"%PDF-")
        assert api.settings.series()["efatura"] == "EFA"
        report = api.validate(tenant.draft())
        assert report["valid"] is True and report["kind"] == "invoice"


def test_a_lost_answer_is_retried_with_the_same_key_and_issues_once(
    make_tenant: Callable[..., TenantHandle],
) -> None:
    who = make_tenant(seal=False)
    flaky = LoseFirstAnswers(1)
    with _client(who, transport=flaky) as api:
        issued = api.invoices.issue(who.draft())  # no key of ours: the client makes one
        assert len(flaky.keys) == 2 and flaky.keys[0] == flaky.keys[1] and flaky.keys[0]
        everything = list(api.invoices.iter())
    # The server did the work on the first attempt; the retry got that answer, not a second.
    assert [d["id"] for d in everything] == [issued["id"]]


def test_without_retries_a_lost_answer_is_a_connection_error(
    make_tenant: Callable[..., TenantHandle],
) -> None:
    who = make_tenant(seal=False)
    no_retry = RetryPolicy(attempts=1)
    with _client(who, transport=LoseFirstAnswers(1), retry=no_retry) as api:
        with pytest.raises(ConnectionFailedError) as lost:
            api.invoices.issue(who.draft(), idempotency_key="order-1")
        assert lost.value.status == 0 and lost.value.code == "CONNECTION_FAILED"
        # Sent again by hand with the same key: the first document, not a new one.
        again = api.invoices.issue(who.draft(), idempotency_key="order-1")
        assert [d["id"] for d in api.invoices.iter()] == [again["id"]]


def test_a_busy_answer_is_waited_for_as_retry_after_says(tenant: TenantHandle) -> None:
    pauses: list[float] = []
    busy = BusyFirst(2, retry_after="0.5")
    with _client(tenant, transport=busy, sleep=pauses.append) as api:
        assert api.settings.series()["earsiv"] == "EAR"
    assert pauses == [0.5, 0.5] and busy.seen == 3
    # Asked to wait longer than the policy allows: the error at once, not a long sleep.
    slow = BusyFirst(1, retry_after="3600")
    with (
        _client(tenant, transport=slow, sleep=pauses.append) as api,
        pytest.raises(UnavailableError) as busy_error,
    ):
        api.settings.series()
    assert busy_error.value.retry_after == 3600 and busy_error.value.code == "DATABASE_UNAVAILABLE"
    assert pauses == [0.5, 0.5]


def test_cursor_paging_yields_every_document_once(
    make_tenant: Callable[..., TenantHandle],
) -> None:
    who = make_tenant(seal=False)
    with _client(who) as api:
        ids = {api.invoices.issue(who.draft())["id"] for _ in range(5)}
        first = api.invoices.search(limit=2)
        assert len(first["items"]) == 2 and first["next_cursor"]
        seen = [d["id"] for d in api.invoices.iter(limit=2)]
    assert len(seen) == 5 and set(seen) == ids


def test_errors_are_typed_and_carry_the_code_and_both_messages(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    with _client(tenant) as api:
        broken = tenant.draft()
        broken["lines"][0]["quantity"] = "-1"
        with pytest.raises(ValidationFailedError) as invalid:
            api.invoices.issue(broken)
        assert invalid.value.status == 422 and invalid.value.code == "VALIDATION_FAILED"
        assert invalid.value.message_tr and invalid.value.message_en
        assert invalid.value.findings and all("code" in f for f in invalid.value.findings)
        with pytest.raises(NotFoundError) as missing:
            api.invoices.get(str(uuid.uuid4()))
        assert missing.value.code == "DOCUMENT_NOT_FOUND"
        # An id that tries to leave its path segment stays in it.
        with pytest.raises(NotFoundError):
            api.invoices.get("../../readyz")
        api.invoices.issue(tenant.draft(), idempotency_key="same-key")
        with pytest.raises(ConflictError) as reused:
            api.invoices.issue(tenant.draft(notes=["başka"]), idempotency_key="same-key")
        assert reused.value.code == "CONFLICT"
    viewer = tenant.key(runtime, "viewer")
    with Client(tenant.base_url, viewer, retry=FAST) as api:
        with pytest.raises(ForbiddenError) as forbidden:
            api.invoices.issue(tenant.draft())
        assert forbidden.value.code == "FORBIDDEN"
    with Client(tenant.base_url, "ent_nope_nope", retry=FAST) as api:
        with pytest.raises(AuthenticationError) as unknown:
            api.invoices.search()
        assert isinstance(unknown.value, ApiError) and unknown.value.status == 401


def test_the_async_client_does_the_same(make_tenant: Callable[..., TenantHandle]) -> None:
    who = make_tenant(seal=False)

    async def scenario() -> tuple[set[str], list[str], str]:
        async with AsyncClient(who.base_url, who.token, retry=FAST) as api:
            issued = await asyncio.gather(*(api.invoices.issue(who.draft()) for _ in range(3)))
            seen = [d["id"] async for d in api.invoices.iter(limit=2)]
            try:
                await api.incoming.get(str(uuid.uuid4()))
            except NotFoundError as exc:
                code = exc.code
            return {i["id"] for i in issued}, seen, code

    issued, seen, code = asyncio.run(scenario())
    assert len(issued) == 3 and sorted(seen) == sorted(issued)
    assert code == "DOCUMENT_NOT_FOUND"


def test_the_async_client_retries_a_lost_answer_once(
    make_tenant: Callable[..., TenantHandle],
) -> None:
    who = make_tenant(seal=False)

    class LoseFirst(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()
            self.lost = False
            self.keys: list[str | None] = []

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            if request.method == "POST":
                self.keys.append(request.headers.get("Idempotency-Key"))
                if not self.lost:
                    self.lost = True
                    await response.aread()
                    await response.aclose()
                    raise httpx.ReadError("connection reset", request=request)
            return response

        async def aclose(self) -> None:
            await self.inner.aclose()

    flaky = LoseFirst()

    async def scenario() -> tuple[str, list[str]]:
        async with AsyncClient(who.base_url, who.token, retry=FAST, transport=flaky) as api:
            issued = await api.invoices.issue(who.draft())
            return issued["id"], [d["id"] async for d in api.invoices.iter()]

    issued_id, everything = asyncio.run(scenario())
    assert everything == [issued_id]
    assert len(flaky.keys) == 2 and flaky.keys[0] == flaky.keys[1]


def test_the_client_loads_no_server_package() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, entegrator.client; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'sqlalchemy', 'psycopg', 'lxml', 'pydantic', 'procrastinate') "
        "or (m.startswith('entegrator.') and not m.startswith('entegrator.client'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_the_erp_feeds_reports_and_exports_through_the_client(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime, tmp_path: Path
) -> None:
    from entegrator.services.exports import verify_export

    who = make_tenant()
    with _client(who) as api:
        ids = {api.invoices.issue(who.draft())["id"] for _ in range(3)}
        seen = [(change, cursor) for change, cursor in api.changes(limit=2)]
        assert {c["document_id"] for c, _ in seen} == ids
        cursors = [cursor for _, cursor in seen]
        assert cursors == sorted(cursors, key=int) and len(set(cursors)) == len(cursors)
        drain(runtime)
        # From the last cursor kept: only what happened since (signing), nothing seen before.
        later = [c for c, _ in api.changes(since=cursors[-1])]
        assert later and {c["document_id"] for c in later} <= ids
        assert all(c["type"] != "received" for c in later)
        # The inbox: nothing arrived; acknowledging an id that is not one changes nothing.
        assert list(api.incoming.unacknowledged(consumer="logo")) == []
        stranger = str(uuid.uuid4())
        ack = api.incoming.acknowledge([stranger], consumer="logo")
        assert ack["unknown"] == [stranger] and ack["acknowledged"] == []
        period = api.invoices.get(next(iter(ids)))["issue_date"][:7]
        kdv = api.reports.get("kdv", period)
        assert kdv["sales"]["documents"] == 3
        assert api.reports.get("kdv", period, format="xlsx")[:2] == b"PK"
        year, month = map(int, period.split("-"))
        first = dt.date(year, month, 1)
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        exported = api.export(first, last, tmp_path / "e.zip")
        assert exported["documents"] == 3
        assert verify_export(tmp_path / "e.zip", exported["manifest_sha256"]) == []
        try:
            found = api.gib_users.get(who.vkn)
        except UnavailableError as empty:  # the session has not fetched GİB's list
            assert empty.code == "GIB_USER_LIST_EMPTY"
        else:
            assert [u["identifier"] for u in found["users"]] == [who.vkn]
            assert found["users"][0]["registered"] is False
