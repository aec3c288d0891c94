"""One webhook POST: to an address checked once, within one deadline, reading little.

A webhook's URL is the tenant's to choose. What it reaches must not be what the installation
itself can reach (loopback, the private network, the cloud's metadata address), and an
endpoint that answers slowly or endlessly must cost one bounded attempt, nothing more:

* the host is resolved once (``resolve``) and every address it resolves to is judged
  (``public_address``), an IPv4 address embedded in an IPv6 one (IPv4-mapped,
  IPv4-compatible, NAT64, 6to4, Teredo) unwrapped and judged as the IPv4 address it is;
* the connection goes to one of those very addresses (``post``): the ``Host`` header, TLS SNI
  and the certificate check use the URL's host name, and nothing resolves that name a second
  time, so a DNS answer that changes between check and connection (rebinding) changes nothing;
* one deadline covers connecting, TLS, sending and reading the answer: every socket operation
  waits at most for what is left of it, so an endpoint sending one byte at a time is cut off;
* of the answer's body at most ``max_body`` bytes (and a read of ``READ_SIZE``) are read,
  never the whole of it: the status is what counts.

>>> public_address("64:ff9b::7f00:1")  # NAT64 of 127.0.0.1
False
>>> public_address("2002:808:808::1")  # 6to4 of 8.8.8.8
True
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv6Address, IPv6Network
from typing import Protocol

import httpcore
import httpx

__all__ = [
    "HTTP",
    "READ_SIZE",
    "DeliveryError",
    "Target",
    "WebhookTransport",
    "post",
    "public_address",
    "resolve",
]

READ_SIZE = 4096  # bytes asked of the socket at a time, headers included
NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")  # RFC 8215: a local translator, never public
COMPATIBLE = IPv6Network("::/96")  # IPv4-compatible (deprecated), :: and ::1 included
_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    OSError,
)


class DeliveryError(Exception):
    """No answer: why, in words for the delivery's ``last_error`` (it goes no further)."""


def _embedded_ipv4(address: IPv6Address) -> list[IPv4Address] | None:
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.teredo is not None:  # (server, client): traffic goes through both
        return list(address.teredo)
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address in NAT64 or address in COMPATIBLE:
        return [IPv4Address(int(address) & 0xFFFF_FFFF)]
    return None


def _plainly_public(address: IPv4Address | IPv6Address) -> bool:
    site_local = isinstance(address, IPv6Address) and address.is_site_local
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or site_local
    )


def public_address(address: str) -> bool:
    """Whether a connection to ``address`` (IPv4 or IPv6, a zone allowed) leaves for the
    public internet: not loopback, private, shared, link-local, multicast, reserved or
    unspecified, judged on the IPv4 address for IPv6 forms that carry one.

    >>> [public_address(a) for a in ("8.8.8.8", "169.254.169.254", "::ffff:127.0.0.1")]
    [True, False, False]
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, IPv6Address):
        if ip in NAT64_LOCAL:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return all(_plainly_public(v4) for v4 in embedded)
    return _plainly_public(ip)


class Target:
    """A webhook URL taken apart as the request needs it (IDNA host, encoded path).

    Raises ``ValueError`` when it is not an http(s) URL with a host and a valid port.
    """

    def __init__(self, url: str) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ValueError(str(exc)) from None
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            raise ValueError("not an http(s) URL with a host")
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise ValueError("the port is out of range")
        self.host = parsed.raw_host.decode("ascii")
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.url = httpcore.URL(
            scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path
        )
        self.headers = [(b"Host", parsed.netloc)]
        if parsed.username or parsed.password:
            pair = f"{parsed.username}:{parsed.password}".encode()
            self.headers.append((b"Authorization", b"Basic " + base64.b64encode(pair)))


def resolve(target: Target) -> list[str]:
    """Every address the target's host resolves to, asked once: connect to these only."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DeliveryError(f"{target.host} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise DeliveryError(f"{target.host} does not resolve")
    return addresses


def _left(deadline: float, timeout: float | None, late: type[Exception]) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise late("the deadline passed")
    return left if timeout is None else min(timeout, left)


class _Bounded(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        left = _left(self._deadline, timeout, httpcore.ReadTimeout)
        return self._stream.read(min(max_bytes, READ_SIZE), left)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(self._deadline, timeout, httpcore.ConnectTimeout)
        return _Bounded(self._stream.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str) -> object:
        return self._stream.get_extra_info(info)


class _Pinned(httpcore.NetworkBackend):
    """Connects to the addresses given (resolved and checked already), whatever host the
    connection is for; the streams it opens keep to the deadline."""

    def __init__(self, addresses: Sequence[str], deadline: float) -> None:
        self._addresses = addresses
        self._deadline = deadline
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        del host  # never resolved again
        failure = httpcore.ConnectError("no address to connect to")
        for address in self._addresses:
            left = _left(self._deadline, timeout, httpcore.ConnectTimeout)
            try:
                stream = self._tcp.connect_tcp(
                    address, port, left, local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            return _Bounded(stream, self._deadline)
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks go over TCP")


def post(
    target: Target,
    addresses: Sequence[str],
    *,
    content: bytes,
    headers: dict[str, str],
    seconds: float,
    max_body: int,
    tls: ssl.SSLContext,
) -> int:
    """POST ``content`` to ``target`` through one of ``addresses`` and return the answer's
    status, all within ``seconds``; at most about ``max_body`` bytes of the body are read.

    Raises ``DeliveryError`` when no status came (refused, reset, TLS, the deadline).
    """
    deadline = time.monotonic() + seconds
    limits = {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
    request_headers = target.headers + [(k.encode(), v.encode()) for k, v in headers.items()]
    try:
        with (
            httpcore.ConnectionPool(
                ssl_context=tls, network_backend=_Pinned(addresses, deadline), retries=0
            ) as pool,
            pool.stream(
                "POST",
                target.url,
                headers=request_headers,
                content=content,
                extensions={"timeout": limits},
            ) as response,
        ):
            status = response.status
            with contextlib.suppress(*_ERRORS):  # the status is in; the body is a courtesy
                read = 0
                for chunk in response.iter_stream():
                    read += len(chunk)
                    if read >= max_body:
                        break
            return status
    except _ERRORS as exc:
        if time.monotonic() >= deadline - 0.01:
            raise DeliveryError(f"no answer within the {seconds:g} s deadline") from None
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:500]) from None


class WebhookTransport(Protocol):
    """The seam between webhook deliveries and the network: resolve a host once, post to one
    of the checked addresses. :data:`HTTP` is the real one."""

    def resolve(self, target: Target) -> list[str]: ...

    def post(
        self,
        target: Target,
        addresses: Sequence[str],
        *,
        content: bytes,
        headers: dict[str, str],
        seconds: float,
        max_body: int,
        tls: ssl.SSLContext,
    ) -> int: ...


class _Http:
    """Deliveries over the network, pinned to the checked addresses."""

    resolve = staticmethod(resolve)
    post = staticmethod(post)


HTTP: WebhookTransport = _Http()
