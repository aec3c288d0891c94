"""A mail server on loopback for ``entegrator demo``: the buyer's side of an e-Arşiv e-mail.

It behaves as the servers integrators deliver through: it requires STARTTLS (with a
certificate of its own, made at start and handed to the client as its CA file) and a login,
and it keeps every message it accepts, in memory and as an ``.eml`` file when given a folder.
The demo points integrator 1's ``ENTEGRATOR_SMTP_URL`` at it and reads what arrived.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import ipaddress
import logging
import secrets
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["MailServer", "mail_server"]


class _QuietLegacy(logging.Filter):
    """aiosmtpd warns on every login about an attribute it sets itself (``login_data``);
    nothing a user of the demo can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (PEM) and its key, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class MailServer:
    """What a running :func:`mail_server` offers: its address, its CA file and its mail."""

    port: int
    ca_file: Path
    user: str
    password: str
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    # Recipients refused for good (550): a test's unreachable mailbox.
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """``ENTEGRATOR_SMTP_URL`` for a client: STARTTLS on ``port``, with the login."""
        login = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"smtp://{login}@127.0.0.1:{self.port}"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages accepted for ``address``, oldest first."""
        with self.lock:
            return [
                m
                for m, (_, rcpt) in zip(self.messages, self.envelopes, strict=True)
                if address in rcpt
            ]


@contextlib.contextmanager
def mail_server(
    folder: Path,
    port: int,
    *,
    user: str = "entegrator",
    password: str | None = None,
    keep: Path | None = None,
) -> Iterator[MailServer]:
    """An SMTP server on 127.0.0.1:``port`` requiring STARTTLS and AUTH (``user``; a random
    password unless given). Each accepted message is kept, and written to ``keep`` as
    ``<n>.eml`` when a folder is given."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    quiet = _QuietLegacy()
    logging.getLogger("mail.log").addFilter(quiet)
    cert, key = _certificate(folder)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    state = MailServer(port, cert, user, password or secrets.token_urlsafe(16))
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == state.user
            and data.password.decode() == state.password
        )
        if ok:
            with state.lock:
                state.logins.append(data.login.decode())
        return AuthResult(success=ok)

    class Handler:
        async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address in state.refuse:
                return "550 5.1.1 mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            if not isinstance(message, EmailMessage):  # pragma: no cover - policy.default
                return "554 5.6.0 unreadable message"
            with state.lock:
                state.messages.append(message)
                state.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                count = len(state.messages)
            if keep is not None:
                (keep / f"{count:04d}.eml").write_bytes(envelope.content)
            return "250 Message accepted"

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        yield state
    finally:
        controller.stop()
        logging.getLogger("mail.log").removeFilter(quiet)
