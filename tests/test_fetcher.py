"""Fetcher against a real server on 127.0.0.1 (and httpx.MockTransport for fake hosts)."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
import ssl
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from bot.ingest.fetcher import (
    FEED_ACCEPT,
    Fetcher,
    FetchPolicy,
    FetchResult,
    FetchStatus,
    parse_max_age,
    parse_retry_after,
)
from bot.ingest.netguard import is_public
from bot.ingest.polling import failure_backoff, next_check_delay
from tests.support.feedserver import (
    FeedServer,
    Reply,
    Request,
    conditional,
    gzip_bomb,
    gzipped,
    lazy_chunks,
    redirect,
    trickle,
    wait_until,
)
from tests.support.process import free_port

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
LOCAL = FetchPolicy(allow_private_networks=True)  # the test server lives on loopback
MB = 1024 * 1024
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
HTML = b"<!DOCTYPE html><html><head><title>Blog</title></head><body>hi</body></html>"
RSS_TYPE = "application/rss+xml; charset=utf-8"
PUBLIC_IP = "93.184.215.14"


async def fetch(url: str, policy: FetchPolicy = LOCAL, **kwargs: str | None) -> FetchResult:
    async with Fetcher(policy) as fetcher:
        return await fetcher.fetch_feed(url, now=NOW, **kwargs)


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


async def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC_IP]


# --- success and conditional GET ---------------------------------------------------------


async def test_ok_returns_body_hash_and_validators(server: FeedServer) -> None:
    headers = {"Content-Type": RSS_TYPE, "ETag": '"v1"', "Last-Modified": "Mon, 10 Mar 2025"}
    url = server.route("/feed", Reply(200, headers, RSS))

    result = await fetch(url)

    assert result.status is FetchStatus.OK
    assert (result.url, result.final_url, result.http_status) == (url, url, 200)
    assert result.body == RSS
    assert result.body_hash == hashlib.sha256(RSS).hexdigest()
    assert result.content_type == RSS_TYPE
    assert (result.etag, result.last_modified) == ('"v1"', "Mon, 10 Mar 2025")
    assert result.error is None and result.fetched_at == NOW


async def test_sends_user_agent_and_accept_headers(server: FeedServer) -> None:
    url = server.route("/feed", Reply(200, {"Content-Type": RSS_TYPE}, RSS))
    page = server.route("/page", Reply(200, {"Content-Type": "text/html"}, HTML))
    async with Fetcher(LOCAL) as fetcher:
        await fetcher.fetch_feed(url, now=NOW)
        await fetcher.fetch_page(page, now=NOW)

    feed_request, page_request = server.requests
    assert feed_request.headers["user-agent"] == LOCAL.user_agent
    assert feed_request.headers["accept"] == FEED_ACCEPT
    assert page_request.headers["accept"].startswith("text/html")
    assert "gzip" in feed_request.headers["accept-encoding"]
    assert "if-none-match" not in feed_request.headers


async def test_etag_match_is_not_modified(server: FeedServer) -> None:
    handler = conditional(RSS, etag='"abc"', last_modified="Sun, 09 Mar 2025 10:00:00 GMT")
    url = server.route("/feed", handler)

    first = await fetch(url)
    second = await fetch(url, etag=first.etag)

    assert first.status is FetchStatus.OK
    assert second.status is FetchStatus.NOT_MODIFIED
    assert (second.http_status, second.body, second.etag) == (304, None, '"abc"')
    assert server.requests[-1].headers["if-none-match"] == '"abc"'


async def test_last_modified_match_is_not_modified(server: FeedServer) -> None:
    stamp = "Sun, 09 Mar 2025 10:00:00 GMT"
    url = server.route("/feed", conditional(RSS, etag='"new"', last_modified=stamp))

    result = await fetch(url, last_modified=stamp)

    assert result.status is FetchStatus.NOT_MODIFIED
    assert server.requests[-1].headers["if-modified-since"] == stamp


async def test_304_without_validators_keeps_the_ones_sent() -> None:
    transport = mock(lambda request: httpx.Response(304))
    async with Fetcher(LOCAL, transport=transport) as fetcher:
        result = await fetcher.fetch_feed(
            "https://news.test/feed", etag='"e"', last_modified="yesterday", now=NOW
        )

    assert result.status is FetchStatus.NOT_MODIFIED
    assert (result.etag, result.last_modified) == ('"e"', "yesterday")


async def test_unchanged_hash_is_not_modified(server: FeedServer) -> None:
    url = server.route("/feed", Reply(200, {"Content-Type": RSS_TYPE}, RSS))

    result = await fetch(url, previous_hash=hashlib.sha256(RSS).hexdigest())

    assert result.status is FetchStatus.NOT_MODIFIED
    assert result.http_status == 200 and result.body is None
    assert result.body_hash == hashlib.sha256(RSS).hexdigest()


async def test_changed_hash_is_ok(server: FeedServer) -> None:
    url = server.route("/feed", Reply(200, {"Content-Type": RSS_TYPE}, RSS))

    result = await fetch(url, previous_hash="0" * 64)

    assert result.status is FetchStatus.OK and result.body == RSS


# --- HTTP errors and server hints --------------------------------------------------------


@pytest.mark.parametrize("code", [404, 410, 500, 502])
async def test_http_error_status(server: FeedServer, code: int) -> None:
    url = server.route("/feed", Reply(code, body=b"oops"))

    result = await fetch(url)

    assert result.status is FetchStatus.ERROR
    assert (result.error, result.http_status, result.body) == (f"HTTP {code}", code, None)
    assert result.retry_after_seconds is None


@pytest.mark.parametrize(
    ("code", "retry_after", "expected"),
    [
        (429, "120", 120.0),
        (503, format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (429, format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        (429, "soon", None),
    ],
)
async def test_retry_after_on_429_and_503(
    server: FeedServer, code: int, retry_after: str, expected: float | None
) -> None:
    url = server.route("/feed", Reply(code, {"Retry-After": retry_after}))

    result = await fetch(url)

    assert result.error == f"HTTP {code}"
    assert result.retry_after_seconds == expected


async def test_retry_after_ignored_on_other_statuses(server: FeedServer) -> None:
    url = server.route("/feed", Reply(500, {"Retry-After": "60"}))

    assert (await fetch(url)).retry_after_seconds is None


async def test_cache_control_max_age(server: FeedServer) -> None:
    headers = {"Content-Type": RSS_TYPE, "Cache-Control": "public, max-age=600"}
    url = server.route("/feed", Reply(200, headers, RSS))

    assert (await fetch(url)).max_age_seconds == 600.0


# --- size cap ----------------------------------------------------------------------------


async def test_60_mb_stream_stops_at_cap(server: FeedServer) -> None:
    url = server.route("/huge", lambda request: Reply(200, {}, lazy_chunks(60 * MB)))

    tracemalloc.start()
    try:
        result = await fetch(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (result.status, result.error) == (FetchStatus.ERROR, "too large (over 10 MB)")
    assert peak < 40 * MB, f"peak {peak / MB:.0f} MB"
    assert server.bytes_sent < 40 * MB  # the client hung up; the server never sent it all


async def test_gzip_bomb_is_too_large(server: FeedServer) -> None:
    bomb = gzip_bomb(64 * MB)
    headers = {"Content-Type": RSS_TYPE, "Content-Encoding": "gzip"}
    url = server.route("/bomb", Reply(200, headers, bomb))

    result = await fetch(url)

    assert len(bomb) < MB
    assert result.error == "too large (over 10 MB)"


async def test_gzip_body_is_decoded(server: FeedServer) -> None:
    url = server.route("/feed.gz", gzipped(RSS))

    result = await fetch(url)

    assert result.status is FetchStatus.OK and result.body == RSS


async def test_declared_length_over_cap_refused_without_reading() -> None:
    class Untouched(httpx.AsyncByteStream):
        read = False

        async def __aiter__(self) -> AsyncIterator[bytes]:
            Untouched.read = True
            yield b"x"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(60 * MB)}, stream=Untouched())

    async with Fetcher(LOCAL, transport=mock(handler)) as fetcher:
        result = await fetcher.fetch_feed("https://news.test/feed", now=NOW)

    assert result.error == "too large (over 10 MB)"
    assert not Untouched.read


@pytest.mark.parametrize(
    ("max_bytes", "reason"),
    [(len(RSS), None), (len(RSS) - 1, f"too large (over {len(RSS) - 1} bytes)"), (1536, None)],
)
async def test_cap_is_configurable(server: FeedServer, max_bytes: int, reason: str | None) -> None:
    url = server.route("/feed", Reply(200, {"Content-Type": RSS_TYPE}, RSS))

    result = await fetch(url, FetchPolicy(allow_private_networks=True, max_bytes=max_bytes))

    assert result.error == reason


PAGE = b"<html><body><article><p>" + b"Words of the article. " * 100 + b"</p></article>"
BIG_PAGE = PAGE + b"<script>" + b"x" * 4 * MB


@pytest.mark.parametrize(
    ("reply", "start"),
    [
        pytest.param(Reply(200, {}, BIG_PAGE), PAGE, id="declared-length"),
        pytest.param(gzipped(BIG_PAGE, "text/html"), PAGE, id="gzip"),
        pytest.param(Reply(200, {}, lazy_chunks(60 * MB)), b"x" * 100, id="stream-60-mb"),
        pytest.param(
            Reply(200, {"Content-Encoding": "gzip"}, gzip_bomb(64 * MB)), bytes(100), id="bomb"
        ),
    ],
)
async def test_a_page_past_the_cap_keeps_its_first_bytes(
    server: FeedServer, reply: Reply, start: bytes
) -> None:
    url = server.route("/page.html", reply)
    policy = FetchPolicy(allow_private_networks=True, max_bytes=MB, keep_head=True)

    async with Fetcher(policy) as fetcher:
        result = await fetcher.fetch_page(url, now=NOW)

    assert result.status is FetchStatus.OK and result.body is not None
    assert len(result.body) == MB and result.body.startswith(start)
    assert server.bytes_sent < 40 * MB  # the rest is never read


async def test_cap_reason_in_kilobytes() -> None:
    transport = mock(lambda request: httpx.Response(200, content=b"x" * 2000))
    policy = FetchPolicy(max_bytes=1536)
    async with Fetcher(policy, transport=transport, resolver=public_resolver) as fetcher:
        result = await fetcher.fetch_feed("https://news.test/feed", now=NOW)

    assert result.error == "too large (over 1.5 KB)"


# --- timeouts ----------------------------------------------------------------------------


async def test_trickling_server_hits_total_deadline(server: FeedServer) -> None:
    # One byte per second never trips the 2 s read timeout; only the deadline ends it.
    def handler(request: Request) -> Reply:
        return Reply(200, {"Content-Length": "100"}, trickle(b"x" * 100), chunk_delay=1.0)

    url = server.route("/slow", handler)
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=2.0)

    started = time.monotonic()
    result = await fetch(url, policy)

    assert (result.status, result.error) == (FetchStatus.ERROR, "timeout")
    assert time.monotonic() - started < 10  # hang guard, not a timing assertion


async def test_waiting_for_a_host_slot_does_not_eat_the_deadline(server: FeedServer) -> None:
    def handler(request: Request) -> Reply:
        time.sleep(0.25)
        return Reply(200, {"Content-Type": RSS_TYPE}, RSS)

    # Six requests in series take 1.5 s; each alone is well inside its 1 s deadline.
    url = server.route("/feed", handler)
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=1.0, max_per_host=1)
    async with Fetcher(policy) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch_feed(url, now=NOW) for _ in range(6)))

    assert [result.status for result in results] == [FetchStatus.OK] * 6


# --- redirects ---------------------------------------------------------------------------


def chain(server: FeedServer, length: int) -> str:
    """Route /r/length -> ... -> /r/0 (the feed) and return the first URL."""
    server.route("/r/0", Reply(200, {"Content-Type": RSS_TYPE}, RSS))
    for hop in range(1, length + 1):
        server.route(f"/r/{hop}", redirect(f"/r/{hop - 1}", 301 if hop % 2 else 307))
    return server.url(f"/r/{length}")


async def test_redirect_chain_within_limit(server: FeedServer) -> None:
    result = await fetch(chain(server, 3))

    assert result.status is FetchStatus.OK
    assert result.final_url == server.url("/r/0")
    assert result.url == server.url("/r/3")


async def test_redirect_chain_at_limit(server: FeedServer) -> None:
    assert (await fetch(chain(server, 5))).status is FetchStatus.OK


async def test_too_many_redirects(server: FeedServer) -> None:
    result = await fetch(chain(server, 6))

    assert result.error == "too many redirects"
    assert server.hits["/r/0"] == 0


async def test_redirect_loop(server: FeedServer) -> None:
    server.route("/a", redirect(server.url("/b")))
    server.route("/b", redirect("/a"))

    result = await fetch(server.url("/a"))

    assert result.error == "redirect loop"
    assert (server.hits["/a"], server.hits["/b"]) == (1, 1)


# --- content sniffing --------------------------------------------------------------------


async def test_html_page_is_not_a_feed(server: FeedServer) -> None:
    url = server.route("/blog", Reply(200, {"Content-Type": "text/html; charset=utf-8"}, HTML))

    result = await fetch(url)

    assert (result.status, result.error) == (FetchStatus.ERROR, "not a feed (got text/html)")
    assert result.http_status == 200


async def test_fetch_page_accepts_html(server: FeedServer) -> None:
    url = server.route("/article", Reply(200, {"Content-Type": "text/html"}, HTML))
    async with Fetcher(LOCAL) as fetcher:
        result = await fetcher.fetch_page(url, now=NOW)

    assert result.status is FetchStatus.OK and result.body == HTML


@pytest.mark.parametrize(
    "body",
    [
        RSS,
        b"\xef\xbb\xbf\n  <rss version='2.0'><channel/></rss>",
        b"<!-- generated --><rss version='2.0'><channel/></rss>",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title></feed>',
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF>',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
    ],
    ids=["rss", "bom-rss", "comment-rss", "atom", "rdf", "json-feed"],
)
@pytest.mark.parametrize("content_type", ["text/html", "text/plain", "application/octet-stream"])
async def test_mislabelled_real_feed_is_accepted(
    server: FeedServer, body: bytes, content_type: str
) -> None:
    url = server.route("/feed", Reply(200, {"Content-Type": content_type}, body))

    result = await fetch(url)

    assert result.status is FetchStatus.OK and result.body == body


# --- address and scheme guards -----------------------------------------------------------


async def test_loopback_refused_by_default(server: FeedServer) -> None:
    url = server.route("/feed", Reply(200, {"Content-Type": RSS_TYPE}, RSS))

    result = await fetch(url, FetchPolicy())

    assert result.error == "refused: 127.0.0.1 is a private or local address"
    assert server.hits["/feed"] == 0


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("http://10.0.0.5/feed", "10.0.0.5"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::ffff:127.0.0.1]/feed", "::ffff:7f00:1"),
        ("http://[::1]:8080/", "::1"),
    ],
)
async def test_redirect_to_private_literal_refused(target: str, shown: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": target})

    async with Fetcher(FetchPolicy(), transport=mock(handler)) as fetcher:
        result = await fetcher.fetch_feed(f"http://{PUBLIC_IP}/feed", now=NOW)

    assert result.error == f"refused: {shown} is a private or local address"
    assert seen == [f"http://{PUBLIC_IP}/feed"]
    assert result.final_url == target


@pytest.mark.parametrize("host", ["localhost", "2130706433"])
async def test_hostname_resolving_to_loopback_refused(host: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with Fetcher(FetchPolicy(), transport=mock(handler)) as fetcher:
        result = await fetcher.fetch_feed(f"http://{host}/feed", now=NOW)

    assert result.error is not None and result.error.startswith(f"refused: {host} (")
    assert result.error.endswith("is a private or local address")
    assert seen == []


async def test_any_private_resolved_address_refuses() -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return [PUBLIC_IP, "192.168.1.10"]

    transport = mock(lambda request: httpx.Response(200))
    async with Fetcher(FetchPolicy(), transport=transport, resolver=mixed) as fetcher:
        result = await fetcher.fetch_feed("https://news.test/feed", now=NOW)

    assert result.error == "refused: news.test (192.168.1.10) is a private or local address"


async def test_public_resolved_host_is_fetched() -> None:
    transport = mock(lambda request: httpx.Response(200, content=RSS))
    async with Fetcher(FetchPolicy(), transport=transport, resolver=public_resolver) as fetcher:
        result = await fetcher.fetch_feed("https://news.test/feed", now=NOW)

    assert result.status is FetchStatus.OK


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fec0::1",  # site-local (deprecated, still routed inside some networks)
        "ff02::1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", PUBLIC_IP, "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/feed.xml", "unsupported URL scheme"),
        ("file:///etc/passwd", "unsupported URL scheme"),
        ("javascript:alert(1)", "unsupported URL scheme"),
        ("not a url", "unsupported URL scheme"),
        ("http:///feed", "invalid URL"),
    ],
)
async def test_bad_urls(url: str, reason: str) -> None:
    result = await fetch(url, FetchPolicy())

    assert (result.status, result.error, result.url) == (FetchStatus.ERROR, reason, url)


async def test_redirect_to_file_scheme_refused() -> None:
    transport = mock(
        lambda request: httpx.Response(301, headers={"Location": "file:///etc/passwd"})
    )
    async with Fetcher(LOCAL, transport=transport) as fetcher:
        result = await fetcher.fetch_feed("https://news.test/feed", now=NOW)

    assert result.error == "unsupported URL scheme"


# --- transport failures ------------------------------------------------------------------


async def test_connection_refused() -> None:
    result = await fetch(f"http://127.0.0.1:{free_port()}/feed")

    assert (result.status, result.error) == (FetchStatus.ERROR, "connection refused")


async def test_resolver_failure_is_dns_lookup_failed() -> None:
    async def failing(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    transport = mock(lambda request: httpx.Response(200))
    async with Fetcher(FetchPolicy(), transport=transport, resolver=failing) as fetcher:
        result = await fetcher.fetch_feed("https://gone.test/feed", now=NOW)

    assert result.error == "DNS lookup failed"


def raising(exc: Exception, cause: BaseException) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc from cause

    return mock(handler)


@pytest.mark.parametrize(
    ("exc", "cause", "reason"),
    [
        (
            httpx.ConnectError("boom"),
            socket.gaierror(-2, "Name or service not known"),
            "DNS lookup failed",
        ),
        (httpx.ConnectError("boom"), ssl.SSLCertVerificationError("bad cert"), "TLS error"),
        (httpx.ConnectError("boom"), ConnectionRefusedError(111, "refused"), "connection refused"),
        (httpx.ReadTimeout("slow"), TimeoutError(), "timeout"),
        (httpx.RemoteProtocolError("bad"), ValueError(), "protocol error"),
        (httpx.ReadError("reset"), ConnectionResetError(), "connection error"),
    ],
)
async def test_transport_errors_are_worded(
    exc: Exception, cause: BaseException, reason: str
) -> None:
    async with Fetcher(LOCAL, transport=raising(exc, cause)) as fetcher:
        result = await fetcher.fetch_feed("https://news.test/feed", now=NOW)

    assert (result.status, result.error) == (FetchStatus.ERROR, reason)


async def test_bug_in_transport_still_returns_a_value() -> None:
    async with Fetcher(LOCAL, transport=raising(KeyError("bug"), ValueError())) as fetcher:
        result = await fetcher.fetch_page("https://news.test/a", now=NOW)

    assert result.error == "unexpected error (KeyError)"


# --- concurrency -------------------------------------------------------------------------


def slow_feed(request: Request) -> Reply:
    time.sleep(0.3)
    return Reply(200, {"Content-Type": RSS_TYPE}, RSS)


async def test_per_host_concurrency_is_bounded(server: FeedServer) -> None:
    urls = [server.route(f"/feed/{index}", slow_feed) for index in range(12)]
    policy = FetchPolicy(allow_private_networks=True, max_per_host=3)
    async with Fetcher(policy) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch_feed(url, now=NOW) for url in urls))

    assert all(result.status is FetchStatus.OK for result in results)
    assert server.max_answering == 3


async def test_overall_concurrency_is_bounded(server: FeedServer) -> None:
    server.route("/feed", slow_feed)
    hosts = ["127.0.0.1", "localhost"] * 4  # two hosts, one server
    urls = [f"http://{host}:{server.port}/feed" for host in hosts]
    policy = FetchPolicy(allow_private_networks=True, max_concurrency=2, max_per_host=4)
    async with Fetcher(policy) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch_feed(url, now=NOW) for url in urls))

    assert all(result.status is FetchStatus.OK for result in results)
    assert server.max_answering == 2
    assert wait_until(lambda: server.active == 0)


# --- header parsing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("-3", 0.0),
        ("nan", None),
        ("", None),
        (None, None),
        ("Mon, 10 Mar 2025 12:01:00 GMT", 60.0),
        ("Mon, 10 Mar 2025 12:01:00 -0000", 60.0),
        ("garbage", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=300", 300.0),
        ("public, max-age=60, must-revalidate", 60.0),
        ('max-age="30"', 30.0),
        ("s-maxage=10", None),
        ("no-cache", None),
        (None, None),
    ],
)
def test_parse_max_age(value: str | None, expected: float | None) -> None:
    assert parse_max_age(value) == expected


# --- schedule ----------------------------------------------------------------------------

MINUTE = 60.0
HOUR = 60 * MINUTE


@pytest.mark.parametrize(
    ("hints", "expected"),
    [
        ({}, 30 * MINUTE),
        ({"retry_after": 2 * HOUR}, 2 * HOUR),
        ({"max_age": 45 * MINUTE, "ttl": HOUR}, HOUR),
        ({"ttl": 720 * MINUTE}, 3 * HOUR),  # iovxw/rssbot #63: <ttl>720</ttl> is clamped
        ({"retry_after": 5.0, "max_age": 0.0}, 30 * MINUTE),  # never below the interval
    ],
)
def test_next_check_delay(hints: dict[str, float], expected: float) -> None:
    arguments: dict[str, float | None] = {"retry_after": None, "max_age": None, "ttl": None}
    arguments |= hints
    assert next_check_delay(interval=30 * MINUTE, maximum=3 * HOUR, **arguments) == expected


def test_next_check_delay_interval_above_maximum_wins() -> None:
    delay = next_check_delay(interval=HOUR, retry_after=None, max_age=None, ttl=None, maximum=60)
    assert delay == HOUR


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 10.0), (1, 10.0), (2, 20.0), (3, 40.0), (5, 160.0), (7, 600.0), (10**6, 600.0)],
)
def test_failure_backoff(failures: int, expected: float) -> None:
    assert failure_backoff(interval=10.0, consecutive_failures=failures, maximum=600.0) == expected


async def test_a_304_leaves_the_connection_open_for_the_next_fetch() -> None:
    """A steady round is mostly 304s: each must not cost a new TCP connection."""
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=5)
    try:
        async with Fetcher(policy) as fetcher:
            for _ in range(3):
                result = await fetcher.fetch_feed(
                    f"http://127.0.0.1:{port}/feed.xml", etag='"v1"', now=NOW
                )
                assert result.status is FetchStatus.NOT_MODIFIED and result.etag == '"v1"'
    finally:
        server.close()
        await server.wait_closed()
    assert connections == 1
