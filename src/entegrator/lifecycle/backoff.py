"""The one back-off rule: the pause before attempt ``n`` doubles from ``first`` up to ``cap``.

>>> [backoff(n, first=10, cap=60) for n in range(1, 6)]
[10.0, 20.0, 40.0, 60.0, 60.0]
"""

from __future__ import annotations

__all__ = ["backoff"]


def backoff(attempt: int, *, first: float, cap: float) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1 for the first failure)."""
    if attempt < 1:
        return 0.0
    # 2**62 is far past any cap; the exponent is bounded so that the float never overflows.
    return float(min(cap, first * 2 ** min(attempt - 1, 62)))
