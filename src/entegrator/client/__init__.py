"""A typed Python client for entegrator's REST API (sync and asyncio, on httpx).

Importing it loads only httpx and the standard library: an ERP installs the package and uses
the client without the server's dependencies being set up (no database, no settings).

>>> from entegrator.client import Client
>>> with Client("https://entegrator.example", "ent_…") as api:  # doctest: +SKIP
...     result = api.issue_invoice(draft)          # retried with one Idempotency-Key
...     for doc in api.unacknowledged("logo"):     # every page, as an iterator
...         store(doc)
...         api.acknowledge([doc["id"]], "logo")

Errors are typed (:class:`NotFoundError`, :class:`ValidationError`…), each with the server's
``code``, ``message_tr``, ``message_en`` and ``where``. :func:`verify_webhook` checks a
webhook's signature.
"""

from entegrator.client._client import (
    AckResult,
    AsyncClient,
    Change,
    Client,
    GibUsers,
    InvoiceSummary,
    IssueResult,
)
from entegrator.client._errors import (
    ApiError,
    AuthenticationError,
    ClientError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
    WebhookSignatureError,
)
from entegrator.client._webhooks import verify_webhook

__all__ = [
    "AckResult",
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "Change",
    "Client",
    "ClientError",
    "ConflictError",
    "GibUsers",
    "InvoiceSummary",
    "IssueResult",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "WebhookSignatureError",
    "verify_webhook",
]
