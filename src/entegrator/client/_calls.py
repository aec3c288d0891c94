"""Each API operation as a :class:`Call`: method, path, query, body and what comes back.

The synchronous and the asynchronous client both send these, so an operation is described
once; the clients differ only in how they wait.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

__all__ = ["Call", "Document"]

#: A document as the API describes it (``GET /api/v1/invoices/{id}``): a JSON object.
Document = dict[str, Any]

Expect = Literal["json", "bytes", "none"]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: Mapping[str, str] | None = None
    body: bytes | None = None
    content_type: str | None = None
    idempotency_key: str | None = None
    expect: Expect = "json"
    # True when sending it twice does no harm even without an Idempotency-Key.
    repeatable: bool = False

    @property
    def retry_safe(self) -> bool:
        return self.method != "POST" or bool(self.idempotency_key) or self.repeatable

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json" if self.expect == "json" else "*/*"}
        if self.content_type:
            headers["Content-Type"] = self.content_type
        if self.idempotency_key:
            headers["Idempotency-Key"] = self.idempotency_key
        return headers


def _id(value: str) -> str:
    # Ids travel in the path: nothing in them may change the path's shape.
    return quote(str(value), safe="")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=str).encode()


def _params(filters: Mapping[str, object]) -> dict[str, str]:
    return {k: str(v) for k, v in filters.items() if v is not None}


def _post(
    path: str,
    payload: Any = None,
    *,
    key: str | None = None,
    params: Mapping[str, str] | None = None,
    expect: Expect = "json",
) -> Call:
    """A POST; every POST carries an Idempotency-Key (the caller's, or a new one), so that a
    retry after a lost answer can never do the work twice."""
    return Call(
        "POST",
        path,
        params=params,
        body=None if payload is None else _json(payload),
        content_type=None if payload is None else "application/json",
        idempotency_key=key or str(uuid.uuid4()),
        expect=expect,
    )


def document_body(document: Mapping[str, Any] | bytes | str) -> tuple[bytes, str]:
    """A draft (a mapping, sent as JSON) or UBL-TR XML (bytes or text)."""
    if isinstance(document, Mapping):
        return _json(dict(document)), "application/json"
    data = document.encode() if isinstance(document, str) else document
    return data, "application/xml"


# -- invoices ---------------------------------------------------------------------------------


def issue_invoice(
    document: Mapping[str, Any] | bytes | str,
    *,
    series: str | None = None,
    idempotency_key: str | None = None,
) -> Call:
    body, content_type = document_body(document)
    return Call(
        "POST",
        "/api/v1/invoices",
        params=_params({"series": series}),
        body=body,
        content_type=content_type,
        idempotency_key=idempotency_key or str(uuid.uuid4()),
    )


def get(path: str, document_id: str, suffix: str = "", expect: Expect = "json") -> Call:
    return Call("GET", f"{path}/{_id(document_id)}{suffix}", expect=expect)


def search(path: str, filters: Mapping[str, object]) -> Call:
    return Call("GET", path, params=_params(filters))


def cancel_invoice(document_id: str, reason: str, key: str | None) -> Call:
    return _post(f"/api/v1/invoices/{_id(document_id)}/cancel", {"reason": reason}, key=key)


def deliver_invoice(document_id: str, email: str, key: str | None) -> Call:
    return _post(f"/api/v1/invoices/{_id(document_id)}/deliveries", {"email": email}, key=key)


# -- incoming ---------------------------------------------------------------------------------


def accept_incoming(document_id: str, key: str | None) -> Call:
    return _post(f"/api/v1/incoming/{_id(document_id)}/accept", key=key)


def reject_incoming(document_id: str, reason: str, key: str | None) -> Call:
    return _post(f"/api/v1/incoming/{_id(document_id)}/reject", {"reason": reason}, key=key)


# -- webhooks, settings, validation -----------------------------------------------------------


def create_webhook(url: str, events: Sequence[str] | None, key: str | None) -> Call:
    payload: dict[str, Any] = {"url": url}
    if events is not None:
        payload["events"] = list(events)
    return _post("/api/v1/webhooks", payload, key=key)


def delete_webhook(webhook_id: str) -> Call:
    return Call("DELETE", f"/api/v1/webhooks/{_id(webhook_id)}", expect="none")


def set_series(kinds: Mapping[str, str]) -> Call:
    return Call(
        "PUT",
        "/api/v1/settings/series",
        body=_json(dict(kinds)),
        content_type="application/json",
    )


def validate(document: Mapping[str, Any] | bytes | str, purpose: str | None) -> Call:
    body, content_type = document_body(document)
    return Call(
        "POST",
        "/api/v1/validate",
        params=_params({"purpose": purpose}),
        body=body,
        content_type=content_type,
        repeatable=True,  # validation stores nothing
    )


# -- the ERP's feeds, lookups and reports -----------------------------------------------------


def acknowledge(ids: Sequence[str], consumer: str | None) -> Call:
    payload: dict[str, Any] = {"ids": list(ids)}
    if consumer is not None:
        payload["consumer"] = consumer
    # Acknowledging is idempotent by itself; the key only spares the server the work.
    return _post("/api/v1/incoming/ack", payload)


def changes_page(since: str | None, limit: int | None, direction: str | None) -> Call:
    return search("/api/v1/changes", {"since": since, "limit": limit, "direction": direction})


def gib_user(identifier: str) -> Call:
    return Call("GET", f"/api/v1/gib-users/{_id(identifier)}")


def gib_users(identifiers: Sequence[str]) -> Call:
    return Call(
        "POST",
        "/api/v1/gib-users",
        body=_json({"identifiers": list(identifiers)}),
        content_type="application/json",
        repeatable=True,  # a lookup changes nothing
    )


def report(name: str, period: str, fmt: str) -> Call:
    return Call(
        "GET",
        f"/api/v1/reports/{_id(name)}",
        params={"period": period, "format": fmt},
        expect="json" if fmt == "json" else "bytes",
    )


def export(start: object, end: object, pdf: bool) -> Call:
    return Call(
        "GET",
        "/api/v1/exports",
        params=_params({"from": start, "to": end, "pdf": "true" if pdf else None}),
        expect="bytes",
    )
