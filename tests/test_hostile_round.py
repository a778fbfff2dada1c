"""One refresh round over a dozen hostile feeds at once, beside one good feed, over real HTTP.

Each hostile feed must end as a recorded error or bounded work; none may stop the round,
reach a file or a URL its document names, or keep the good feed from being stored. The
round runs under a generous deadline (120 s) that only detects a hang.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import Refresher
from bot.settings import FeedConfig, FetchSettings, Settings, Topic, load_settings
from bot.storage import feeds as feed_store
from bot.storage.db import session_scope
from bot.storage.models import Entry, Feed
from tests.support.feedserver import FeedServer, Reply

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml"}
HANG_DEADLINE = 120.0  # seconds; only detects a hang
MAX_ENTRIES = 200


def _item(i: int, title: str = "", extra: str = "") -> str:
    return (
        f"<item><title>{title or f'Story {i}'}</title><link>https://a.test/{i}</link>"
        f"<pubDate>Tue, 20 Jan 2026 10:00:00 GMT</pubDate>{extra}</item>"
    )


def _rss(items: str, head: str = "", prolog: str = '<?xml version="1.0"?>') -> bytes:
    channel = f"<channel><title>T</title>{items}</channel>"
    return f'{prolog}{head}<rss version="2.0">{channel}</rss>'.encode()


def _endless() -> Iterator[bytes]:
    yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    yield from itertools.repeat(_item(1).encode() * 100)


def _one_byte_a_second() -> Iterator[bytes]:
    return itertools.repeat(b" ")


def _hostile(server: FeedServer) -> dict[str, Reply]:
    dtd = server.url("/evil.dtd")
    mixed = "Привет мир".encode("cp1251") + " — naïve".encode() + b"\xff\xfe\x80"
    return {
        # External DTD and entities: the document may name them, nothing may fetch them.
        "xxe-system-dtd": Reply(
            200, RSS, _rss(_item(1, "&xxe;"), f'<!DOCTYPE rss SYSTEM "{dtd}">')
        ),
        "xxe-file-dtd": Reply(
            200, RSS, _rss(_item(1), '<!DOCTYPE rss PUBLIC "-//x//y" "file:///etc/passwd">')
        ),
        "deep-nesting": Reply(200, RSS, _rss(_item(1, extra="<d>" * 100_000 + "</d>" * 100_000))),
        "five-mb-title": Reply(200, RSS, _rss(_item(1, "T" * 5_000_000))),
        "five-mb-link": Reply(
            200,
            RSS,
            _rss(f"<item><title>x</title><link>https://a.test/{'l' * 5_000_000}</link></item>"),
        ),
        "many-categories": Reply(
            200,
            RSS,
            _rss(_item(1, extra="".join(f"<category>c{i}</category>" for i in range(100_000)))),
        ),
        "mixed-encoding": Reply(
            200,
            {"Content-Type": "application/rss+xml; charset=utf-8"},
            _rss(_item(1, "x")).replace(b"<title>x</title>", b"<title>" + mixed + b"</title>"),
        ),
        "100k-entries": Reply(
            200,
            RSS,
            _rss("".join(f"<item><link>https://a.test/{i}</link></item>" for i in range(100_000))),
        ),
        "endless-chunked": Reply(200, RSS, _endless()),
        "slow-loris": Reply(200, RSS, _one_byte_a_second(), chunk_delay=1.0),
        "redirect-forever": Reply(302, {"Location": server.url("/redirect-forever/1")}, b""),
        "unfinished-markup": Reply(
            200,
            {"Content-Type": "application/feed+json"},
            (
                '{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": '
                '[{"id": "1", "url": "https://a.test/j", "content_html": "'
                + "<a x='" * 40_000
                + '"}]}'
            ).encode(),
        ),
    }


def _settings(server: FeedServer, names: list[str]) -> Settings:
    base = load_settings(None, {})
    return Settings(
        telegram=base.telegram,
        database_url=base.database_url,
        fetch=FetchSettings(
            allow_private_networks=True, max_entries=MAX_ENTRIES, parse_timeout_seconds=20.0
        ),
        topics=(Topic("world", "World"),),
        feeds=tuple(
            FeedConfig(url=server.url(f"/{name}"), name=name, topics=("world",)) for name in names
        ),
    )


async def test_a_round_of_hostile_feeds_ends_in_errors_or_bounded_work(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    hostile = _hostile(server)
    for name, reply in hostile.items():
        server.route(f"/{name}", reply)
    for hop in range(1, 50):
        server.route(
            f"/redirect-forever/{hop}",
            Reply(302, {"Location": server.url(f"/redirect-forever/{hop + 1}")}, b""),
        )
    server.route(
        "/evil.dtd", Reply(200, {"Content-Type": "application/xml-dtd"}, b'<!ENTITY xxe "pwned">')
    )
    server.route("/good", Reply(200, RSS, _rss(_item(7, "A good story"))))
    settings = _settings(server, [*hostile, "good"])
    with session_scope(sqlite_engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=NOW)

    async with Fetcher(FetchPolicy(allow_private_networks=True, timeout_seconds=15)) as fetcher:
        refresher = Refresher(
            engine=sqlite_engine, fetcher=fetcher, settings=settings, clock=lambda: NOW
        )
        reports = await asyncio.wait_for(refresher.refresh_all(), HANG_DEADLINE)

    assert len(reports) == len(hostile) + 1
    assert server.hits["/evil.dtd"] == 0
    with Session(sqlite_engine) as session:
        feeds = {f.name: f for f in session.exec(select(Feed)).all()}
        entries = session.exec(select(Entry)).all()
    per_feed = {name: [e for e in entries if e.feed_id == feed.id] for name, feed in feeds.items()}
    assert [e.title for e in per_feed["good"]] == ["A good story"]
    assert feeds["good"].last_error is None
    outcomes = {name: feeds[name].last_error or len(per_feed[name]) for name in hostile}
    for name, outcome in outcomes.items():
        assert outcome and (isinstance(outcome, str) or outcome <= MAX_ENTRIES), (name, outcome)
    assert "pwned" not in " ".join(e.title for e in entries)
    assert all(len(e.title) <= 300 for e in entries)
    assert "too large" in str(outcomes["endless-chunked"])
    assert outcomes["slow-loris"] == "timeout"
    assert outcomes["redirect-forever"] == "too many redirects"
