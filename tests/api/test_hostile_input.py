"""Requests built to hurt: each one answers a clear 4xx quickly, and the API keeps serving.

Every case here was found by attacking the API from loopback: huge finding lists, huge drafts
on the event loop, amounts beyond any column, control characters, guessed keys, bodies sent
before the caller was known or never finished, Host headers echoed back, open metrics.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from entegrator.runtime import Runtime
from tests.testing.platform import TenantHandle, make_settings, serve


@pytest.fixture
def special(runtime: Runtime, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """An API of the same installation with some settings changed, served on loopback."""
    opened: list[Any] = []

    def start(**overrides: Any) -> str:
        rt = Runtime.from_settings(make_settings(runtime.database_url, tmp_path, **overrides))
        ctx = serve(rt)
        url = ctx.__enter__()
        opened.append((ctx, rt))
        return url

    yield start
    for ctx, rt in reversed(opened):
        ctx.__exit__(None, None, None)
        rt.close()


def _healthy_while(base_url: str, work: Callable[[], Any]) -> tuple[Any, list[float]]:
    """Run ``work`` in a thread; meanwhile time /healthz; (work's result, health latencies)."""
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.setdefault("r", work()))
    thread.start()
    latencies = []
    while thread.is_alive():
        started = time.monotonic()
        assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)
    thread.join()
    return result["r"], latencies


def test_findings_are_capped_and_counted(tenant: TenantHandle, base_url: str) -> None:
    attributes = " ".join(f"a{i}='1'" for i in range(200_000))
    body = (
        f"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' {attributes}/>"
    ).encode()
    with tenant.client() as c:
        r = c.post("/api/v1/validate", content=body, headers={"Content-Type": "application/xml"})
    assert r.status_code == 200, r.text[:500]
    report = r.json()
    assert report["valid"] is False
    assert 0 < len(report["findings"]) <= 1000
    assert report["truncated"] > 0
    assert len(r.content) < 2_000_000  # was 554 MB for 700,000 attributes


