"""Feed values PostgreSQL refuses, stored on SQLite and PostgreSQL.

PostgreSQL refuses a NUL in any text value, so one "\\u0000" in one item's id, link or
image failed the whole feed's batch ("internal error: DataError") and none of its
stories were stored. A JSON Feed writes NUL as "\\u0000"; an XML feed as "&#0;", which
feedparser's lenient parse keeps. It refuses a value longer than its column too: an
ETag over 512 characters (or a Last-Modified over 128) failed every refresh of its feed.

A lone UTF-16 surrogate no database takes: a JSON Feed's "\\ud83d" (an emoji a script
cut in half) failed the feed as "internal error: UnicodeEncodeError", and an XML feed's
"&#55357;&#56832;" (an emoji written as its UTF-16 halves) crashed feedparser.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import Refresher
from bot.ingest.urls import canonical_url
from bot.ingest.xmlbytes import mend_surrogate_refs
from bot.settings import FeedConfig, FetchSettings, Settings, Topic, load_settings
from bot.storage import feeds as feed_store
from bot.storage.db import session_scope
from bot.storage.models import Entry, Feed, Story
from tests.support.feedserver import FeedServer, Reply

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Json\u0000 news",
        "items": [
            {
                "id": "id\u00001",
                "url": "https://a.test/j\u0000k",
                "title": "A json\u0000 story",
                "content_text": "Its\u0000 body.",
                "image": "https://a.test/i\u0000.png",
                "authors": [{"name": "Au\u0000thor"}],
                "tags": ["t\u0000ag"],
                "date_published": "2026-01-20T10:00:00Z",
            }
        ],
    }
).encode()

RSS_FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Rss&#0; news</title>'
    b"<item><title>An rss&#0; story</title><link>https://a.test/r&#0;1</link>"
    b"<guid>g&#0;1</guid><author>x&#0;y</author><category>c&#0;d</category>"
    b"<description>Its&#0; body.</description>"
    b"<pubDate>Tue, 20 Jan 2026 10:00:00 GMT</pubDate></item></channel></rss>"
)


def _settings(server: FeedServer) -> Settings:
    base = load_settings(None, {})
    return Settings(
        telegram=base.telegram,
        database_url=base.database_url,
        fetch=FetchSettings(allow_private_networks=True),
        topics=(Topic("world", "World"),),
        feeds=tuple(
            FeedConfig(url=server.url(f"/{name}"), name=name, topics=("world",))
            for name in ("json", "rss")
        ),
    )


async def test_nul_characters_in_items_do_not_fail_the_feed(
    engine: Engine, server: FeedServer
) -> None:
    server.route("/json", Reply(200, {"Content-Type": "application/feed+json"}, JSON_FEED))
    server.route("/rss", Reply(200, {"Content-Type": "application/rss+xml"}, RSS_FEED))
    settings = _settings(server)
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=NOW)

    async with Fetcher(FetchPolicy(allow_private_networks=True)) as fetcher:
        refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings, clock=lambda: NOW)
        reports = await refresher.refresh_all()

    assert {r.name: (r.error, r.new_entries) for r in reports} == {
        "json": (None, 1),
        "rss": (None, 1),
    }
    with Session(engine) as session:
        entries = {e.title: e for e in session.exec(select(Entry)).all()}
        stories = {s.title: s for s in session.exec(select(Story)).all()}
        feeds = session.exec(select(Feed)).all()
    assert set(entries) == {"A json story", "An rss story"}
    assert (entries["A json story"].guid, entries["An rss story"].guid) == ("id1", "g1")
    assert stories["A json story"].image_url == "https://a.test/i%00.png"
    assert all(f.last_error is None for f in feeds)
    stored = [
        value
        for row in [*entries.values(), *stories.values(), *feeds]
        for value in row.model_dump().values()
        if isinstance(value, str)
    ]
    assert not [value for value in stored if "\x00" in value]


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://a.test/j\x00k", "https://a.test/j%00k"),
        ("https://a.test/a b?q=x\x01y", "https://a.test/a%20b?q=x%01y"),
        ("https://a.test/ok?x=1", "https://a.test/ok?x=1"),
        ("https://a\x00b.test/", None),
    ],
)
def test_control_characters_in_links_are_percent_encoded(url: str, canonical: str | None) -> None:
    assert canonical_url(url) == canonical


async def test_validators_longer_than_their_columns_are_not_kept(
    engine: Engine, server: FeedServer
) -> None:
    headers = {
        "Content-Type": "application/rss+xml",
        "ETag": '"' + "e" * 3000 + '"',
        "Last-Modified": "Tue, 20 Jan 2026 10:00:00 GMT" + " x" * 500,
    }
    server.route("/json", Reply(200, {"Content-Type": "application/feed+json"}, JSON_FEED))
    server.route("/rss", Reply(200, headers, RSS_FEED))
    settings = _settings(server)
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=NOW)

    async with Fetcher(FetchPolicy(allow_private_networks=True)) as fetcher:
        for hours in (0, 1):  # the second round finds the body unchanged
            refresher = Refresher(
                engine=engine,
                fetcher=fetcher,
                settings=settings,
                clock=lambda hours=hours: NOW + timedelta(hours=hours),
            )
            reports = [r for r in await refresher.refresh_all() if r.name == "rss"]
            assert [r.error for r in reports] == [None], hours

    assert reports[0].not_modified
    with Session(engine) as session:
        feed = session.exec(select(Feed).where(Feed.name == "rss")).one()
        entries = session.exec(select(Entry).where(Entry.feed_id == feed.id)).all()
    assert (feed.etag, feed.last_modified, feed.last_error) == (None, None, None)
    assert [e.title for e in entries] == ["An rss story"]


SURROGATE_JSON = (
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "J\\ud800", "items": ['
    b'{"id": "i\\udc00d", "url": "https://a.test/u\\ud800v", "title": "Cut \\ud83d",'
    b' "content_text": "bo\\udfffdy", "image": "https://a.test/i\\ud800.png",'
    b' "authors": [{"name": "a\\ud800"}], "tags": ["t\\ud800"],'
    b' "date_published": "2026-01-20T10:00:00Z"}]}'
)
SURROGATE_RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>R&#xD800;</title>'
    b"<item><title>Smile &#55357;&#56832; &#xD83D;&#xDE00; half &#55357;</title>"
    b"<link>https://a.test/r1</link><guid>g&#xDC00;1</guid>"
    b"<description>d&#xD800;</description></item></channel></rss>"
)


async def test_lone_surrogates_do_not_fail_the_feed(engine: Engine, server: FeedServer) -> None:
    server.route("/json", Reply(200, {"Content-Type": "application/feed+json"}, SURROGATE_JSON))
    server.route("/rss", Reply(200, {"Content-Type": "application/rss+xml"}, SURROGATE_RSS))
    settings = _settings(server)
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=NOW)

    async with Fetcher(FetchPolicy(allow_private_networks=True)) as fetcher:
        refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings, clock=lambda: NOW)
        reports = await refresher.refresh_all()

    assert {r.name: (r.error, r.new_entries) for r in reports} == {
        "json": (None, 1),
        "rss": (None, 1),
    }
    with Session(engine) as session:
        titles = sorted(e.title for e in session.exec(select(Entry)).all())
    assert titles == ["Cut", "Smile 😀 😀 half \ufffd"]


@pytest.mark.parametrize(
    ("body", "mended"),
    [
        (b"<t>&#55357;&#56832;</t>", b"<t>&#128512;</t>"),
        (b"<t>&#xd83d;&#XDE00;x</t>", b"<t>&#128512;x</t>"),
        (b"<t>&#55357; &#56832;</t>", b"<t>&#xFFFD; &#xFFFD;</t>"),
        (b"<t>&#56832;&#55357;</t>", b"<t>&#xFFFD;&#xFFFD;</t>"),
        (b"<t>&#65;&#55357;&#56832;&#0066;</t>", b"<t>&#65;&#128512;&#0066;</t>"),
        (b"<t>&amp;#55357; &#233;</t>", b"<t>&amp;#55357; &#233;</t>"),
        (b"<t>&#55295;&#57344;&#xD7FF;&#xE000;</t>", b"<t>&#55295;&#57344;&#xD7FF;&#xE000;</t>"),
        (b"<t>&#x000D83D;&#0056832;</t>", b"<t>&#128512;</t>"),
    ],
)
def test_surrogate_references_are_mended(body: bytes, mended: bytes) -> None:
    assert mend_surrogate_refs(body) == mended
