"""One connection pool per origin: connections kept across many hosts, idle ones bounded."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import httpcore
import pytest

from bot.ingest.fetcher import Fetcher, FetchPolicy, FetchStatus
from bot.ingest.netguard import MAX_KEPT_CONNECTIONS, kept_connections_budget
from bot.ingest.pools import OriginPools
from tests.support.feedserver import FeedServer, Reply

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.fixture
def servers() -> Iterator[list[FeedServer]]:
    with ExitStack() as stack:
        yield [stack.enter_context(FeedServer()) for _ in range(5)]


async def test_feeds_on_more_origins_than_fetches_at_once_keep_a_connection_each(
    servers: list[FeedServer],
) -> None:
    for server in servers:
        server.route("/feed", Reply(304, {"ETag": '"v1"'}))
    policy = FetchPolicy(allow_private_networks=True, max_concurrency=2)
    async with Fetcher(policy) as fetcher:
        for _ in range(3):  # round after round over 5 origins, 2 fetches at a time
            for server in servers:
                got = await fetcher.fetch_feed(server.url("/feed"), etag='"v1"', now=NOW)
                assert got.status is FetchStatus.NOT_MODIFIED
    # One connection per origin, reused; a pool of 2 for 5 origins opened one per fetch.
    assert [server.connections for server in servers] == [1] * 5


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def origin_pools(
    *, max_origins: int, max_kept: int = 1000, clock: Clock | None = None
) -> OriginPools:
    def make_pool() -> httpcore.AsyncConnectionPool:
        backend = httpcore.AsyncMockBackend([ANSWER] * 10)
        return httpcore.AsyncConnectionPool(network_backend=backend, keepalive_expiry=5.0)

    return OriginPools(
        make_pool,
        max_origins=max_origins,
        max_kept=max_kept,
        keepalive_expiry=5.0,
        clock=clock or Clock(),
    )


async def get(pools: OriginPools, host: str, *, close: bool = True) -> httpcore.Response:
    request = httpcore.Request("GET", f"http://{host}/feed", headers=[("Host", host)])
    response = await pools.handle_async_request(request)
    if close:
        await response.aread()
        await response.aclose()
    return response


async def test_idle_origins_past_the_limit_are_closed_least_recently_used_first() -> None:
    pools = origin_pools(max_origins=2)
    for host in ("a.test", "b.test", "a.test", "c.test"):
        await get(pools, host)
    assert [origin[1] for origin in pools.origins] == [b"a.test", b"c.test"]
    await pools.aclose()
    assert pools.origins == []


async def test_an_origin_with_a_response_open_is_never_closed() -> None:
    pools = origin_pools(max_origins=1)
    open_response = await get(pools, "busy.test", close=False)
    await get(pools, "b.test")
    assert [origin[1] for origin in pools.origins] == [b"busy.test", b"b.test"]
    assert await open_response.aread() == b"ok"  # its connection still works
    await open_response.aclose()
    await get(pools, "c.test")  # both are idle now: only the newest stays
    assert [origin[1] for origin in pools.origins] == [b"c.test"]


async def test_origins_idle_past_keep_alive_are_closed_when_another_opens() -> None:
    clock = Clock()
    pools = origin_pools(max_origins=10, clock=clock)
    await get(pools, "old.test")
    clock.now = 4.0
    await get(pools, "recent.test")
    clock.now = 6.0  # old.test idle 6 s (> 5), recent.test 2 s
    await get(pools, "new.test")
    assert [origin[1] for origin in pools.origins] == [b"recent.test", b"new.test"]


async def test_the_same_origin_in_other_case_or_default_port_shares_a_pool() -> None:
    pools = origin_pools(max_origins=10)
    await get(pools, "Feeds.test")
    await get(pools, "feeds.test:80")
    assert pools.origins == [(b"http", b"feeds.test", 80)]


async def test_connections_kept_in_all_are_bounded_least_recently_used_origin_first() -> None:
    pools = origin_pools(max_origins=10, max_kept=3)
    first, second = (
        await get(pools, "busy.test", close=False),
        await get(pools, "busy.test", close=False),
    )
    for response in (first, second):  # two at once: busy.test keeps two connections
        await response.aread()
        await response.aclose()
    await get(pools, "b.test")
    assert pools.kept == 3
    await get(pools, "c.test")  # a fourth: the oldest origin goes, with both of its own
    assert [origin[1] for origin in pools.origins] == [b"b.test", b"c.test"]
    assert pools.kept == 2
    await pools.aclose()
    assert pools.kept == 0


async def test_an_origin_in_use_is_not_closed_to_keep_within_the_budget() -> None:
    pools = origin_pools(max_origins=10, max_kept=1)
    open_response = await get(pools, "busy.test", close=False)
    await get(pools, "b.test")
    await get(pools, "c.test")  # b.test is closed for it; busy.test is in use
    assert [origin[1] for origin in pools.origins] == [b"busy.test", b"c.test"]
    assert await open_response.aread() == b"ok"
    await open_response.aclose()  # two kept now: the older, busy.test, goes
    assert [origin[1] for origin in pools.origins] == [b"c.test"]


def test_the_budget_is_a_quarter_of_the_descriptor_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        assert kept_connections_budget() == min(1024, hard) // 4
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(64, hard), hard))
        assert kept_connections_budget() == 16  # never fewer
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft >= 4 * MAX_KEPT_CONNECTIONS:
        assert kept_connections_budget() == MAX_KEPT_CONNECTIONS
