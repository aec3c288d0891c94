"""Failed authentications, counted per client address and per API-key prefix.

Someone guessing keys fails again and again: past ``limit`` failures within ``window``
seconds from one address, or against one key prefix, further attempts are refused (429 with
``Retry-After``) before any key is looked up, until the window has moved on. Each API process
counts its own failures (a guesser spread over N processes gets N times the budget, still far
too little to guess a 256-bit secret); the table is bounded, oldest entries dropped first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

__all__ = ["FailureThrottle"]


class FailureThrottle:
    def __init__(
        self,
        limit: int = 20,
        window: float = 60.0,
        *,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_entries = max_entries
        self._clock = clock
        self._failures: OrderedDict[Hashable, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, *keys: Hashable) -> float:
        """Seconds until any of ``keys`` may try again (0: now)."""
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        longest = 0.0
        with self._lock:
            for key in keys:
                times = self._failures.get(key)
                if times is None:
                    continue
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= self.limit:
                    longest = max(longest, times[0] + self.window - now)
        return longest

    def failed(self, *keys: Hashable) -> None:
        """Count one failure against each of ``keys``."""
        if self.limit <= 0:
            return
        now = self._clock()
        with self._lock:
            for key in keys:
                times = self._failures.pop(key, None) or deque(maxlen=self.limit)
                times.append(now)
                self._failures[key] = times  # the most recent at the end
            while len(self._failures) > self.max_entries:
                self._failures.popitem(last=False)
