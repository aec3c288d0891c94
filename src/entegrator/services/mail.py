"""Sending e-mail: one narrow seam (:class:`Mailer`), a real SMTP client and an ``.eml`` folder.

``SmtpMailer`` speaks to the configured server: ``smtps://`` is TLS from the first byte,
``smtp://`` switches to TLS with STARTTLS (required unless configured otherwise), then logs in
when a user is given. ``EmlFolder`` stands in when no server is configured (``make run``):
each message becomes a file a mail program opens, so nothing is lost.

A failure says whether trying again can help (:class:`MailError` ``permanent``): a 5xx answer
to the recipient or the message is final; a server that is away, a 4xx answer, a TLS or
login problem (configuration, fixable) is retried.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

__all__ = ["EmlFolder", "MailError", "Mailer", "SmtpMailer"]

_PORTS = {"smtp": 587, "smtps": 465}


class MailError(Exception):
    """A message did not leave; ``answer`` is what the server said (or why it was not
    reached), ``permanent`` whether another attempt is pointless."""

    def __init__(self, answer: str, *, permanent: bool) -> None:
        super().__init__(answer)
        self.answer = answer
        self.permanent = permanent


class Mailer(Protocol):
    """Hands one message to the mail system; raises :class:`MailError`."""

    def send(self, message: EmailMessage) -> None: ...


def _answer(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {said}".strip()[:1000]


class SmtpMailer:
    """A real SMTP server (see the module's docstring)."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        ca_file: Path | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _PORTS or not parts.hostname:
            raise ValueError(
                "ENTEGRATOR_SMTP_URL must be smtp://host[:port] or smtps://host[:port]"
            )
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or _PORTS[parts.scheme]
        self.user = user if user is not None else unquote(parts.username or "") or None
        self.password = password if password is not None else unquote(parts.password or "")
        self.starttls = starttls
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.context
            )
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            client.ehlo()
            if self.starttls:
                if not client.has_extn("starttls"):
                    raise MailError("the server offers no STARTTLS", permanent=False)
                client.starttls(context=self.context)
                client.ehlo()
        except BaseException:
            client.close()
            raise
        return client

    @staticmethod
    def _login(client: smtplib.SMTP, user: str, password: str) -> None:
        """AUTH PLAIN with the credentials in UTF-8 (RFC 4616): smtplib's own ``login``
        encodes them as ASCII and fails on a password such as ``şifre``."""
        offered = client.esmtp_features.get("auth", "").upper().split()
        if "PLAIN" not in offered:
            client.login(user, password)
            return
        token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        code, answer = client.docmd("AUTH", f"PLAIN {token}")
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, answer)

    def send(self, message: EmailMessage) -> None:
        try:
            client = self._connect()
            try:
                if self.user:
                    self._login(client, self.user, self.password or "")
                client.send_message(message)
                with contextlib.suppress(smtplib.SMTPException):
                    client.quit()  # taken already: the goodbye does not matter
            finally:
                client.close()
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise MailError(_answer(code, text), permanent=500 <= code < 600) from exc
        except smtplib.SMTPDataError as exc:
            code = exc.smtp_code
            raise MailError(_answer(code, exc.smtp_error), permanent=500 <= code < 600) from exc
        except smtplib.SMTPResponseException as exc:  # login, sender: configuration, retried
            raise MailError(_answer(exc.smtp_code, exc.smtp_error), permanent=False) from exc
        except (smtplib.SMTPException, OSError) as exc:  # away, TLS, time-out
            raise MailError(f"{type(exc).__name__}: {exc}"[:1000], permanent=False) from exc


class EmlFolder:
    """Messages as ``.eml`` files in ``folder`` (named by their Message-ID, written whole)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_of(self, message: EmailMessage) -> Path:
        ident = re.sub(r"[^A-Za-z0-9._-]", "_", str(message["Message-ID"] or "message"))
        return self.folder / f"{ident.strip('_')}.eml"

    def send(self, message: EmailMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.path_of(message)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(message.as_bytes())
            tmp.replace(path)
        except OSError as exc:
            raise MailError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
