"""When to try a call again, how long to wait, and what an answer means."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import httpx

from entegrator.client._calls import Call
from entegrator.client.errors import ApiError, ConnectionFailedError, error_for

__all__ = ["RetryPolicy", "outcome"]

#: Statuses that say "not now": a later attempt may succeed.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in all (1: never retry); the pause doubles from ``backoff_seconds`` with
    ±25 % jitter, capped at ``max_wait_seconds``; a ``Retry-After`` answer is honoured unless it
    asks for longer than ``max_wait_seconds`` (then the error is raised at once)."""

    attempts: int = 4
    backoff_seconds: float = 0.5
    max_wait_seconds: float = 30.0

    def pause(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_wait_seconds else None
        base = min(self.backoff_seconds * 2.0 ** (attempt - 1), self.max_wait_seconds)
        jitter: float = random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not a secret
        return base * jitter


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86_400 else None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def outcome(call: Call, response: httpx.Response) -> tuple[Any, ApiError | None]:
    """The call's result, or the error the answer stands for."""
    if response.status_code >= 400:
        return None, error_for(response.status_code, _body(response), retry_after(response))
    if call.expect == "none":
        return None, None
    if call.expect == "bytes":
        return response.content, None
    return (response.json() if response.content else None), None


def transport_error(exc: httpx.HTTPError) -> ConnectionFailedError:
    what = type(exc).__name__
    return ConnectionFailedError(
        0,
        "CONNECTION_FAILED",
        f"Sunucuya ulaşılamadı ({what}): {exc}",
        f"The server could not be reached ({what}): {exc}",
    )


def retryable(call: Call, error: ApiError) -> bool:
    if isinstance(error, ConnectionFailedError):
        return call.retry_safe
    return error.status in RETRY_STATUSES and call.retry_safe