def test_a_huge_draft_is_refused_off_the_event_loop(tenant: TenantHandle, base_url: str) -> None:
    draft = tenant.draft()
    draft["lines"] = draft["lines"] * (20_000 // len(draft["lines"]) + 1)

    def post() -> httpx.Response:
        with tenant.client() as c:
            return c.post("/api/v1/validate", json=draft)

    r, latencies = _healthy_while(base_url, post)
    assert r.status_code == 422, r.text[:300]
    assert r.json()["error"]["code"] == "TOO_MANY_LINES"
    assert r.json()["error"]["where"] == "lines"
    assert max(latencies, default=0) < 2, latencies
    with tenant.client() as c:
        issued = c.post("/api/v1/invoices", json=draft)
    assert issued.status_code == 422 and issued.json()["error"]["code"] == "TOO_MANY_LINES"


@pytest.mark.parametrize("value", ["1e999999999", "-1e999999999", "NaN", "Infinity", "1e18"])
def test_absurd_amount_filters_are_422(tenant: TenantHandle, value: str) -> None:
    with tenant.client() as c:
        r = c.get("/api/v1/invoices", params={"min_total": value})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "INVALID_AMOUNT"
        assert c.get("/api/v1/invoices", params={"max_total": "1e17"}).status_code == 200


def test_control_characters_are_422_where_they_stand(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    with tenant.client() as c:
        for where, char in (("customer.name", "\x00"), ("supplier.name", "\x07")):
            draft = tenant.draft()
            part, field = where.split(".")
            draft[part][field] = f"Ad{char}Soyad"
            r = c.post("/api/v1/invoices", json=draft)
            assert r.status_code == 422, r.text
            finding = r.json()["findings"][0]
            assert finding["xpath"] == where
            assert "U+00" in finding["message_tr"] and "XML" in finding["message_en"]
        for param in ("number", "status", "profile", "type"):
            r = c.get("/api/v1/invoices", params={param: "A\x00"})
            assert r.status_code == 422, (param, r.text)
        r = c.post(
            f"/api/v1/incoming/{'0' * 8}-0000-7000-8000-{'0' * 12}/reject",
            json={"reason": "yanlış\x00fatura"},
        )
        assert r.status_code == 422, r.text
        assert "reason" in r.json()["error"]["message_en"]


def test_an_idempotent_replay_must_name_the_same_series(tenant: TenantHandle) -> None:
    with tenant.client() as c:
        headers = {"Idempotency-Key": "series-twin"}
        first = c.post("/api/v1/invoices?series=AAA", json=tenant.draft(), headers=headers)
        assert first.status_code == 201, first.text
        again = c.post("/api/v1/invoices?series=AAA", json=tenant.draft(), headers=headers)
        assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
        other = c.post("/api/v1/invoices?series=BBB", json=tenant.draft(), headers=headers)
        assert other.status_code == 409, other.text


def test_no_redirect_echoes_the_host_header(base_url: str, tenant: TenantHandle) -> None:
    for path in ("/api/v1/invoices/", "/docs/", "/healthz/"):
        r = httpx.get(
            f"{base_url}{path}",
            headers={"Host": "evil.example"} | tenant.headers,
            follow_redirects=False,
        )
        assert "evil.example" not in r.headers.get("location", ""), (path, r.headers)
        assert r.status_code == 404, (path, r.status_code)


def test_metrics_are_closed_off_loopback_and_open_with_their_token(
    base_url: str, special: Callable[..., str]
) -> None:
    assert httpx.get(f"{base_url}/metrics").status_code == 200  # the API listens on loopback
    public_bind = special(host="0.0.0.0")
    r = httpx.get(f"{public_bind}/metrics")
    assert r.status_code == 403 and r.json()["error"]["code"] == "METRICS_CLOSED"
    tokened = special(host="0.0.0.0", metrics_token="scrape-me")
    assert httpx.get(f"{tokened}/metrics").status_code == 403
    wrong = httpx.get(f"{tokened}/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    ok = httpx.get(f"{tokened}/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200 and b"entegrator_http_requests_total" in ok.content
    opened = special(host="0.0.0.0", metrics_public=True)
    assert httpx.get(f"{opened}/metrics").status_code == 200


def test_guessed_keys_are_throttled_per_address_and_per_prefix(
    tenant: TenantHandle, special: Callable[..., str]
) -> None:
    url = special(auth_failure_limit=3, auth_failure_window_seconds=30)
    guess = f"Bearer {tenant.token[:-4]}xxxx"  # the tenant's prefix, a wrong secret

    def get(token: str, source: str = "127.0.0.1") -> httpx.Response:
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(transport=transport) as client:
            return client.get(f"{url}/api/v1/invoices", headers={"Authorization": token})

    assert [get(guess).status_code for _ in range(3)] == [401, 401, 401]
    blocked = get(guess)
    assert blocked.status_code == 429, blocked.text
    assert blocked.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    assert 0 < int(blocked.headers["Retry-After"]) <= 30
    # The address is blocked, whatever key it brings now ...
    assert get(f"Bearer {tenant.token}").status_code == 429
    # ... and so is the prefix, from anywhere; other keys from elsewhere pass.
    assert get(guess, "127.0.0.2").status_code == 429
    other = f"Bearer ent_{'a' * 12}_{'b' * 43}"
    assert get(other, "127.0.0.3").status_code == 401


def _raw(url: str, head: bytes, body: bytes = b"", wait: float = 10.0) -> tuple[bytes, float]:
    """Send ``head`` (and ``body``) on a raw connection; (what came back, seconds taken)."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(head + body)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            pass
    return data, time.monotonic() - started


def test_a_body_is_not_read_before_the_caller_is_known(base_url: str) -> None:
    head = (
        b"POST /api/v1/invoices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ent_nope_nope\r\n"
        b"Content-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
    )
    answer, took = _raw(base_url, head)  # the body never comes
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert took < 5


@pytest.fixture
def slow_body_api(special: Callable[..., str]) -> Iterator[str]:
    yield special(body_timeout_seconds=1.0)


def test_a_body_that_never_finishes_is_408(slow_body_api: str, tenant: TenantHandle) -> None:
    head = (
        f"POST /api/v1/invoices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenant.token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    answer, took = _raw(slow_body_api, head, b'{"profile": ')
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"BODY_TOO_SLOW" in answer or took < 10
    assert took < 10


def test_a_client_that_hangs_up_mid_body_is_no_server_error(
    base_url: str, tenant: TenantHandle, caplog: pytest.LogCaptureFixture
) -> None:
    """Found under load: a client closing its connection while its body was being read was
    logged as an unexpected error with a traceback (and answered 500 to nobody)."""
    caplog.set_level("INFO", logger="entegrator")
    head = (
        f"POST /api/v1/invoices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenant.token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + b'{"profile": ')
        time.sleep(0.3)  # the key is checked and the body read has begun
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        "client closed" in r.getMessage() for r in caplog.records
    ):
        time.sleep(0.05)
    assert any("client closed" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200
