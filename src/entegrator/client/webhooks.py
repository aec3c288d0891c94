"""Checking a webhook notification before trusting it (``Entegrator-Signature``)."""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["verify_webhook"]


def verify_webhook(
    secret: str,
    signature_header: str,
    body: bytes,
    *,
    tolerance_seconds: float = 300,
    now: float | None = None,
) -> bool:
    """True when ``body`` is what entegrator signed with ``secret`` and the signature's time
    is within ``tolerance_seconds`` of ``now`` (a replayed old notification is refused).

    The header is ``t=<unix seconds>,v1=<hex>``, ``v1`` = HMAC-SHA256 over ``"<t>." + body``.
    Pass the raw body bytes as received, before any JSON parsing.

    >>> import hmac, hashlib
    >>> mac = hmac.new(b"s3cret", b"1700000000." + b"{}", hashlib.sha256).hexdigest()
    >>> verify_webhook("s3cret", f"t=1700000000,v1={mac}", b"{}", now=1700000010)
    True
    >>> verify_webhook("s3cret", f"t=1700000000,v1={mac}", b"{ }", now=1700000010)
    False
    >>> verify_webhook("s3cret", f"t=1700000000,v1={mac}", b"{}", now=1700009999)
    False
    """
    fields: dict[str, list[str]] = {}
    for part in signature_header.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit() or len(stamps[0]) > 12:
        return False
    at = int(stamps[0])
    current = time.time() if now is None else now
    if abs(current - at) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256)
    # Any v1 that matches (a header may carry several during a secret's rotation).
    return any(hmac.compare_digest(expected.hexdigest(), v) for v in fields.get("v1", []))
