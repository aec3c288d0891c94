"""Time-ordered identifiers (UUID version 7, RFC 9562).

A document's id carries the millisecond it was created; the store uses that instant as the
row's partition key, so a lookup by id reads one monthly partition. A forged id names an
instant with no such row and is simply not found.

>>> i = uuid7()
>>> i.version
7
>>> abs((created_at(i) - dt.datetime.now(dt.UTC)).total_seconds()) < 5
True
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid

__all__ = ["created_at", "uuid7"]


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64 & (((1 << 12) - 1) << 64)  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b: 62 bits
    return uuid.UUID(int=value)


def created_at(value: uuid.UUID) -> dt.datetime:
    """The creation instant a version-7 id carries (UTC, millisecond precision)."""
    ms = value.int >> 80
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).replace(microsecond=(ms % 1000) * 1000)
