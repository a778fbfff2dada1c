"""Refuse fetches that would reach private, loopback or otherwise non-public addresses.

Feed URLs come from users, so every hop of every fetch is checked here (SSRF guard).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Resolve ``(host, port)`` to address strings; raise ``OSError`` (``socket.gaierror``) on failure.
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve host with the event loop's getaddrinfo (runs in the default executor)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no addresses")
    return addresses


def parse_literal(host: str) -> IPAddress | None:
    """Return host as an IP address if it is an IP literal, else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_public(address: IPAddress) -> bool:
    """Return True only for globally routable unicast addresses."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 2002:7f00:1:: (6to4) embed an IPv4 address that the
        # kernel will actually connect to; judge that address instead.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
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


async def check_host(host: str, port: int, *, resolve: Resolver) -> str | None:
    """Return a refusal reason if host is (or resolves to ANY) non-public address, else None.

    Resolution errors propagate as ``OSError`` so the caller can report a DNS failure.
    """
    literal = parse_literal(host)
    if literal is not None:
        return None if is_public(literal) else refusal(host, literal)
    for text in await resolve(host, port):
        address = parse_literal(text.split("%", 1)[0])  # drop an IPv6 zone id (fe80::1%eth0)
        if address is None or not is_public(address):
            return refusal(host, text)
    return None
