"""A real SMTP server on loopback (the demo's, aiosmtpd) for delivery tests: STARTTLS with its
own certificate, AUTH with one user, every accepted message kept; and a loopback HTTP server that
records what an SMS provider would receive.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from entegrator.cli.mailserver import MailServer, mail_server

__all__ = ["SMTP_PASSWORD", "SMTP_USER", "SmsServer", "SmtpServer", "sms_server", "smtp_server"]

SMTP_USER = "entegrator"
SMTP_PASSWORD = "p@ss:wörd/1"  # characters a URL must percent-encode


SmtpServer = MailServer


@contextlib.contextmanager
def smtp_server(folder: Path, port: int) -> Iterator[MailServer]:
    """An SMTP server on ``port`` that requires STARTTLS and AUTH (``SMTP_USER``)."""
    with mail_server(folder, port, user=SMTP_USER, password=SMTP_PASSWORD) as server:
        yield server


@dataclass
class SmsServer:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    status: int = 200


@contextlib.contextmanager
def sms_server() -> Iterator[SmsServer]:
    """A loopback HTTP server standing in for an SMS provider: records each POST."""
    state = SmsServer("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.tokens.append(self.headers.get("Authorization") or "")
            state.received.append(json.loads(self.rfile.read(length)))
            self.send_response(state.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
