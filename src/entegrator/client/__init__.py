"""A typed Python client for entegrator's REST API, synchronous and asynchronous.

>>> from entegrator.client import Client, ValidationFailedError
>>> Client.__name__, ValidationFailedError.__mro__[1].__name__
('Client', 'ApiError')

It depends on httpx only (no server-side package is imported), retries what is safe to
retry with an ``Idempotency-Key`` on every POST, pages through searches as iterators, raises
the API's errors as typed exceptions carrying the code and both messages, and checks webhook
signatures (:func:`verify_webhook`). See docs/client.md.
"""

from entegrator.client._async import AsyncClient
from entegrator.client._calls import Call
from entegrator.client._retry import RetryPolicy
from entegrator.client._sync import Client
from entegrator.client.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    ConnectionFailedError,
    CreditsExhaustedError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnavailableError,
    ValidationFailedError,
)
from entegrator.client.webhooks import verify_webhook

__all__ = [
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "Call",
    "Client",
    "ConflictError",
    "ConnectionFailedError",
    "CreditsExhaustedError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "UnavailableError",
    "ValidationFailedError",
    "verify_webhook",
]
