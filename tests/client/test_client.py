"""The Python client against a real server: retries with one Idempotency-Key, paging iterators,
typed errors, the inbox and change feed, async, webhook signatures."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from entegrator.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    NotFoundError,
    PermissionDeniedError,
    TransportError,
    ValidationError,
    WebhookSignatureError,
    verify_webhook,
)
from entegrator.runtime import Runtime
from entegrator.services.exports import verify_export
from entegrator.services.webhooks import signature
from tests.testing.platform import TenantHandle


class LoseFirstAnswers(httpx.HTTPTransport):
    """A network that delivers the first ``n`` requests but loses their answers."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("Idempotency-Key"))
        response = super().handle_request(request)
        if self.left > 0:
            self.left -= 1
            response.read()
            raise httpx.ReadError("connection reset", request=request)
        return response


def test_importing_the_client_loads_nothing_of_the_server() -> None:
    code = (
        "import sys, entegrator.client; "
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'pydantic', 'lxml', 'psycopg', "
        "'entegrator.config', 'entegrator.store') if m in sys.modules]; print(bad)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_post_whose_answer_is_lost_is_retried_and_done_once(tenant: TenantHandle) -> None:
    network = LoseFirstAnswers(2)
    with Client(tenant.base_url, tenant.token, transport=network, backoff=0.01) as api:
        result = api.issue_invoice(tenant.draft())
        assert result["number"].startswith("EFA")
        assert len(network.keys) == 3 and len(set(network.keys)) == 1 and network.keys[0]
        assert [d["id"] for d in api.invoices()] == [result["id"]]  # issued once
        again = api.issue_invoice(tenant.draft())  # a new call: a new key, a new invoice
        assert again["id"] != result["id"]


def test_a_network_that_never_answers_is_a_transport_error(tenant: TenantHandle) -> None:
    network = LoseFirstAnswers(10)
    api = Client(tenant.base_url, tenant.token, transport=network, retries=2, backoff=0.01)
    with api, pytest.raises(TransportError):
        api.gib_users(["1234567890"])
    assert len(network.keys) == 3  # the first try and two retries


def test_paging_iterators_and_typed_errors(tenant: TenantHandle, runtime: Runtime) -> None:
    with Client(tenant.base_url, tenant.token) as api:
        issued = [api.issue_invoice(tenant.draft())["id"] for _ in range(5)]
        assert [d["id"] for d in api.invoices(limit=2)] == list(reversed(issued))
        with pytest.raises(NotFoundError) as missing:
            api.get_invoice("01234567-89ab-7def-8123-456789abcdef")
        assert missing.value.code == "DOCUMENT_NOT_FOUND" and missing.value.message_tr
        with pytest.raises(ValidationError) as invalid:
            api.issue_invoice({"profile": "TEMELFATURA"})
        assert invalid.value.status == 422 and invalid.value.findings
        with pytest.raises(ValidationError) as period:
            api.report("kdv", "2026-13")
        assert period.value.code == "INVALID_PERIOD" and period.value.where == "period"
    with Client(tenant.base_url, "ent_nope_nope") as stranger, pytest.raises(AuthenticationError):
        stranger.gib_users(["1234567890"])
    viewer = tenant.key(runtime, "viewer")
    with Client(tenant.base_url, viewer) as api, pytest.raises(PermissionDeniedError) as denied:
        api.issue_invoice(tenant.draft())
    assert denied.value.code == "FORBIDDEN"


def test_changes_reports_and_exports(
    tenant: TenantHandle, run_jobs: Callable[[], None], tmp_path: Path
) -> None:
    with Client(tenant.base_url, tenant.token) as api:
        ids = {api.issue_invoice(tenant.draft())["id"] for _ in range(3)}
        seen, cursor = [], None
        for change, position in api.changes(limit=2):
            seen.append(change)
            cursor = position
        assert {c["document_id"] for c in seen} == ids
        run_jobs()
        later = [c for c, _ in api.changes(cursor)]
        assert later and all(c["type"] != "received" for c in later)
        report = api.report("kdv", "2026-11")
        assert report["sales"]["documents"] == 3
        assert api.report("kdv", "2026-11", format="xlsx")[:2] == b"PK"
        summary = api.export(dt.date(2026, 11, 1), dt.date(2026, 11, 30), tmp_path / "e.zip")
        assert summary["documents"] == "3"
        assert verify_export(tmp_path / "e.zip", summary["manifest_sha256"]) == []


def test_the_async_client(tenant: TenantHandle) -> None:
    async def run() -> tuple[list[str], list[str], Any]:
        async with AsyncClient(tenant.base_url, tenant.token) as api:
            issued = [(await api.issue_invoice(tenant.draft()))["id"] for _ in range(3)]
            listed = [d["id"] async for d in api.invoices(limit=2)]
            changes = [c["document_id"] async for c, _ in api.changes(limit=2)]
            try:
                await api.get_invoice("nope")
            except NotFoundError as exc:
                error: Any = exc
            assert listed == list(reversed(issued))
            return issued, changes, error

    issued, changes, error = asyncio.run(run())
    assert set(changes) == set(issued)
    assert error.status == 404


def test_webhook_signatures_as_the_server_makes_them() -> None:
    body = json.dumps({"id": "x", "event": "document.status"}).encode()
    now = int(time.time())
    header = signature("s3cret", now, body)
    verify_webhook("s3cret", header, body)
    for bad_secret, bad_header, bad_body in (
        ("other", header, body),
        ("s3cret", header, body + b" "),
        ("s3cret", None, body),
        ("s3cret", "garbage", body),
        ("s3cret", f"t={now - 3600},v1=00", body),
        ("s3cret", f"t=9{'9' * 30},v1=00", body),
    ):
        with pytest.raises(WebhookSignatureError):
            verify_webhook(bad_secret, bad_header, bad_body)
    with pytest.raises(WebhookSignatureError):
        verify_webhook("s3cret", header, body, now=now + 301)  # stale
