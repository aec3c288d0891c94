"""The shapes of the API's answers, as typed dictionaries (amounts are decimal text)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

__all__ = [
    "Acknowledged",
    "Change",
    "ChangePage",
    "Delivery",
    "EarsivReports",
    "Exported",
    "GibUsers",
    "Issued",
    "Page",
    "SeriesDefaults",
    "Webhook",
]


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


class Change(TypedDict):
    """One document event of the change feed."""

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


class ChangePage(TypedDict):
    items: list[Change]
    next_cursor: str
    more: bool


class Acknowledged(TypedDict):
    """``POST /api/v1/incoming/ack``: the ids acknowledged for the consumer (now or before),
    and the ids that are no incoming document of the tenant."""

    consumer: str
    acknowledged: list[str]
    unknown: list[str]


class GibUsers(TypedDict):
    """``/api/v1/gib-users``: each user asked for (``registered``, ``despatch_registered``,
    ``title``, ``first_registration``, ``aliases``…) and the cached list's age."""

    users: list[dict[str, Any]]
    list_refreshed_at: str
    list_age_seconds: int


class Exported(TypedDict):
    manifest_sha256: str
    documents: int
