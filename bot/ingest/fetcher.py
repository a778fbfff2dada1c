"""Fetch feeds and article pages over HTTP, defensively.

Owns the network edge of the pipeline: conditional GET, manual redirects with an
address check on every hop, a streamed body cap, a wall-clock deadline and bounded
concurrency. Every expected failure comes back as a ``FetchResult``, never an exception.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Self

import httpx

from bot.ingest.decode import ACCEPT_ENCODING, BodyDecoder, DecodeError
from bot.ingest.dnscache import CheckedAnswers
from bot.ingest.httpmeta import describe_error, looks_like_feed, parse_max_age, parse_retry_after
from bot.ingest.netguard import (
    AddressRefused,
    PinnedTransport,
    Resolver,
    pinned,
)
from bot.ingest.resolver import ThreadedResolver
from bot.ingest.xmlbytes import media_type

# Re-exported: callers and tests have always found these here.
__all__ = ["describe_error", "looks_like_feed", "parse_max_age", "parse_retry_after"]

logger = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.8"

_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_PERMANENT_CODES = frozenset({301, 308})  # RFC 9110 §15.4: the resource has a new URI
_HINTED_CODES = frozenset({429, 503})  # RFC 9110 §10.2.3: Retry-After is meaningful here


class FetchStatus(StrEnum):
    """Outcome of one fetch."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits applied to every fetch made by one ``Fetcher``."""

    timeout_seconds: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private_networks: bool = False
    user_agent: str = "newsbrief-bot/0.1 (+https://github.com/newsbrief/newsbrief-bot)"
    max_concurrency: int = 20
    max_per_host: int = 4
    # Past max_bytes: refuse the body (feeds), or keep its first max_bytes (article pages:
    # their text comes before the scripts and data that make a page that big).
    keep_head: bool = False

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0 or self.max_bytes <= 0 or self.max_redirects < 0:
            raise ValueError("timeout_seconds and max_bytes must be > 0, max_redirects >= 0")
        if self.max_concurrency < 1 or self.max_per_host < 1:
            raise ValueError("max_concurrency and max_per_host must be >= 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    """What one fetch produced; ``error`` is a human-readable reason when status is ERROR.

    What the answer did not carry (no response, no body, no header) is None.
    """

    url: str
    final_url: str
    status: FetchStatus
    http_status: int | None = None
    fetched_at: datetime
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    error: str | None = None
    retry_after_seconds: float | None = None
    max_age_seconds: float | None = None
    # Where permanent redirects (301, 308), and only they, led from `url`: its new address.
    moved_to: str | None = None


class _Refused(Exception):
    """A hop failed for a reason we word ourselves (scheme, address, size, redirects)."""


@dataclass(frozen=True, slots=True)
class _Response:
    """The final hop: status, headers and (for 2xx only) the capped body."""

    url: httpx.URL
    status_code: int
    headers: httpx.Headers
    body: bytes | None
    moved_to: str | None = None  # see FetchResult.moved_to


@dataclass(frozen=True, slots=True)
class _Request:
    """What the caller asked for, beyond the URL."""

    headers: dict[str, str]
    is_feed: bool
    etag: str | None = None
    last_modified: str | None = None
    previous_hash: str | None = None


class Fetcher:
    """Fetch URLs under a ``FetchPolicy``; use as ``async with Fetcher(policy) as f:``."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._policy = policy
        guard = not policy.allow_private_networks
        # Lookups on threads of our own, one per fetch under way: never in the loop's
        # default executor, where commands' database work waits (bot/ingest/resolver.py).
        self._lookups: ThreadedResolver | None = None
        if resolver is None:
            resolver = self._lookups = ThreadedResolver(policy.max_concurrency)
        # Answers are kept a few seconds: one thread hop per host, not per hop.
        self._answers = CheckedAnswers(resolver, check=guard)
        # With the guard off, names are still resolved here (not by httpcore, in the loop's
        # default executor) when the transport is ours; a caller's transport connects as it
        # likes.
        self._resolves = guard or transport is None
        self._all = asyncio.Semaphore(policy.max_concurrency)
        self._hosts = _HostSlots(policy.max_per_host)
        self._client = httpx.AsyncClient(
            transport=transport or PinnedTransport(guard=guard, per_origin=policy.max_per_host),
            follow_redirects=False,  # each hop is checked in _follow
            timeout=httpx.Timeout(policy.timeout_seconds),
            limits=httpx.Limits(max_connections=policy.max_concurrency),
            # Only gzip: we decode it ourselves, a bounded piece at a time (see _read).
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            # URLs come from users: never send .netrc credentials or go via env proxies.
            trust_env=False,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close pooled connections and the lookup threads."""
        try:
            await self._client.aclose()
        finally:
            if self._lookups is not None:
                self._lookups.close()

    async def fetch_feed(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        previous_hash: str | None = None,
        now: datetime,
    ) -> FetchResult:
        """Fetch a feed with a conditional GET; unchanged content yields NOT_MODIFIED."""
        headers = {"Accept": FEED_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        request = _Request(headers, True, etag, last_modified, previous_hash)
        return await self._fetch(url, request, now=now)

    async def fetch_page(self, url: str, *, now: datetime) -> FetchResult:
        """Fetch an article page (HTML accepted) under the same guards as feeds."""
        return await self._fetch(url, _Request({"Accept": PAGE_ACCEPT}, False), now=now)

    async def _fetch(self, url: str, request: _Request, *, now: datetime) -> FetchResult:
        trail = [url]  # every hop tried, so a failure can still report where it ended
        try:
            response = await self._follow(trail, request.headers)
        except _Refused as exc:
            return _failed(trail, str(exc), now=now)
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:  # TimeoutError is an OSError
            return _failed(trail, describe_error(exc), now=now)
        except Exception as exc:  # a bug, but one bad URL must not stop a refresh of many
            logger.exception("fetch crashed url=%s", url)
            return _failed(trail, f"unexpected error ({type(exc).__name__})", now=now)
        result = _interpret(url, response, request, now=now)
        logger.debug("fetched url=%s outcome=%s reason=%s", url, result.status, result.error)
        return result

    async def _follow(self, trail: list[str], headers: dict[str, str]) -> _Response:
        """Follow up to max_redirects hops within one time budget; return the final hop."""
        budget = _Budget(self._policy.timeout_seconds)
        url = _checked_url(trail[0])
        visited = {str(url)}
        moved_to: str | None = None
        permanent = True  # so far, every hop was a permanent redirect
        for hop in range(self._policy.max_redirects + 1):
            response = await self._hop(url, headers, budget)
            if response.status_code not in _REDIRECT_CODES or "location" not in response.headers:
                return replace(response, moved_to=moved_to)
            target = response.url.join(response.headers["location"])
            trail.append(str(target))
            url = _checked_url(target)
            permanent = permanent and response.status_code in _PERMANENT_CODES
            moved_to = str(url) if permanent else moved_to
            if str(url) in visited:
                raise _Refused("redirect loop")
            if hop == self._policy.max_redirects:
                raise _Refused("too many redirects")
            visited.add(str(url))
        raise AssertionError("unreachable: the loop returns or raises")

    async def _hop(self, url: httpx.URL, headers: dict[str, str], budget: _Budget) -> _Response:
        """Check and request one URL; the deadline runs only while a slot is held."""
        async with self._hosts.hold(url.host), self._all, budget.spend():
            host = url.raw_host.decode("ascii")  # the name httpcore will connect to
            port = url.port or (443 if url.scheme == "https" else 80)
            try:  # with the guard off: resolved, not checked
                addresses = await self._answers.addresses(host, port) if self._resolves else [host]
            except AddressRefused as exc:
                raise _Refused(str(exc)) from exc
            # Resolved once: the connection goes to an address that was just checked.
            with pinned(host, port, addresses):
                async with self._client.stream("GET", url, headers=headers) as response:
                    body = await self._read(response) if response.is_success else None
                    if response.status_code == 304:
                        # A 304 has no body by definition; reading its end frees the
                        # connection for the next request (closing unread drops it).
                        await response.aread()
                    return _Response(response.url, response.status_code, response.headers, body)

    async def _read(self, response: httpx.Response) -> bytes:
        """Read and decode the body, refusing as soon as either size exceeds max_bytes.

        httpx would inflate a whole network read at once (a stacked-gzip bomb became
        256 MiB in one chunk), so the raw stream is decoded here piece by piece.
        """
        cap, keep_head = self._policy.max_bytes, self._policy.keep_head
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap and not keep_head:
            raise _Refused(_too_large(cap))
        if response.is_stream_consumed:  # built in memory (e.g. by a MockTransport)
            body = bytearray()
            _grow(body, [response.content], cap, 0, keep_head=keep_head)
            return bytes(body)
        try:
            decoder = BodyDecoder(response.headers.get("content-encoding"))
            body = bytearray()
            raw_size = 0
            async for raw in response.aiter_raw():
                raw_size += len(raw)
                if _grow(body, decoder.feed(raw), cap, raw_size, keep_head=keep_head):
                    logger.info("page cut at %s bytes url=%s", cap, response.url)
                    return bytes(body)  # the rest is left unread: the connection is dropped
            _grow(body, decoder.finish(), cap, raw_size, keep_head=keep_head)
        except DecodeError as exc:
            raise _Refused(str(exc)) from exc
        return bytes(body)


class _Budget:
    """Seconds left of one fetch's wall-clock deadline, spent across its hops."""

    def __init__(self, seconds: float) -> None:
        self.remaining = seconds

    @asynccontextmanager
    async def spend(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(max(self.remaining, 0.0)):
                yield
        finally:
            self.remaining -= loop.time() - started


class _HostSlots:
    """One semaphore per host, dropped once nobody holds or awaits it."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._users: Counter[str] = Counter()

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        semaphore = self._semaphores.setdefault(host, asyncio.Semaphore(self._limit))
        self._users[host] += 1
        try:
            async with semaphore:
                yield
        finally:
            self._users[host] -= 1
            if not self._users[host]:
                del self._users[host], self._semaphores[host]


def _checked_url(url: str | httpx.URL) -> httpx.URL:
    """Parse url, refusing anything but absolute http(s) URLs with a host."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise _Refused("invalid URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise _Refused("unsupported URL scheme")
    if not parsed.host:
        raise _Refused("invalid URL")
    return parsed


def _interpret(url: str, response: _Response, request: _Request, *, now: datetime) -> FetchResult:
    """Turn the final hop into a FetchResult (pure)."""
    headers = response.headers
    code = response.status_code
    base = FetchResult(
        url=url,
        final_url=str(response.url),
        status=FetchStatus.ERROR,
        fetched_at=now,
        http_status=code,
        content_type=headers.get("content-type"),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        max_age_seconds=parse_max_age(headers.get("cache-control")),
        moved_to=response.moved_to,
    )
    if code == 304:
        # A 304 may omit validators (RFC 9110 §15.4.5); keep the ones we sent.
        return replace(
            base,
            status=FetchStatus.NOT_MODIFIED,
            etag=base.etag or request.etag,
            last_modified=base.last_modified or request.last_modified,
        )
    if response.body is None:
        retry_after = headers.get("retry-after") if code in _HINTED_CODES else None
        # Cloudflare marks the browser check it answers instead of the feed.
        bot_check = headers.get("cf-mitigated", "").lower() == "challenge"
        return replace(
            base,
            error=f"HTTP {code} (Cloudflare bot check)" if bot_check else f"HTTP {code}",
            retry_after_seconds=parse_retry_after(retry_after, now=now),
        )
    if request.is_feed and not looks_like_feed(base.content_type, response.body):
        return replace(base, error=f"not a feed (got {media_type(base.content_type)})")
    digest = hashlib.sha256(response.body).hexdigest()
    if request.previous_hash is not None and digest == request.previous_hash:
        return replace(base, status=FetchStatus.NOT_MODIFIED, body_hash=digest)
    return replace(base, status=FetchStatus.OK, body=response.body, body_hash=digest)


def _failed(trail: list[str], reason: str, *, now: datetime) -> FetchResult:
    logger.debug("fetch failed url=%s reason=%s", trail[0], reason)
    return FetchResult(
        url=trail[0], final_url=trail[-1], status=FetchStatus.ERROR, fetched_at=now, error=reason
    )


def _grow(
    body: bytearray, pieces: Iterable[bytes], cap: int, raw_size: int, *, keep_head: bool
) -> bool:
    """Append decoded pieces; True once the body is full (`keep_head`: its first `cap` bytes).

    Without `keep_head`, passing cap (raw or decoded size) refuses the body instead.
    """
    if raw_size > cap and not keep_head:
        raise _Refused(_too_large(cap))
    for piece in pieces:
        body += piece
        if len(body) > cap:
            if not keep_head:
                raise _Refused(_too_large(cap))
            del body[cap:]
            return True
    return raw_size > cap


def _too_large(cap: int) -> str:
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if cap >= size:
            return f"too large (over {cap / size:g} {unit})"
    return f"too large (over {cap} bytes)"
