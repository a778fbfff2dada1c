"""Refuse fetches that would reach private, loopback or otherwise non-public addresses.

Feed URLs come from users, so every hop of every fetch is checked here (SSRF guard).
A host is resolved once; the addresses that passed the check are pinned for the
current task and the connection goes to one of them, never to a second lookup's
answer (a DNS-rebinding name can answer differently each time it is asked).
"""

from __future__ import annotations

import ipaddress
import resource
import select
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, Protocol, runtime_checkable

import httpcore
import httpx

from bot.ingest.pools import OriginPools

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Resolve ``(host, port)`` to address strings; raise ``OSError`` (``socket.gaierror``) on failure.
#: The fetcher's own is ``bot.ingest.resolver.ThreadedResolver``.
Resolver = Callable[[str, int], Awaitable[list[str]]]


def parse_literal(host: str) -> IPAddress | None:
    """Return host as an IP address if it is an IP literal, else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def host_address(host: str) -> IPAddress | None:
    """Return the address host names without a lookup: an IP literal, or an IPv4 address
    in a spelling the system resolver reads as one ("2130706433", "0x7f.1", "127.1",
    "0177.0.0.1", "0"); None for a name."""
    literal = parse_literal(host)
    if literal is not None:
        return literal
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def is_public(address: IPAddress) -> bool:
    """Return True only for globally routable unicast addresses."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 2002:7f00:1:: (6to4) embed an IPv4 address that the
        # kernel will actually connect to; judge that address instead.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
        if address.is_site_local:  # fec0::/10: Python 3.11 counts it as global
            return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def refusal(host: str, address: IPAddress | str) -> str:
    """Return the human-readable reason for refusing host (which is or resolved to address)."""
    shown = str(address) if parse_literal(host) is not None else f"{host} ({address})"
    return f"refused: {shown} is a private or local address"


class AddressRefused(Exception):
    """The host is, or resolves to, a non-public address; the message is the reason."""


async def checked_addresses(host: str, port: int, *, resolve: Resolver) -> list[str]:
    """Resolve host once and return its addresses if ALL are public.

    Raises ``AddressRefused`` otherwise; resolution errors propagate as ``OSError``
    so the caller can report a DNS failure.
    """
    literal = parse_literal(host)
    if literal is not None:
        if not is_public(literal):
            raise AddressRefused(refusal(host, literal))
        return [str(literal)]
    addresses = await resolve(host, port)
    for text in addresses:
        address = parse_literal(text.split("%", 1)[0])  # drop an IPv6 zone id (fe80::1%eth0)
        if address is None or not is_public(address):
            raise AddressRefused(refusal(host, text))
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no addresses")
    return list(addresses)


async def check_host(host: str, port: int, *, resolve: Resolver) -> str | None:
    """Return a refusal reason if host is (or resolves to ANY) non-public address, else None."""
    try:
        await checked_addresses(host, port, resolve=resolve)
    except AddressRefused as exc:
        return str(exc)
    return None


# --- connecting only to checked addresses ------------------------------------------

# (host, port) -> the addresses checked for it in this task; a ContextVar because
# httpcore opens the connection inside the task that sent the request.
_PINS: ContextVar[Mapping[tuple[str, int], tuple[str, ...]] | None] = ContextVar(
    "pins", default=None
)


@contextmanager
def pinned(host: str, port: int, addresses: Iterable[str]) -> Iterator[None]:
    """Within this block, connections to (host, port) go only to ``addresses``."""
    pins = dict(_PINS.get() or {})
    pins[(host.lower(), port)] = tuple(addresses)
    token = _PINS.set(pins)
    try:
        yield
    finally:
        _PINS.reset(token)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Open TCP connections to the pinned addresses of a host, never to a fresh lookup.

    Only the TCP connect changes: httpcore still sends the original host in the Host
    header and as the TLS server name (SNI), and verifies the certificate against it.
    An unpinned host is refused (fail closed) unless ``guard`` is False.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None, *, guard: bool) -> None:
        self._inner = inner or httpcore.AnyIOBackend()
        self._guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = (_PINS.get() or {}).get((host.lower(), port))
        if addresses is None:
            if self._guard:
                raise httpcore.ConnectError(f"refused: {host} was not checked before connecting")
            addresses = (host,)
        error: Exception = httpcore.ConnectError(f"no address to connect to for {host}")
        for address in addresses:  # in resolver order, like a plain connect would
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                error = exc
            else:
                return PollableStream.around(stream)
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used for fetching")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@runtime_checkable
class _Pollable(Protocol):
    def fileno(self) -> int: ...


class PollableStream(httpcore.AsyncNetworkStream):
    """A connection that answers "is it readable?" with one ``poll()`` of its socket.

    Before every request (and when each response ends) httpcore asks this of every idle
    pooled connection: readable while idle means the server closed it. anyio's stream
    answered by building its table of socket attributes, a ``getpeername()`` call
    included, every time. Everything else goes to the wrapped stream.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream, sock: _Pollable) -> None:
        self._inner = inner
        self._socket = sock

    @classmethod
    def around(cls, stream: httpcore.AsyncNetworkStream) -> httpcore.AsyncNetworkStream:
        """Wrap stream if it has a socket to poll; else leave it as it is."""
        sock = stream.get_extra_info("socket")  # on asyncio, a TransportSocket
        return cls(stream, sock) if isinstance(sock, _Pollable) else stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # TLS runs over the same socket: "readable" keeps meaning what it meant.
        secured = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return PollableStream(secured, self._socket)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: _Pollable) -> bool:
    """True when a read would not block (data or EOF) or the socket is closed."""
    descriptor = sock.fileno()
    if descriptor < 0:
        return True
    poller = select.poll()
    poller.register(descriptor, select.POLLIN)
    return bool(poller.poll(0))


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """The certificate store, loaded once per process (~30 ms a load; every connection
    of every fetcher can share one context)."""
    return httpx.create_ssl_context(trust_env=False)


#: Origins whose idle connections a transport keeps (each up to its per-origin limit).
MAX_ORIGINS = 256
#: Idle connections a transport keeps in all, at most (see `kept_connections_budget`).
MAX_KEPT_CONNECTIONS = 1024


def kept_connections_budget(max_kept: int = MAX_KEPT_CONNECTIONS) -> int:
    """How many idle connections to keep: each is a file descriptor, so at most a
    quarter of the process's limit (often 1,024), leaving the rest to the database,
    connections in use, the bot's own sockets and logs."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max_kept
    return max(16, min(max_kept, soft // 4))


KEEPALIVE_EXPIRY = 5.0  # httpx's default


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, with a pool per origin whose connections go via ``PinnedBackend``."""

    def __init__(
        self,
        *,
        guard: bool,
        per_origin: int,
        max_origins: int = MAX_ORIGINS,
        max_kept: int | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        super().__init__(
            verify=shared_ssl_context(),
            limits=httpx.Limits(max_connections=per_origin),
            trust_env=False,
        )
        backend = PinnedBackend(network_backend, guard=guard)

        def origin_pool() -> httpcore.AsyncConnectionPool:
            return httpcore.AsyncConnectionPool(
                ssl_context=shared_ssl_context(),
                max_connections=per_origin,
                keepalive_expiry=KEEPALIVE_EXPIRY,
                network_backend=backend,
            )

        # httpx takes no network backend or pool, so its pool is replaced by ours.
        self._pool = OriginPools(  # type: ignore[assignment]
            origin_pool,
            max_origins=max_origins,
            max_kept=kept_connections_budget() if max_kept is None else max_kept,
            keepalive_expiry=KEEPALIVE_EXPIRY,
        )
