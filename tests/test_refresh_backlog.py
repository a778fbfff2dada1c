"""A first refresh holds a bounded number of feeds in memory, however many feeds there are.

A feed fetched and not yet stored holds its body, then its parsed entries. Fetch and
parse outrun the one writer, so without a bound a refresh of N feeds held up to N of
them at once (a host with many feeds could run out of memory on its first refresh).
Here the writer is held back (the database file's write gate taken, as another writer
of the process would) and the feed server checks, at every request, how many feeds
were fetched and not yet stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import FeedReport, Refresher
from bot.settings import FeedConfig, FetchSettings, Settings, Topic
from bot.storage import feeds as feed_store
from bot.storage.db import session_scope
from bot.storage.write_gate import gate_for
from tests.support.feedserver import FeedServer, Reply, Request
from tests.support.samples import RSS, rss

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
FEEDS = 40
IN_FLIGHT = 3


@asynccontextmanager
async def bounded_refresher(engine: Engine, settings: Settings) -> AsyncIterator[Refresher]:
    """A refresher over a real fetcher, with at most `IN_FLIGHT` feeds under way."""
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=20, max_concurrency=2)
    async with Fetcher(policy) as fetcher:
        yield Refresher(
            engine=engine,
            fetcher=fetcher,
            settings=settings,
            clock=lambda: NOW,
            in_flight=IN_FLIGHT,
        )


def settings_for(server: FeedServer, route: object) -> Settings:
    feeds = []
    for n in range(FEEDS):
        server.route(f"/f{n}.xml", route)  # type: ignore[arg-type]
        feeds.append(FeedConfig(url=server.url(f"/f{n}.xml"), name=f"F{n}"))
    return Settings(
        fetch=FetchSettings(allow_private_networks=True, max_concurrency=2),
        topics=(Topic("world", "World"),),
        feeds=tuple(feeds),
    )


def body_for(path: str) -> bytes:
    n = path.removeprefix("/f").removesuffix(".xml")
    link = f"https://f{n}.example/story"
    return rss(f"F{n}", [(link, f"Outlet {n} reports a storm over harbour {n}", link, "")])


async def test_feeds_fetched_and_not_stored_never_exceed_the_bound(
    sqlite_engine: Engine, server: FeedServer, tmp_path: Path
) -> None:
    stored = 0
    arrived = 0
    worst = 0  # most feeds fetched (or being fetched) and not stored, seen at a request
    lock = threading.Lock()

    def answer(request: Request) -> Reply:
        nonlocal arrived, worst
        with lock:
            arrived += 1
            worst = max(worst, arrived - stored)
        return Reply(200, RSS, body_for(request.path))

    settings = settings_for(server, answer)
    with session_scope(sqlite_engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=NOW)

    # Hold the writer back until the refresher has fetched all it may without storing
    # (or more: the old code fetched every feed), and the writer waits at the gate.
    gate = gate_for(str(tmp_path / "test.sqlite3"))
    holder = object()
    assert gate.acquire(holder, timeout=5)

    def let_go() -> None:
        deadline = time.monotonic() + 30  # a safety net only: the test never waits on it
        while time.monotonic() < deadline:
            with lock:
                fetched = arrived
            if fetched > IN_FLIGHT or (fetched == IN_FLIGHT and gate.waiting):
                break
            time.sleep(0.01)
        gate.release(holder)

    releaser = threading.Thread(target=let_go)
    releaser.start()

    def done(report: FeedReport) -> None:
        nonlocal stored
        with lock:
            stored += 1

    try:
        async with bounded_refresher(sqlite_engine, settings) as refresher:
            reports = await refresher.refresh_all(progress=done)
    finally:
        releaser.join()
        gate.release(holder)

    assert [r.error for r in reports if r.error] == []
    assert sum(r.new_entries for r in reports) == FEEDS  # every feed stored, none lost
    assert arrived == FEEDS
    assert worst <= IN_FLIGHT


async def test_a_round_of_304s_needs_no_place_to_wait_for_its_batch(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    """A 304 gives its place back as soon as it is fetched (it holds no body), then waits
    for the batched write; its place is given back once only (a bound smaller than the
    feeds, every feed answering 304: all complete, none fails)."""

    def answer(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304, {"ETag": '"v1"'})
        return Reply(200, {**RSS, "ETag": '"v1"'}, body_for(request.path))

    settings = settings_for(server, answer)
    with session_scope(sqlite_engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=NOW)
    async with bounded_refresher(sqlite_engine, settings) as refresher:
        first = await refresher.refresh_all()
        second = await refresher.refresh_all()
    assert sum(r.new_entries for r in first) == FEEDS
    assert all(r.not_modified and r.error is None for r in second)
