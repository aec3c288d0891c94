"""The shapes of the API's answers, as typed dictionaries (amounts are decimal text)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

__all__ = ["Delivery", "EarsivReports", "Issued", "Page", "SeriesDefaults", "Webhook"]


class Issued(TypedDict):
    """``POST /api/v1/invoices``: the stored invoice (signed by the worker shortly after)."""

    id: str
    ettn: str
    number: str
    status: str
    warnings: list[dict[str, Any]]


class Page(TypedDict):
    """One page of a search; ``next_cursor`` is None on the last."""

    items: list[dict[str, Any]]
    next_cursor: NotRequired[str | None]


class Delivery(TypedDict):
    """An e-mail or SMS to an invoice's buyer."""

    id: str
    channel: str
    address: str
    status: str
    requested_by: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    created_at: str
    sent_at: str | None


class Webhook(TypedDict):
    id: str
    url: str
    events: list[str]
    active: NotRequired[bool]
    created_at: NotRequired[str]
    secret: NotRequired[str]  # only in the answer to its creation


class SeriesDefaults(TypedDict):
    efatura: str
    earsiv: str
    internet: str


class EarsivReports(TypedDict):
    reports: list[dict[str, Any]]
    counts: dict[str, int]
