"""The platform's clock, handed to the services (and through them to the core) so that time
is an argument everywhere: a test, or a replay, gives its own.

>>> utc_now().tzinfo is dt.UTC
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

__all__ = ["Clock", "utc_now"]

Clock = Callable[[], dt.datetime]  # an aware datetime: now


def utc_now() -> dt.datetime:
    """The wall clock, in UTC."""
    return dt.datetime.now(dt.UTC)
