"""Feeds built to hurt: entity tricks, huge item counts, over-long identities, broken XML."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.parse_workers import ParseJob, parse_feed_async, parse_job
from bot.ingest.parser import ENTITIES_REFUSED, ParsedFeed, entry_identities, parse_feed
from bot.ingest.process_pool import ProcessPool, Running
from bot.ingest.refresh import FeedReport, Refresher
from bot.ingest.urls import MAX_URL_BYTES, canonical_url
from bot.settings import FeedConfig, FetchSettings, Settings, Topic, load_settings
from bot.storage import chats
from bot.storage import feeds as feed_store
from bot.storage.db import session_scope
from bot.storage.models import Entry, Feed
from tests.support.feedserver import FeedServer, Reply

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
RSS_TYPE = "application/rss+xml"

# A quoted ">" in the DOCTYPE made the old DTD stripper think there was no subset.
QUOTED_GT = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "http://x.test/a>b.dtd" [\n'
    b'<!ENTITY big "' + b"A" * 50_000 + b'">\n]>\n'
    b'<rss version="2.0"><channel><title>T</title>'
    b"<item><title>&big;&big;&big;&big;</title><link>https://a.test/1</link></item>"
    b"</channel></rss>"
)
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>Laughs</title>'
    b"<item><title>&lol9;</title><link>https://a.test/lol</link></item></channel></rss>"
)


def rss(items: Sequence[tuple[str | None, str, str | None, datetime]], title: str = "T") -> bytes:
    """RSS 2.0 from (guid, title, link, published) tuples."""
    body = "".join(
        (f"<item>{f'<guid>{g}</guid>' if g else ''}<title>{t}</title>")
        + (f"<link>{link}</link>" if link else "")
        + f"<pubDate>{format_datetime(when)}</pubDate></item>"
        for g, t, link, when in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{body}'
        "</channel></rss>"
    ).encode()


def parse(body: bytes, **kwargs: int) -> ParsedFeed:
    return parse_feed(body, url="https://feed.test/rss", content_type=RSS_TYPE, now=NOW, **kwargs)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def settings_for(server: FeedServer) -> Settings:
    base = load_settings(None, {})
    return Settings(
        telegram=base.telegram,
        database_url=base.database_url,
        fetch=FetchSettings(allow_private_networks=True, interval_seconds=600),
        topics=(Topic("world", "World"),),
        feeds=(FeedConfig(url=server.url("/feed.xml"), name="F", topics=("world",)),),
    )


async def refresh(engine: Engine, settings: Settings, now: datetime = NOW) -> FeedReport:
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=now)
    async with Fetcher(FetchPolicy(allow_private_networks=True, timeout_seconds=30)) as fetcher:
        refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings, clock=lambda: now)
        [report] = await refresher.refresh_all()
    return report


# --- 3. entity declarations ---------------------------------------------------------


@pytest.mark.parametrize("body", [QUOTED_GT, LAUGHS], ids=["quoted-gt-doctype", "billion-laughs"])
def test_any_entity_declaration_refuses_the_document(body: bytes) -> None:
    parsed = parse(body)
    assert parsed.error == ENTITIES_REFUSED
    assert parsed.entries == ()


def test_entity_declaration_in_utf16_is_refused_too() -> None:
    assert parse(LAUGHS.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16")).error == (
        ENTITIES_REFUSED
    )


async def test_refused_entities_are_the_feeds_recorded_error(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    server.route("/feed.xml", Reply(200, {"Content-Type": RSS_TYPE}, LAUGHS))
    report = await refresh(sqlite_engine, settings_for(server))
    assert report.error == ENTITIES_REFUSED
    with Session(sqlite_engine) as session:
        feed = session.exec(select(Feed)).one()
        assert feed.last_error == ENTITIES_REFUSED
        assert session.exec(select(Entry)).all() == []


# --- 6. malformed XML -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel></chan',
        b'<?xml version="1.0"?><rss version="2.0"><chan&&nel></rss>',
    ],
)
def test_malformed_xml_that_yields_nothing_is_a_parse_error(body: bytes) -> None:
    parsed = parse(body)
    assert parsed.error is not None and parsed.error.startswith("parse error: ")


def test_an_empty_but_valid_feed_is_still_a_success() -> None:
    parsed = parse(b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>')
    assert parsed.error is None and parsed.entries == ()


async def test_malformed_feed_is_recorded_as_a_parse_error(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    broken = b'<?xml version="1.0"?><rss version="2.0"><channel></chan'
    server.route("/feed.xml", Reply(200, {"Content-Type": RSS_TYPE}, broken))
    report = await refresh(sqlite_engine, settings_for(server))
    assert report.error is not None and report.error.startswith("parse error: ")
    with Session(sqlite_engine) as session:
        feed = session.exec(select(Feed)).one()
        assert feed.consecutive_failures == 1
        assert (feed.last_error or "").startswith("parse error: ")


# --- 4. huge feeds ----------------------------------------------------------------------


def huge_feed(count: int) -> tuple[bytes, set[str]]:
    """count items in shuffled order; returns the body and the links of the 200 newest."""
    dated = [
        (f"g{i}", f"Item {i}", f"https://a.test/{i}", NOW - timedelta(minutes=i))
        for i in range(count)
    ]
    newest = {link for _, _, link, _ in dated[:200]}
    random.Random(7).shuffle(dated)
    return rss(dated), newest


def test_only_the_newest_max_entries_are_kept_in_document_order() -> None:
    body, newest = huge_feed(1000)
    parsed = parse(body, max_entries=200)
    links = [entry.link for entry in parsed.entries]
    assert set(links) == newest
    in_document = [line for line in body.decode().split("<link>")[1:]]
    order = [piece.split("</link>")[0] for piece in in_document]
    assert links == [link for link in order if link in newest]


async def test_a_parse_over_its_time_limit_is_a_parse_error() -> None:
    body, _ = huge_feed(3000)
    parsed = await parse_feed_async(
        body, url="https://feed.test/rss", content_type=RSS_TYPE, now=NOW, timeout=0.001
    )
    assert parsed.error == "parse error: timed out after 0.001 s"


def test_a_stopped_parse_kills_its_worker_process_and_the_next_parse_gets_a_fresh_one() -> None:
    """Parses run in worker processes: one over its time limit is killed, not left running."""
    pool = ProcessPool(1, name="test-parse")
    url = "https://feed.test/rss"
    try:
        body, _ = huge_feed(20_000)
        running, handed = Running(), threading.Event()
        job = functools.partial(parse_job, ParseJob(body, url, RSS_TYPE, NOW, 200))
        slow = pool.threads.submit(pool.call, job, running, handed.set)
        assert handed.wait(60)
        running.stop()
        assert slow.result(timeout=60) is None
        assert running.worker_pid is not None
        with pytest.raises(ProcessLookupError):  # killed and reaped
            os.kill(running.worker_pid, 0)
        small, _ = huge_feed(5)
        after = Running()
        job = functools.partial(parse_job, ParseJob(small, url, RSS_TYPE, NOW, 200))
        parsed = pool.threads.submit(pool.call, job, after, lambda: None).result(timeout=60)
        assert parsed == parse(small)
        assert after.worker_pid not in (None, running.worker_pid)
    finally:
        pool.shutdown()


async def test_ten_thousand_entries_store_the_newest_200_while_others_write(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    body, newest = huge_feed(10_000)
    server.route("/feed.xml", Reply(200, {"Content-Type": RSS_TYPE}, body))
    settings = settings_for(server)

    def subscribe_many() -> int:
        done = 0
        for chat_id in range(1, 21):
            with session_scope(sqlite_engine) as session:
                chats.ensure_chat(
                    session, chat_id, chat_type="private", title=None,
                    defaults=settings.briefing, now=NOW,
                )  # fmt: skip
                chats.subscribe(session, chat_id, ["world"], now=NOW)
            done += 1
        return done

    report, subscribed = await asyncio.gather(
        refresh(sqlite_engine, settings), asyncio.to_thread(subscribe_many)
    )
    assert report.error is None and report.new_entries == 200
    assert subscribed == 20
    with Session(sqlite_engine) as session:
        assert set(session.exec(select(Entry.link)).all()) == newest


# --- 5. identities and links longer than their columns ---------------------------------------


def test_over_long_identities_become_stable_hashes() -> None:
    long_guid = "urn:x:" + "g" * 700
    body = rss([(long_guid, "One", "https://a.test/1", NOW)])
    [entry] = parse(body).entries
    [key] = entry_identities([entry])
    assert key.startswith("sha256:") and len(key) == 7 + 64
    assert entry_identities(parse(body).entries) == [key]
    huge_guid = "urn:x:" + "h" * 3000
    [entry] = parse(rss([(huge_guid, "Two", None, NOW)])).entries
    assert entry.guid is not None and entry.guid.startswith("sha256:")


def test_links_longer_than_the_column_are_dropped() -> None:
    fits = "https://a.test/" + "p" * (MAX_URL_BYTES - len("https://a.test/"))
    assert canonical_url(fits) == fits
    assert canonical_url(fits + "p") is None
    # Counted in UTF-8 bytes: 1000 "é" are 2000 bytes, over the limit with the prefix.
    assert canonical_url("https://a.test/" + "é" * 1020) is None


async def test_long_guids_and_links_refresh_twice_without_error_or_duplicates(
    engine: Engine, server: FeedServer
) -> None:
    items = [
        ("urn:x:" + "g" * 700, "Long guid", "https://a.test/long-guid", NOW),
        ("urn:y:" + "h" * 3000, "Huge guid", "https://a.test/huge-guid", NOW),
        (None, "Long link", "https://a.test/" + "l" * 3000, NOW),
        ("short", "Normal", "https://a.test/" + "é" * 1500, NOW),
    ]
    server.route("/feed.xml", Reply(200, {"Content-Type": RSS_TYPE}, rss(items)))
    settings = settings_for(server)
    first = await refresh(engine, settings)
    # A changed body forces a real second ingest (not a 304 or an unchanged hash).
    server.route("/feed.xml", Reply(200, {"Content-Type": RSS_TYPE}, rss(items, title="T2")))
    second = await refresh(engine, settings, NOW + timedelta(hours=1))
    assert (first.error, second.error) == (None, None)
    assert (first.new_entries, second.new_entries) == (4, 0)
    with Session(engine) as session:
        entries = session.exec(select(Entry)).all()
        assert len(entries) == 4
        assert all(len(e.identity) <= 600 for e in entries)
        assert all(e.link is None or len(e.link.encode()) <= MAX_URL_BYTES for e in entries)
        feed = session.exec(select(Feed)).one()
        assert feed.consecutive_failures == 0
