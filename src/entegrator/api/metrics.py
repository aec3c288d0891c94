"""Prometheus metrics of the API process (``/metrics``)."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entegrator.api.errors import MetricsClosedError
from entegrator.api.middleware import access_log, log_route
from entegrator.config import Settings

__all__ = ["EARSIV_OVERDUE", "ISSUED", "REJECTED", "Middleware", "check_access", "render"]

REQUESTS = Counter("entegrator_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "entegrator_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ISSUED = Counter("entegrator_invoices_issued_total", "Invoices accepted and stored")
REJECTED = Counter("entegrator_invoices_rejected_total", "Invoices refused (4xx with findings)")
EARSIV_OVERDUE = Gauge(
    "entegrator_earsiv_overdue_invoices",
    "e-Arşiv invoices past their report deadline, no report GİB accepted carrying them "
    "(as of the last /readyz)",
)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


class Middleware:
    """Counts requests and times them by route template (not by raw path: ids stay out), and
    writes the access log's line: one line per request on ``entegrator.access`` (INFO) with
    the method, the route template, the status and the milliseconds, never the query string or
    a header, so what is logged names no document, party or secret."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recorded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recorded)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            method = scope["method"]
            took = time.perf_counter() - start
            REQUESTS.labels(method, name, str(status)).inc()
            LATENCY.labels(method, name).observe(took)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("%s %s %d %.1fms", method, log_route(scope), status, took * 1000)


def check_access(settings: Settings, authorization: str | None) -> None:
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
