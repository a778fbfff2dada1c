"""Reading HTTP response metadata and transport errors as plain values (pure)."""

from __future__ import annotations

import math
import re
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from bot.ingest import reasons
from bot.ingest.xmlbytes import media_type

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FEED_STARTS = (b"<?xml", b"{")
_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf")
_SNIFF_BYTES = 1024
_MAX_AGE = re.compile(r'(?:^|,)\s*max-age\s*=\s*"?(\d+)"?', re.IGNORECASE)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Return the Retry-After delay in seconds (delay-seconds or HTTP-date), or None."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000" parses as naive; HTTP dates are GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def parse_max_age(value: str | None) -> float | None:
    """Return Cache-Control max-age in seconds, or None."""
    match = _MAX_AGE.search(value or "")
    return float(match.group(1)) if match else None


def describe_error(exc: BaseException) -> str:
    """Word a transport-level exception as one human-readable reason per failure kind."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return reasons.TIMEOUT
    for link in _causes(exc):
        if isinstance(link, ssl.SSLError):
            return reasons.TLS_ERROR
        if isinstance(link, socket.gaierror):
            return reasons.DNS_FAILED
        if isinstance(link, ConnectionRefusedError):
            return reasons.CONNECTION_REFUSED
    text = str(exc).lower()
    if isinstance(exc, httpx.ConnectError):
        if "certificate" in text or "ssl" in text or "tls" in text:
            return reasons.TLS_ERROR
        if "name or service" in text or "nodename" in text or "name resolution" in text:
            return reasons.DNS_FAILED
        return reasons.CONNECTION_REFUSED if "refused" in text else reasons.CONNECTION_FAILED
    if isinstance(exc, httpx.DecodingError):
        return reasons.BAD_ENCODING
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return reasons.PROTOCOL_ERROR
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return reasons.INVALID_URL
    return (
        reasons.CONNECTION_ERROR
        if isinstance(exc, httpx.NetworkError | OSError)
        else reasons.FETCH_FAILED
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """Yield exc and what it was raised from; httpx wraps httpcore wraps the OSError."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def looks_like_feed(content_type: str | None, body: bytes) -> bool:
    """Return False only for an HTML-labelled body that does not start like XML or JSON.

    Many real feeds are served as text/html or text/plain, so the label alone never
    rejects; the first bytes decide.
    """
    if media_type(content_type) not in _HTML_TYPES:
        return True
    head = body[:_SNIFF_BYTES].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return head.startswith(_FEED_STARTS) or any(root in head for root in _FEED_ROOTS)
