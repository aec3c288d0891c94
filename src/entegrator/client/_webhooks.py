"""Checking a webhook's ``Entegrator-Signature`` header before trusting its body."""

from __future__ import annotations

import hashlib
import hmac
import time

from entegrator.client._errors import WebhookSignatureError

__all__ = ["verify_webhook"]

DEFAULT_TOLERANCE = 300  # seconds a signature stays fresh


def verify_webhook(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Raise :class:`WebhookSignatureError` unless ``header`` (``t=<unix seconds>,v1=<hex>``)
    is the HMAC-SHA256 of ``"<t>." + body`` with the endpoint's ``secret``, made at most
    ``tolerance`` seconds from ``now``. ``body``: the raw bytes as received, not re-encoded."""
    if not header:
        raise WebhookSignatureError("no Entegrator-Signature header")
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookSignatureError("malformed Entegrator-Signature header")
        fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit() or len(stamps[0]) > 12:
        raise WebhookSignatureError("no valid timestamp in Entegrator-Signature")
    stamp = int(stamps[0])
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        raise WebhookSignatureError("the signature is too old (or from the future)")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        raise WebhookSignatureError("the signature does not match the body")
