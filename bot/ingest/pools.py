"""Keep-alive connections for fetching from many hosts: one small pool per origin.

httpcore's pool keeps every connection in one list and walks the whole list, several
times, on every request and every response end (encode/httpcore#1035); its cost grows
with the square of the pool. A fetcher pool small enough to walk cheaply (20) cannot
hold a connection per host, so a round over 100 hosts opened a new connection for
almost every feed. Here each origin gets its own httpcore pool of ``per_origin``
connections: a walk only sees that origin's few connections, and up to ``max_origins``
origins keep theirs between requests, with at most ``max_kept`` connections kept in all
(each one is a file descriptor: 256 origins of 4 could otherwise hold 1,024, a common
per-process limit).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpcore

Origin = tuple[bytes, bytes, int]


@dataclass
class _OriginPool:
    pool: httpcore.AsyncConnectionPool
    last_used: float  # when a response was last closed (or the pool opened)
    active: int = 0  # requests sent whose response is not closed yet
    kept: int = 0  # connections the pool held when a response was last closed


class OriginPools:
    """Route each request to its origin's own connection pool.

    The least recently used idle origins' pools are closed past ``max_origins`` (checked
    when a new origin is opened) or while more than ``max_kept`` connections are kept
    (checked when a response is closed), and so are origins idle longer than
    ``keepalive_expiry`` (their connections expired anyway). An origin with a request
    in flight is never closed, so either limit can be exceeded while that many origins
    are in use.
    """

    def __init__(
        self,
        make_pool: Callable[[], httpcore.AsyncConnectionPool],
        *,
        max_origins: int,
        max_kept: int,
        keepalive_expiry: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make_pool = make_pool
        self._max_origins = max_origins
        self._max_kept = max_kept
        self._kept = 0  # the sum of the origins' `kept`
        self._expiry = keepalive_expiry
        self._clock = clock
        self._origins: OrderedDict[Origin, _OriginPool] = OrderedDict()  # oldest use first

    @property
    def origins(self) -> list[Origin]:
        """The origins that hold a pool now, least recently used first."""
        return list(self._origins)

    @property
    def kept(self) -> int:
        """Connections the origins held when their last response was closed."""
        return self._kept

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        origin = (url.scheme, url.host.lower(), url.port or (443 if url.scheme == b"https" else 80))
        entry = self._origins.get(origin)
        opened = entry is None
        if entry is None:
            entry = self._origins[origin] = _OriginPool(self._make_pool(), self._clock())
        self._origins.move_to_end(origin)
        entry.active += 1  # before any await: a busy origin is never closed
        try:
            if opened:
                await self._close_surplus()
            response = await entry.pool.handle_async_request(request)
        except BaseException:
            await self._release(entry)
            raise
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_Released(response, lambda: self._release(entry)),
            extensions=response.extensions,
        )

    async def _release(self, entry: _OriginPool) -> None:
        entry.active -= 1
        entry.last_used = self._clock()
        kept = len(entry.pool.connections)
        self._kept += kept - entry.kept
        entry.kept = kept
        if self._kept > self._max_kept:
            await self._close_surplus()

    async def _close_surplus(self) -> None:
        """Close idle origins past either limit, or idle past keep-alive, oldest first."""
        stale = self._clock() - self._expiry
        closing = []
        excess_origins = len(self._origins) - self._max_origins
        excess_kept = self._kept - self._max_kept
        for origin, entry in self._origins.items():  # least recently asked for first
            if entry.active:
                continue
            if excess_origins <= 0 and excess_kept <= 0 and entry.last_used >= stale:
                break  # the rest were asked for later: most are fresher still
            closing.append(origin)
            excess_origins -= 1
            excess_kept -= entry.kept
        # Out of the table before any await, so no request can pick a closing pool.
        entries = [self._origins.pop(origin) for origin in closing]
        self._kept -= sum(entry.kept for entry in entries)
        for entry in entries:
            await entry.pool.aclose()

    async def aclose(self) -> None:
        """Close every origin's connections."""
        pools, self._origins = list(self._origins.values()), OrderedDict()
        self._kept = 0
        for entry in pools:
            await entry.pool.aclose()


class _Released:
    """A response body that tells its origin when it is closed (the connection is free)."""

    def __init__(self, response: httpcore.Response, release: Callable[[], Awaitable[None]]) -> None:
        self._stream = response.stream
        self._release: Callable[[], Awaitable[None]] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:  # type: ignore[union-attr]
            yield part

    async def aclose(self) -> None:
        try:
            if hasattr(self._stream, "aclose"):
                await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:  # once, however often httpx closes the body
                await release()
