"""Refresh use case end to end: local HTTP feeds → fetch → parse → store → stories."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import Refresher
from bot.settings import FeedConfig, Settings, Topic, load_settings
from bot.storage import feeds as feed_store
from bot.storage.db import session_scope
from bot.storage.models import Entry, Feed, Story, StoryTopic
from tests.support.feedserver import FeedServer, Reply, Request
from tests.support.samples import FEED_A, FEED_B, RSS, rss

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)


def make_settings(server: FeedServer, **feeds: bytes) -> Settings:
    for name, body in feeds.items():
        server.route(f"/{name}.xml", Reply(200, RSS, body))
    base = load_settings(None, {})
    return Settings(
        telegram=base.telegram,
        database_url=base.database_url,
        fetch=base.fetch.__class__(allow_private_networks=True, interval_seconds=600),
        topics=(
            Topic("world", "World"),
            Topic("tech", "Technology", ("semiconductor",)),
        ),
        feeds=tuple(
            FeedConfig(url=server.url(f"/{n}.xml"), name=n.upper(), topics=("world",))
            for n in feeds
        ),
    )


async def refresh(engine: Engine, settings: Settings, now: datetime = NOW) -> list:
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=now)
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=5)
    async with Fetcher(policy) as fetcher:
        refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings, clock=lambda: now)
        return await refresher.refresh_all()


@asynccontextmanager
async def refresher_for(
    engine: Engine, server: FeedServer, paths: Sequence[str]
) -> AsyncIterator[Refresher]:
    """A Refresher over feeds at these server paths (named by path), synced and due."""
    feeds = tuple(FeedConfig(url=server.url(p), name=p[1:-4]) for p in paths)
    settings = Settings(**{**make_settings(server).__dict__, "feeds": feeds})
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=NOW)
    async with Fetcher(FetchPolicy(allow_private_networks=True, timeout_seconds=20)) as fetcher:
        yield Refresher(engine=engine, fetcher=fetcher, settings=settings, clock=lambda: NOW)


async def test_cross_source_stories_join_and_different_ones_stay_apart(
    engine: Engine, server: FeedServer
) -> None:
    settings = make_settings(server, a=FEED_A, b=FEED_B)
    reports = await refresh(engine, settings)
    by_name = {r.name: r for r in reports}
    assert by_name["A"].new_entries == 3 and by_name["B"].new_entries == 2
    assert sum(r.new_stories for r in reports) == 4
    assert sum(r.merged for r in reports) == 1
    with Session(engine) as session:
        stories = session.exec(select(Story)).all()
        counts = sorted(s.entry_count for s in stories)
        assert counts == [1, 1, 1, 2]
        qamishli = next(s for s in stories if s.entry_count == 2)
        assert "Qamishli" in qamishli.title
        # tracking parameters are gone from stored links
        assert all("utm_" not in (e.link or "") for e in session.exec(select(Entry)).all())
        topics = set(session.exec(select(StoryTopic.topic)).all())
        assert topics == {"world", "tech"}


async def test_second_refresh_adds_nothing_and_entries_that_return_stay_old(
    engine: Engine, server: FeedServer
) -> None:
    settings = make_settings(server, a=FEED_A)
    await refresh(engine, settings)
    # The feed drops an item, then brings it back: never new again.
    server.route("/a.xml", Reply(200, RSS, rss("A", [])))
    await refresh(engine, settings, NOW + timedelta(hours=1))
    server.route("/a.xml", Reply(200, RSS, FEED_A))
    reports = await refresh(engine, settings, NOW + timedelta(hours=2))
    assert reports[0].new_entries == 0
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Entry)).one() == 3


async def test_broken_feeds_are_recorded_and_do_not_stop_others(
    engine: Engine, server: FeedServer
) -> None:
    settings = make_settings(server, a=FEED_A)
    server.route("/html.xml", Reply(200, {"Content-Type": "text/html"}, b"<html><body>hi</body>"))
    server.route("/500.xml", Reply(500, {}, b"oops"))
    server.route("/trunc.xml", Reply(200, RSS, FEED_B[:-60]))
    extra = tuple(
        FeedConfig(url=server.url(p), name=n)
        for p, n in [("/html.xml", "HTML"), ("/500.xml", "FIVE"), ("/trunc.xml", "TRUNC")]
    )
    settings = Settings(**{**settings.__dict__, "feeds": settings.feeds + extra})
    reports = {r.name: r for r in await refresh(engine, settings)}
    assert reports["A"].new_entries == 3 and reports["A"].error is None
    assert reports["HTML"].error and "not a feed" in reports["HTML"].error
    assert reports["FIVE"].error == "HTTP 500"
    assert reports["TRUNC"].new_entries >= 1  # what could be read is kept
    with Session(engine) as session:
        five = session.exec(select(Feed).where(Feed.name == "FIVE")).one()
        assert five.consecutive_failures == 1 and five.last_error == "HTTP 500"
        assert five.next_check_at is not None and five.next_check_at > NOW


async def test_repeated_failures_back_off_and_pause(engine: Engine, server: FeedServer) -> None:
    server.route("/down.xml", Reply(503, {"Retry-After": "120"}, b""))
    base = make_settings(server)
    fetch = base.fetch.__class__(
        allow_private_networks=True, interval_seconds=60, pause_after_failures=3
    )
    settings = Settings(
        **{
            **base.__dict__,
            "fetch": fetch,
            "feeds": (FeedConfig(url=server.url("/down.xml"), name="DOWN"),),
        }
    )
    delays = []
    paused_flags = []
    for i in range(3):
        now = NOW + timedelta(hours=i)
        reports = await refresh(engine, settings, now)
        paused_flags.append(reports[0].paused_now)
        with Session(engine) as session:
            feed = session.exec(select(Feed)).one()
            delays.append((feed.next_check_at - now).total_seconds())
    assert delays[0] >= 120  # Retry-After honoured
    assert delays[1] < delays[2]  # exponential back-off
    assert paused_flags == [False, False, True]
    with Session(engine) as session:
        feed = session.exec(select(Feed)).one()
        assert feed.paused and feed.last_error == "HTTP 503"
        assert feed_store.due_feeds(session, now=NOW + timedelta(days=3)) == []


async def test_ttl_hint_is_clamped(engine: Engine, server: FeedServer) -> None:
    settings = make_settings(server, t=rss("T", [("x", "Title x", "https://t/x", "")], ttl=720))
    await refresh(engine, settings)
    with Session(engine) as session:
        feed = session.exec(select(Feed)).one()
        delay = (feed.next_check_at - NOW).total_seconds()
    assert delay == settings.fetch.max_interval_seconds  # 720 min asked, 6 h maximum


async def test_config_sync_adds_updates_and_disables(engine: Engine, tmp_path: Path) -> None:
    feeds = (FeedConfig("https://x.example/a", "A", ("world",)), FeedConfig("https://x.example/b"))
    with session_scope(engine) as session:
        report = feed_store.sync_config_feeds(session, feeds, now=NOW)
        assert (report.added, report.updated, report.disabled) == (2, 0, 0)
    with session_scope(engine) as session:
        changed = (FeedConfig("https://x.example/a", "A2", ("world",)),)
        report = feed_store.sync_config_feeds(session, changed, now=NOW)
        assert (report.added, report.updated, report.disabled) == (0, 1, 1)
    with Session(engine) as session:
        enabled = session.exec(select(Feed.url).where(col(Feed.enabled))).all()
        assert enabled == ["https://x.example/a"]


async def test_not_modified_is_trusted_for_a_day_then_refetched(
    engine: Engine, server: FeedServer
) -> None:
    from tests.support.feedserver import conditional

    settings = make_settings(server)
    server.route("/c.xml", conditional(FEED_A, etag='"v1"', last_modified="Tue, 20 Jan 2026"))
    feeds = (FeedConfig(url=server.url("/c.xml"), name="C"),)
    settings = Settings(**{**settings.__dict__, "feeds": feeds})
    await refresh(engine, settings)
    second = await refresh(engine, settings, NOW + timedelta(hours=1))
    assert second[0].not_modified
    conditional_requests = [r for r in server.requests if "if-none-match" in r.headers]
    assert len(conditional_requests) == 1
    # A server that answers 304 forever (bogus ETag) is asked unconditionally after a day.
    await refresh(engine, settings, NOW + timedelta(hours=26))
    last = server.requests[-1]
    assert "if-none-match" not in last.headers and "if-modified-since" not in last.headers


async def test_a_304_round_records_success_keeps_validators_and_unpauses(
    engine: Engine, server: FeedServer
) -> None:
    # The 304 answer carries no validators: the ones sent are kept (RFC 9110 §15.4.5).
    def answer(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304, {})
        return Reply(200, {**RSS, "ETag": '"v1"', "Last-Modified": "Tue, 20 Jan 2026"}, FEED_A)

    server.route("/n.xml", answer)
    settings = make_settings(server)
    settings = Settings(
        **{**settings.__dict__, "feeds": (FeedConfig(url=server.url("/n.xml"), name="N"),)}
    )
    await refresh(engine, settings)
    with session_scope(engine) as session:  # as if failing before, paused and leased
        feed = session.exec(select(Feed)).one()
        feed.paused, feed.consecutive_failures, feed.last_error = True, 4, "HTTP 500"
        feed.failing_since, feed.lease_until = NOW, NOW + timedelta(hours=1)
        session.add(feed)
    later = NOW + timedelta(hours=1)
    for hours in (1, 2):
        reports = await refresh(engine, settings, NOW + timedelta(hours=hours))
        assert [(r.name, r.not_modified, r.error) for r in reports] == [("N", True, None)]
    with Session(engine) as session:
        feed = session.exec(select(Feed)).one()
        assert not feed.paused and feed.consecutive_failures == 0
        assert feed.last_error is None and feed.failing_since is None and feed.lease_until is None
        assert (feed.etag, feed.last_modified) == ('"v1"', "Tue, 20 Jan 2026")
        assert feed.not_modified_since == later  # the first 304, not the last
        assert feed.last_checked_at == feed.last_success_at == NOW + timedelta(hours=2)
        assert feed.next_check_at == NOW + timedelta(hours=2, seconds=600)
        assert feed.body_hash is not None  # from the first, full fetch


async def test_a_304_round_is_written_in_one_transaction_not_one_per_few_feeds(
    engine: Engine, server: FeedServer
) -> None:
    from tests.support.feedserver import conditional

    settings = make_settings(server)
    feeds = []
    for n in range(30):
        server.route(f"/f{n}.xml", conditional(FEED_A, etag=f'"v{n}"', last_modified="Tue"))
        feeds.append(FeedConfig(url=server.url(f"/f{n}.xml"), name=f"F{n}"))
    settings = Settings(**{**settings.__dict__, "feeds": tuple(feeds)})
    await refresh(engine, settings)
    updates: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE FEED"):
            updates.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        reports = await refresh(engine, settings, NOW + timedelta(hours=1))
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert [r.not_modified for r in reports] == [True] * 30
    # Every 304 waits until no fetch is running (or UNCHANGED_BATCH are waiting): with
    # 30 feeds, one executemany. Writing as they came took one per few feeds.
    assert len(updates) == 1
    with Session(engine) as session:
        checked = session.exec(select(Feed.last_checked_at)).all()
    assert checked == [NOW + timedelta(hours=1)] * 30


async def test_refresh_due_claims_on_while_a_slow_feed_is_still_fetching(
    engine: Engine, server: FeedServer
) -> None:
    # Batches of 2: the slow feed is in the first. It answers only once the last feed was
    # asked for (or after 5 s); claiming the next batch only when a whole batch is done
    # would keep the later feeds waiting behind it.
    last_asked = threading.Event()
    waited: list[bool] = []

    def slow(_: Request) -> Reply:
        waited.append(last_asked.wait(5))
        return Reply(200, RSS, FEED_A)

    def last(_: Request) -> Reply:
        last_asked.set()
        return Reply(200, RSS, FEED_B)

    server.route("/slow.xml", slow)
    for n in range(3):
        server.route(f"/f{n}.xml", Reply(200, RSS, rss(f"F{n}", [])))
    server.route("/last.xml", last)
    paths = ["/slow.xml", "/f0.xml", "/f1.xml", "/f2.xml", "/last.xml"]
    async with refresher_for(engine, server, paths) as refresher:
        reports = await refresher.refresh_due(batch=2)
    assert waited == [True]
    assert [r.name for r in reports] == ["slow", "f0", "f1", "f2", "last"]  # claim order
    assert all(r.error is None for r in reports)
    with Session(engine) as session:
        assert all(f.lease_until is None for f in session.exec(select(Feed)).all())


async def test_a_cancelled_refresh_due_releases_the_leases_it_did_not_finish(
    engine: Engine, server: FeedServer
) -> None:
    asked = threading.Event()

    def hangs(_: Request) -> Reply:
        asked.set()
        server.stopping.wait(10)
        return Reply(200, RSS, FEED_A)

    server.route("/hangs.xml", hangs)
    server.route("/quick.xml", Reply(200, RSS, FEED_B))
    paths = ["/quick.xml", "/hangs.xml"]
    async with refresher_for(engine, server, paths) as refresher:
        work = asyncio.create_task(refresher.refresh_due(batch=1))
        while not asked.is_set():
            await asyncio.sleep(0.01)
        work.cancel()
        with pytest.raises(asyncio.CancelledError):
            await work
    with Session(engine) as session:
        feeds = {f.name: f for f in session.exec(select(Feed)).all()}
    assert feeds["hangs"].lease_until is None and feeds["hangs"].last_checked_at is None
    assert feeds["quick"].last_success_at == NOW  # finished before the cancel: kept


def _feeds_asked_for(server: FeedServer, count: int) -> tuple[list[str], threading.Event]:
    """`count` feeds of two distinct entries each; the event is set once all were asked for."""
    asked, lock, all_asked = [0], threading.Lock(), threading.Event()

    def feed(n: int) -> Callable[[Request], Reply]:
        body = rss(
            f"Outlet {n}",
            [
                (f"g{n}-{i}", f"Headline {i} from outlet {n} about topic {n * 7 + i}", "", "")
                for i in range(2)
            ],
        )

        def answer(_: Request) -> Reply:
            with lock:
                asked[0] += 1
                if asked[0] == count:
                    all_asked.set()
            return Reply(200, RSS, body)

        return answer

    paths = [f"/g{n}.xml" for n in range(count)]
    for n, path in enumerate(paths):
        server.route(path, feed(n))
    return paths, all_asked


@contextmanager
def _entry_transactions(
    engine: Engine, hold_first: threading.Event, fail_title: str | None = None
) -> Iterator[list[int]]:
    """Count entries inserted per committed transaction. The first insert waits for
    `hold_first` (and a moment for the last parses), so the other feeds queue behind it;
    an insert of an entry titled `fail_title` fails."""
    counts: list[int] = []
    pending = [0]

    def before(_conn: object, _cur: object, statement: str, params: Any, *_: object) -> None:
        if not statement.startswith("INSERT INTO entry"):
            return
        if not counts and not pending[0]:
            hold_first.wait(10)
            time.sleep(1.0)
        rows = params if isinstance(params, list) else [params]
        if fail_title is not None and any(fail_title in repr(row) for row in rows):
            raise RuntimeError("a bug storing this feed")
        pending[0] += len(rows)

    def commit(_conn: object) -> None:
        if pending[0]:
            counts.append(pending[0])
        pending[0] = 0

    def rollback(_conn: object) -> None:
        pending[0] = 0

    hooks = [("before_cursor_execute", before), ("commit", commit), ("rollback", rollback)]
    for name, hook in hooks:
        sa.event.listen(engine, name, hook)
    try:
        yield counts
    finally:
        for name, hook in hooks:
            sa.event.remove(engine, name, hook)


async def test_feeds_waiting_for_the_writer_are_stored_a_group_per_transaction(
    engine: Engine, server: FeedServer
) -> None:
    paths, all_asked = _feeds_asked_for(server, 12)
    with _entry_transactions(engine, all_asked) as counts:
        async with refresher_for(engine, server, paths) as refresher:
            reports = await refresher.refresh_all()
    assert [r.new_entries for r in reports] == [2] * 12
    # The first group is the feed(s) done when the writer started (usually one); the
    # rest queued meanwhile and go in groups of STORE_GROUP (8): e.g. [2, 16, 6].
    # One transaction per feed: 12 (main before this change).
    # A parse slower than the held second (a loaded machine) may make one group more.
    assert sum(counts) == 24 and max(counts) <= 16 and len(counts) <= 4


async def test_a_feed_that_fails_to_store_in_a_group_fails_alone(
    engine: Engine, server: FeedServer
) -> None:
    paths, all_asked = _feeds_asked_for(server, 6)
    bad = "Headline 1 from outlet 3 "
    with _entry_transactions(engine, all_asked, fail_title=bad) as counts:
        async with refresher_for(engine, server, paths) as refresher:
            reports = await refresher.refresh_all()
    errors = {r.name: r.error for r in reports}
    assert errors == {f"g{n}": None for n in range(6)} | {"g3": "internal error: RuntimeError"}
    assert [r.new_entries for r in reports if r.error is None] == [2] * 5
    # The failing feed's group rolled back and its feeds were stored alone; feeds that
    # queued later may share a transaction ([2, 2, 2, 4] when two came in one group).
    assert sum(counts) == 10 and all(c % 2 == 0 for c in counts)
    with Session(engine) as session:
        stored = session.exec(select(Entry.title)).all()
    assert len(stored) == 10 and not any(bad in t for t in stored)
