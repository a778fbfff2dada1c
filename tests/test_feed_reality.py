"""What subscribers receive from real-world feed behaviour, through the real path.

Feeds are served over HTTP on 127.0.0.1, fetched, parsed and stored in real SQLite by
the `Refresher`, then composed into briefings; a briefing's outbox rows are the very
texts the sender hands to Telegram. Each story once, on time, nothing old passed off as
new (../shared/LESSONS.md, "Feeds").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.admin import audit, feed_alerts
from bot.admin import feeds as admin_feeds
from bot.admin.opml import OpmlFeed, import_feeds
from bot.admin.results import FeedChange
from bot.briefings.compose import compose_instant, compose_scheduled
from bot.briefings.selection import stories_for_chat
from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import FeedReport, Refresher
from bot.services.retention import prune
from bot.settings import (
    BriefingSettings,
    FeedConfig,
    RetentionSettings,
    Settings,
    Topic,
    load_settings,
)
from bot.storage import feeds as feed_store
from bot.storage.db import session_scope
from bot.storage.models import Chat, Entry, Feed, Outbox, Story
from tests.support.feedserver import FeedServer, Reply, redirect
from tests.support.seed import seed_chats

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml"}
DAY = timedelta(days=1)

Item = tuple[str | None, str, str, datetime | None]  # guid, title, link, date


def rss(items: Sequence[Item], *, extra: str = "") -> bytes:
    """RSS 2.0 from (guid, title, link, date) tuples; None leaves the element out."""
    parts = []
    for guid, title, link, date in items:
        guid_tag = f"<guid>{guid}</guid>" if guid is not None else ""
        date_tag = f"<pubDate>{format_datetime(date, usegmt=True)}</pubDate>" if date else ""
        parts.append(f"<item>{guid_tag}<title>{title}</title><link>{link}</link>{date_tag}</item>")
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet</title>'
        f"<link>https://outlet.example/</link>{extra}{''.join(parts)}</channel></rss>"
    ).encode()


def settings_for(server: FeedServer, *paths: str) -> Settings:
    base = load_settings(None, {})
    return Settings(
        telegram=base.telegram,
        database_url=base.database_url,
        fetch=base.fetch.__class__(allow_private_networks=True, interval_seconds=600),
        topics=(Topic("world", "World"),),
        briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=10),
        feeds=tuple(FeedConfig(url=server.url(p), name=p[1:-4], topics=("world",)) for p in paths),
    )


async def refresh(engine: Engine, settings: Settings, now: datetime) -> list[FeedReport]:
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=now)
    async with Fetcher(FetchPolicy(allow_private_networks=True, timeout_seconds=5)) as fetcher:
        refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings, clock=lambda: now)
        return await refresher.refresh_all()


def sent_texts(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [r.text for r in session.exec(select(Outbox).order_by(col(Outbox.id))).all()]


def briefing_due(engine: Engine, chat_id: int, *, at: datetime, last: datetime) -> None:
    with session_scope(engine) as session:
        chat = session.get(Chat, chat_id)
        assert chat is not None
        chat.next_briefing_at, chat.last_briefing_at = at, last
        session.add(chat)


async def test_a_new_feed_with_an_archive_sends_only_its_recent_stories(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    archive: list[Item] = [
        (f"old-{i}", f"Archived report {i} on harbour works", f"https://outlet.example/{i}", None)
        for i in range(300)
    ]
    archive = [(g, t, link, NOW - (3 + i) * DAY) for i, (g, t, link, _) in enumerate(archive)]
    fresh: list[Item] = [
        ("new-1", "Storm closes the northern bridge", "https://outlet.example/n1", NOW - DAY / 4)
    ]
    server.route("/archive.xml", Reply(200, RSS, rss(fresh + archive)))
    settings = settings_for(server, "/archive.xml")
    seed_chats(sqlite_engine, [7], now=NOW, due=NOW, mode="instant")
    seed_chats(sqlite_engine, [8], now=NOW, due=NOW + timedelta(minutes=30))
    [report] = await refresh(sqlite_engine, settings, NOW)
    assert report.new_entries == 200  # fetch.max_entries: stored, and findable in /latest

    for minute in range(60):  # an hour of instant ticks, then the scheduled briefing
        compose_instant(sqlite_engine, settings, now=NOW + timedelta(minutes=minute, seconds=1))
    compose_scheduled(sqlite_engine, settings, now=NOW + timedelta(minutes=31))

    texts = sent_texts(sqlite_engine)
    assert len(texts) == 2  # one instant message, one briefing
    assert all("Storm closes the northern bridge" in text for text in texts)
    assert not any("Archived report" in text for text in texts)


async def test_an_item_back_after_retention_forgot_it_is_not_sent_again(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    story: Item = ("s-1", "Council approves the tram line", "https://outlet.example/tram", NOW)
    other: Item = ("s-2", "Lighthouse keeper retires", "https://outlet.example/keeper", NOW)
    settings = settings_for(server, "/f.xml")
    seed_chats(sqlite_engine, [8], now=NOW, due=NOW + timedelta(hours=1))
    server.route("/f.xml", Reply(200, RSS, rss([story, other])))
    await refresh(sqlite_engine, settings, NOW)
    compose_scheduled(sqlite_engine, settings, now=NOW + timedelta(hours=1))
    assert "Council approves the tram line" in sent_texts(sqlite_engine)[0]

    # The item drops out of the feed for six weeks; retention forgets it.
    for day in (1, 20, 42):
        later = NOW + day * DAY
        server.route("/f.xml", Reply(200, RSS, rss([(f"d-{day}", f"Daily note {day}", "", later)])))
        await refresh(sqlite_engine, settings, later)
    assert prune(sqlite_engine, RetentionSettings(), now=NOW + 42 * DAY).stories >= 1

    back = NOW + 43 * DAY
    server.route("/f.xml", Reply(200, RSS, rss([story])))
    [report] = await refresh(sqlite_engine, settings, back)
    assert report.new_entries == 1  # its identity was pruned: stored again ...
    briefing_due(sqlite_engine, 8, at=back + timedelta(hours=1), last=back - DAY)
    compose_scheduled(sqlite_engine, settings, now=back + timedelta(hours=1))
    texts = sent_texts(sqlite_engine)
    assert sum("Council approves the tram line" in text for text in texts) == 1  # ... not re-sent


async def test_an_item_dated_ahead_does_not_stay_above_newer_stories(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    # A local time labelled GMT puts an item hours ahead; it was published when first seen.
    ahead: Item = ("a-1", "Ferry timetable changes", "https://a.example/ferry", NOW + DAY * 0.8)
    server.route("/a.xml", Reply(200, RSS, rss([ahead])))
    server.route("/b.xml", Reply(200, RSS, rss([])))
    settings = settings_for(server, "/a.xml", "/b.xml")
    await refresh(sqlite_engine, settings, NOW)
    later = NOW + timedelta(hours=3)
    newer: Item = ("b-1", "Airport reopens after the fog", "https://b.example/fog", later)
    server.route("/b.xml", Reply(200, RSS, rss([newer])))
    await refresh(sqlite_engine, settings, later)
    with Session(sqlite_engine) as session:
        shown = stories_for_chat(session, chat_id=1, topics=None, limit=5)  # what /latest lists
    assert [s.title for s in shown] == ["Airport reopens after the fog", "Ferry timetable changes"]
    assert shown[1].published_at == NOW  # when it was first seen, not when it claims


async def test_titles_escaped_twice_by_the_outlet_read_decoded_and_escaped_once(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    titles = [
        "Caf&#233; &amp;amp; bar &amp;#8217;s &lt;3 night",  # RSS title, text: escaped twice
        "<![CDATA[Tom &amp; Jerry <i>live</i> in Oslo]]>",  # CDATA holding HTML
        "AT&amp;T &lt;blink&gt; tag day",  # escaped once: a literal <blink> survives
    ]
    items: list[Item] = [(f"t-{i}", t, f"https://t.example/{i}", NOW) for i, t in enumerate(titles)]
    server.route("/t.xml", Reply(200, RSS, rss(items)))
    settings = settings_for(server, "/t.xml")
    seed_chats(sqlite_engine, [7], now=NOW, due=NOW, mode="instant")
    await refresh(sqlite_engine, settings, NOW)
    compose_instant(sqlite_engine, settings, now=NOW + timedelta(seconds=1))
    [text] = sent_texts(sqlite_engine)
    assert "Café &amp; bar ’s &lt;3 night" in text
    assert "Tom &amp; Jerry live in Oslo" in text
    assert "AT&amp;T &lt;blink&gt; tag day" in text
    assert "&amp;amp;" not in text and "&amp;#" not in text


async def test_one_feed_under_another_spelling_is_not_added_twice(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    """Host case, http/https and a trailing slash: /addfeed and OPML find the feed stored."""
    body = rss([("x-1", "Harbour reopens", "https://outlet.example/h", NOW)])
    for path in ("/news/rss", "/news/rss/"):  # served under both, no redirect
        server.route(path, Reply(200, RSS, body))
    port = server.port
    actor = audit.Actor(1, "@admin")
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=5)
    async with Fetcher(policy) as fetcher:

        async def add(url: str) -> FeedChange:
            return await admin_feeds.add_feed(
                engine=sqlite_engine,
                fetcher=fetcher,
                actor=actor,
                url=url,
                topics=(),
                clock=lambda: NOW,
            )

        first = await add(f"http://LocalHost:{port}/news/rss")
        again = [await add(f"http://localhost:{port}/news/rss/")]
    assert first.kind == "added"
    assert [c.kind for c in again] == ["duplicate"]
    imported = [
        OpmlFeed(url=f"HTTPS://LOCALHOST:{port}/news/rss", title=None, topics=()),
        OpmlFeed(url=f"http://localhost:{port}/news/rss/#top", title=None, topics=()),
    ]
    with session_scope(sqlite_engine) as session:
        report = import_feeds(session, imported, actor=actor, now=NOW, allow_private=True)
    assert (report.added, report.present) == (0, 2)
    with Session(sqlite_engine) as session:
        assert len(session.exec(select(Feed)).all()) == 1


async def test_unruly_guids_give_each_story_once_and_lose_none(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    """GUIDs new on every fetch (dated or not), one GUID for two items, no GUIDs with a
    tracking parameter that changes: six daily refreshes, each story sent exactly once."""
    settings = settings_for(server, "/chg.xml", "/undated.xml", "/dup.xml", "/noguid.xml")
    seed_chats(sqlite_engine, [7], now=NOW, due=NOW, mode="instant")
    hour = timedelta(hours=1)
    for day in range(6):
        now = NOW + day * DAY
        bridge = "Bridge inspection finds cracks in pillars"
        market = "Mayor opens winter market in old square"
        feeds: dict[str, list[Item]] = {
            "/chg.xml": [(f"c-{day}", bridge, "https://c.example/bridge", NOW - hour)],
            "/undated.xml": [(f"u-{day}", market, "https://u.example/market", None)],
            "/dup.xml": [
                ("same", "Zoo welcomes panda cubs", "https://d.example/panda", NOW),
                ("same", "Rail strike called off after talks", "https://d.example/rail", NOW),
            ],
            "/noguid.xml": [
                (
                    None,
                    "Library extends opening hours",
                    f"https://n.example/l?utm_source={day}",
                    NOW,
                )
            ],
        }
        for path, items in feeds.items():
            server.route(path, Reply(200, RSS, rss(items)))
        reports = await refresh(sqlite_engine, settings, now)
        assert not any(r.error for r in reports)
        compose_instant(sqlite_engine, settings, now=now + timedelta(minutes=1))
    texts = sent_texts(sqlite_engine)
    for title in ("Bridge inspection", "Mayor opens", "Zoo welcomes", "Rail strike", "Library"):
        assert sum(title in text for text in texts) == 1, title
    with Session(sqlite_engine) as session:  # a new GUID for the same item is no new row
        assert len(session.exec(select(Entry.id)).all()) == 5


async def test_a_permanent_redirect_moves_the_feed_and_tells_the_admins_once(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    body = rss([("m-1", "Tunnel opens to traffic", "https://outlet.example/tunnel", NOW)])
    server.route("/new.xml", Reply(200, RSS, body))
    server.route("/old.xml", redirect("/new.xml", 301))
    server.route("/temp.xml", redirect("/new2.xml", 302))
    server.route("/new2.xml", Reply(200, RSS, body))
    server.route("/conf.xml", redirect("/new3.xml", 308))
    server.route("/new3.xml", Reply(200, RSS, body))
    with session_scope(sqlite_engine) as session:
        for path in ("/old.xml", "/temp.xml"):  # added by an admin
            session.add(Feed(url=server.url(path), origin="admin", next_check_at=NOW))
    settings = settings_for(server, "/conf.xml")  # named in the config file
    reports = {r.url: r for r in await refresh(sqlite_engine, settings, NOW)}
    assert reports[server.url("/old.xml")].moved_to == server.url("/new.xml")
    assert reports[server.url("/temp.xml")].moved_to is None  # temporary: stays
    assert reports[server.url("/conf.xml")].moved_to == server.url("/new3.xml")
    with Session(sqlite_engine) as session:
        urls = set(session.exec(select(Feed.url)).all())
    assert urls == {server.url(p) for p in ("/new.xml", "/temp.xml", "/conf.xml")}

    moves = [(r.feed_id, r.moved_to) for r in reports.values() if r.moved_to]
    with session_scope(sqlite_engine) as session:  # two moves in one refresh: one message
        assert feed_alerts.enqueue_move_alerts(session, moves, [42], now=NOW) == 1
    kept_move = [m for m in moves if m[1] == server.url("/new3.xml")]
    for again in (moves, kept_move):  # the config feed, every round: told once
        with session_scope(sqlite_engine) as session:
            assert feed_alerts.enqueue_move_alerts(session, again, [42], now=NOW) == 0
    [both] = sent_texts(sqlite_engine)
    assert both.startswith("↪️ 2 feeds moved for good")
    assert f"{server.url('/new.xml')}: read from there now." in both
    assert f"{server.url('/new3.xml')}: its old address stays" in both

    hits = server.hits["/old.xml"]
    await refresh(sqlite_engine, settings, NOW + DAY)
    assert server.hits["/old.xml"] == hits  # read from its new address now


async def test_a_gone_feed_pauses_once_tells_the_admins_once_and_is_left_alone(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    server.route("/gone.xml", Reply(410, body=b"Gone"))
    settings = settings_for(server, "/gone.xml")
    with session_scope(sqlite_engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=NOW)
    now = NOW
    paused_now: list[bool] = []
    alerts = 0
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=5)
    async with Fetcher(policy) as fetcher:
        refresher = Refresher(
            engine=sqlite_engine, fetcher=fetcher, settings=settings, clock=lambda: now
        )
        for _ in range(40):  # every round the feed is due, for days
            reports = await refresher.refresh_due()
            paused_now += [r.paused_now for r in reports]
            with session_scope(sqlite_engine) as session:
                ids = [r.feed_id for r in reports if r.paused_now]
                alerts += feed_alerts.enqueue_pause_alerts(session, ids, [42], now=now)
                feed = session.exec(select(Feed)).one()
                now = max(now, feed.next_check_at or now) + timedelta(seconds=1)
    assert paused_now == [False] * 9 + [True]  # fetch.pause_after_failures, then left alone
    assert server.hits["/gone.xml"] == 10 and alerts == 1
    assert feed.paused and feed.last_error == "HTTP 410"
    assert now - NOW < 3 * DAY  # back-off capped at fetch.max_interval_seconds


async def test_retry_after_from_the_feed_server_is_respected_and_clamped(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    soon = format_datetime(NOW + timedelta(minutes=30), usegmt=True)
    server.route("/busy.xml", Reply(429, {"Retry-After": "9999999"}))
    server.route("/later.xml", Reply(503, {"Retry-After": soon}))
    settings = settings_for(server, "/busy.xml", "/later.xml")
    await refresh(sqlite_engine, settings, NOW)
    with Session(sqlite_engine) as session:
        due = {f.url: f.next_check_at for f in session.exec(select(Feed)).all()}
    assert due[server.url("/busy.xml")] == NOW + timedelta(seconds=21600)  # max_interval
    assert due[server.url("/later.xml")] == NOW + timedelta(minutes=30)  # the date it named


async def test_an_edited_or_republished_story_is_not_sent_again(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    """Same GUID with an edited title and a new date; then a new GUID for the same link."""
    link = "https://outlet.example/storm"
    versions: list[Item] = [
        ("g-1", "Storm hits the coast, thousands without power", link, NOW),
        ("g-1", "Storm hits the coast, 40,000 without power", link, NOW + timedelta(hours=2)),
        ("g-1-v2", "Storm hits the coast: 40,000 without power", link, NOW + timedelta(hours=4)),
    ]
    settings = settings_for(server, "/s.xml")
    seed_chats(sqlite_engine, [7], now=NOW, due=NOW, mode="instant")
    for hours, item in zip((0, 2, 4), versions, strict=True):
        now = NOW + timedelta(hours=hours, minutes=1)
        server.route("/s.xml", Reply(200, RSS, rss([item])))
        await refresh(sqlite_engine, settings, now)
        compose_instant(sqlite_engine, settings, now=now + timedelta(minutes=1))
    texts = sent_texts(sqlite_engine)
    assert len(texts) == 1 and "Storm hits the coast, thousands without power" in texts[0]


async def test_a_daily_column_under_one_headline_reaches_subscribers_every_day(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    """A new GUID and link each morning under the same headline: each morning is sent."""
    settings = settings_for(server, "/d.xml")
    seed_chats(sqlite_engine, [7], now=NOW, due=NOW, mode="instant")
    for day in range(3):
        published = NOW + day * DAY
        item = (
            f"brief-{day}",
            "Morning Briefing",
            f"https://outlet.example/brief/{day}",
            published,
        )
        server.route("/d.xml", Reply(200, RSS, rss([item])))
        now = published + timedelta(minutes=1)
        await refresh(sqlite_engine, settings, now)
        compose_instant(sqlite_engine, settings, now=now + timedelta(minutes=1))
    texts = sent_texts(sqlite_engine)
    assert len(texts) == 3
    for day, text in enumerate(texts):
        assert "Morning Briefing" in text and f"https://outlet.example/brief/{day}" in text


async def test_episodes_that_all_link_to_the_show_page_each_reach_subscribers(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    """A podcast feed: a new GUID and title each week, every item's link the show's page."""
    settings = settings_for(server, "/p.xml")
    seed_chats(sqlite_engine, [7], now=NOW, due=NOW, mode="instant")
    show, items = "https://outlet.example/show", []
    titles = ["Why the tram costs twice", "Inside the flood defences", "The mayor answers"]
    for week, title in enumerate(titles):
        published = NOW + week * 7 * DAY
        items.insert(0, (f"ep-{week}", title, show, published))  # newest first
        server.route("/p.xml", Reply(200, RSS, rss(items)))
        now = published + timedelta(minutes=1)
        await refresh(sqlite_engine, settings, now)
        compose_instant(sqlite_engine, settings, now=now + timedelta(minutes=1))
    texts = sent_texts(sqlite_engine)
    assert [sum(title in text for text in texts) for title in titles] == [1, 1, 1]


async def test_one_guid_for_every_item_listed_one_at_a_time_loses_none(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    """Every item's GUID is the site's address, and the feed lists only its newest item.

    Each new item is sent; a slug changed with a reworded headline (the same GUID) is
    the same item and is not sent again.
    """
    settings = settings_for(server, "/one.xml")
    seed_chats(sqlite_engine, [7], now=NOW, due=NOW, mode="instant")
    guid = "https://outlet.example/"
    items: list[Item] = [
        (guid, "Bridge inspection finds cracks in pillars", "https://o.example/bridge", NOW),
        (guid, "Mayor opens winter market in old square", "https://o.example/market", NOW),
        (guid, "Mayor opens the winter market in the old square", "https://o.example/m2", NOW),
        (guid, "Rail strike called off after talks", "https://o.example/rail", NOW),
    ]
    for day, item in enumerate(items):
        now = NOW + day * DAY
        server.route("/one.xml", Reply(200, RSS, rss([(item[0], item[1], item[2], now)])))
        await refresh(sqlite_engine, settings, now + timedelta(minutes=1))
        compose_instant(sqlite_engine, settings, now=now + timedelta(minutes=2))
    texts = sent_texts(sqlite_engine)
    for title in ("Bridge inspection", "Mayor opens", "Rail strike"):
        assert sum(title in text for text in texts) == 1, title


LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>"
CHALLENGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(200, {"Content-Type": "text/html"}, LOGIN_PAGE), "not a feed (got text/html)"),
        (Reply(200, RSS, LOGIN_PAGE), "not a feed (got an HTML page labelled application/rss+xml)"),
        (
            Reply(200, {"Content-Type": "text/plain"}, LOGIN_PAGE),
            "not a feed (got an HTML page labelled text/plain)",
        ),
        (
            Reply(403, {"Content-Type": "text/html", "cf-mitigated": "challenge"}, CHALLENGE),
            "HTTP 403 (Cloudflare bot check)",
        ),
        (Reply(403, {"Content-Type": "text/html"}, LOGIN_PAGE), "HTTP 403"),
    ],
)
async def test_a_page_instead_of_the_feed_is_a_feed_error_that_says_so(
    sqlite_engine: Engine, server: FeedServer, reply: Reply, error: str
) -> None:
    server.route("/f.xml", reply)
    [report] = await refresh(sqlite_engine, settings_for(server, "/f.xml"), NOW)
    assert report.error == error
    with Session(sqlite_engine) as session:
        assert session.exec(select(Feed.last_error)).one() == error  # what /feeds shows


async def test_an_undated_feed_is_briefed_from_its_top_not_its_tail(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    items: list[Item] = [
        (f"u{i}", f"Undated item number {i:02d}", f"https://u.example/{i}", None) for i in range(30)
    ]
    server.route("/u.xml", Reply(200, RSS, rss(items)))  # the newest first, as feeds list them
    settings = settings_for(server, "/u.xml")
    seed_chats(sqlite_engine, [8], now=NOW, due=NOW + timedelta(minutes=30))
    await refresh(sqlite_engine, settings, NOW)
    compose_scheduled(sqlite_engine, settings, now=NOW + timedelta(minutes=31))
    [text] = sent_texts(sqlite_engine)
    assert re.findall(r"number (\d+)", text) == [f"{i:02d}" for i in range(10)]


async def test_items_dated_1970_or_2099_are_sent_once_dated_when_seen(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    items: list[Item] = [
        ("e-1", "Quarry reopens for visitors", "https://q.example/1", epoch),
        (
            "e-2",
            "Choir wins regional contest",
            "https://q.example/2",
            datetime(2099, 1, 1, tzinfo=UTC),
        ),
    ]
    server.route("/q.xml", Reply(200, RSS, rss(items)))
    settings = settings_for(server, "/q.xml")
    seed_chats(sqlite_engine, [7], now=NOW, due=NOW, mode="instant")
    for hours in range(3):
        now = NOW + timedelta(hours=hours)
        await refresh(sqlite_engine, settings, now)
        compose_instant(sqlite_engine, settings, now=now + timedelta(minutes=1))
    [text] = sent_texts(sqlite_engine)
    assert "Quarry reopens for visitors" in text and "Choir wins regional contest" in text
    with Session(sqlite_engine) as session:
        dates = set(session.exec(select(Story.published_at)).all())
    assert dates == {NOW}  # when first seen, not 1970 or 2099


ATOM_LINKS = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://site.example/blog/">
<title>Blog</title><link href="https://site.example/blog/"/><updated>2026-03-28T11:00:00Z</updated>
<entry><id>tag:site.example,2026:1</id><title>Relative link under xml:base</title>
 <link href="posts/1.html?utm_source=rss&amp;page=2"/>
 <updated>2026-03-28T11:00:00Z</updated></entry>
<entry xml:base="/archive/"><id>tag:site.example,2026:2</id><title>Entry with its own base</title>
 <link href="two"/><updated>2026-03-28T11:00:00Z</updated></entry>
<entry><id>tag:site.example,2026:3</id><title>Script link</title>
 <link href="javascript:alert(document.cookie)"/><updated>2026-03-28T11:00:00Z</updated>
 <content type="html">&lt;img src="data:image/png;base64,AAAA"&gt;</content></entry>
</feed>"""


async def test_links_reach_subscribers_absolute_clean_and_never_as_script(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    server.route("/atom.xml", Reply(200, {"Content-Type": "application/atom+xml"}, ATOM_LINKS))
    settings = settings_for(server, "/atom.xml")
    seed_chats(sqlite_engine, [7], now=NOW, due=NOW, mode="instant")
    await refresh(sqlite_engine, settings, NOW)
    compose_instant(sqlite_engine, settings, now=NOW + timedelta(seconds=1))
    [text] = sent_texts(sqlite_engine)
    assert sorted(re.findall(r'href="([^"]*)"', text)) == [
        "https://site.example/archive/two",
        "https://site.example/blog/posts/1.html?page=2",
    ]
    assert "<b>Script link</b>" in text  # shown, without a link
    assert "javascript" not in text and "data:" not in text and "utm_" not in text
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Story.link, Story.image_url)).all()
    assert all(link is None or link.startswith("https://") for link, _ in rows)
    assert all(image is None for _, image in rows)
