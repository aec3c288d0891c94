"""Failed logins per client address (one process's memory): a guesser who tries many
e-mails is slowed down too, not only the accounts it names (which lock themselves)."""

from __future__ import annotations

import time
from collections import deque

__all__ = ["AddressThrottle"]


class AddressThrottle:
    def __init__(self, limit: int = 20, window: float = 60.0, size: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.size = size
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, address: str | None, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        seen = self._failures.get(address or "")
        if seen is None:
            return False
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return len(seen) >= self.limit

    def failed(self, address: str | None, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._failures) >= self.size:
            self._failures.clear()
        self._failures.setdefault(address or "", deque()).append(now)
