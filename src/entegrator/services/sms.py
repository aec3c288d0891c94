"""Sending SMS: one narrow seam (:class:`SmsProvider`) and a generic HTTP provider.

``HttpSmsProvider`` posts ``{"to": "<phone>", "text": "<message>", "reference": "<id>"}`` as
JSON to the configured URL with ``Authorization: Bearer <token>``; any 2xx answer is taken as
accepted. The reference (the delivery's id) lets a provider drop a repeated request. A 4xx
answer (other than 408 and 429) is final; a 5xx answer or a provider that is away is retried.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from entegrator.services.mail import MailError

__all__ = ["HttpSmsProvider", "SmsProvider"]

_RETRYABLE_4XX = frozenset({408, 429})


class SmsProvider(Protocol):
    """Hands one text to the provider; raises :class:`MailError` (permanent or not)."""

    def send(self, phone: str, text: str, *, reference: str) -> None: ...


class HttpSmsProvider:
    def __init__(self, url: str, *, token: str | None, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, phone: str, text: str, *, reference: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = httpx.post(
                self.url,
                json={"to": phone, "text": text, "reference": reference},
                headers=headers,
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            raise MailError(f"{type(exc).__name__}: {exc}"[:1000], permanent=False) from exc
        if response.is_success:
            return
        answer = f"HTTP {response.status_code} {response.text[:500]}".strip()
        status = response.status_code
        permanent = 400 <= status < 500 and status not in _RETRYABLE_4XX
        raise MailError(answer, permanent=permanent)
