"""What a reader sees of a story over time: its headline, its link and its source line.

Feeds change between refreshes on a local HTTP server; the `Refresher` stores them in a
real database; briefings are composed into the outbox (the texts the sender hands to
Telegram) and /latest's views are read as the handler reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.briefings.compose import compose_scheduled
from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import FeedReport, Refresher
from bot.services.story_views import story_views
from bot.settings import BriefingSettings, FeedConfig, Settings, Topic, load_settings
from bot.storage import feeds as feed_store
from bot.storage import stories as story_store
from bot.storage.db import session_scope
from bot.storage.models import Chat, Outbox
from tests.support.feedserver import FeedServer, Reply
from tests.support.seed import seed_chats

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RSS = {"Content-Type": "application/rss+xml"}

Item = tuple[str, str, str | None, datetime]  # guid, title, link (None: no <link>), date


def rss(items: Sequence[Item], *, title: str = "Outlet") -> bytes:
    """RSS 2.0; GUIDs are not permalinks, so an item without <link> has no link at all."""
    parts = []
    for guid, headline, link, date in items:
        link_tag = f"<link>{link}</link>" if link else ""
        parts.append(
            f'<item><guid isPermaLink="false">{guid}</guid><title>{headline}</title>{link_tag}'
            f"<pubDate>{format_datetime(date, usegmt=True)}</pubDate></item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://outlet.example/</link>{''.join(parts)}</channel></rss>"
    ).encode()


def settings_for(server: FeedServer, *feeds: tuple[str, str | None]) -> Settings:
    """Settings with these (path, configured name or None) feeds, all in topic "world"."""
    base = load_settings(None, {})
    return Settings(
        telegram=base.telegram,
        database_url=base.database_url,
        fetch=base.fetch.__class__(allow_private_networks=True, interval_seconds=600),
        topics=(Topic("world", "World"),),
        briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=10),
        feeds=tuple(
            FeedConfig(url=server.url(path), name=name, topics=("world",)) for path, name in feeds
        ),
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


def latest_views(engine: Engine) -> dict[str, tuple[str | None, str, tuple[str, ...]]]:
    """/latest's stories by headline: (link, source, other outlets)."""
    with session_scope(engine) as session:
        views = story_views(session, story_store.latest_stories(session, topics=None, limit=20))
    return {v.title: (v.link, v.source, v.other_sources) for v in views}


BRIDGE = "Storm closes the northern bridge after cracks are found"
DAILY_BRIDGE = "Storm closes northern bridge after cracks found"


async def test_a_story_without_a_link_becomes_the_report_another_outlet_links(
    engine: Engine, server: FeedServer
) -> None:
    """The first outlet's item has no link; a second outlet's report of it has one.

    The story was stored linkless and stayed so: its headline linked nowhere in the
    briefing and in /latest, and 📖 answered "no link", while an article was there.
    Now the story takes that report: its link, its outlet first, its headline.
    """
    server.route("/wire.xml", Reply(200, RSS, rss([("w-1", BRIDGE, None, NOW - HOUR)])))
    server.route("/daily.xml", Reply(200, RSS, rss([])))
    settings = settings_for(server, ("/wire.xml", "Wire"), ("/daily.xml", "Daily"))
    seed_chats(engine, [8], now=NOW, due=NOW + 2 * HOUR)
    await refresh(engine, settings, NOW)
    assert latest_views(engine) == {BRIDGE: (None, "Wire", ())}

    daily = ("d-1", DAILY_BRIDGE, "https://daily.example/bridge", NOW - HOUR / 2)
    server.route("/daily.xml", Reply(200, RSS, rss([daily])))
    await refresh(engine, settings, NOW + HOUR)
    linked = {DAILY_BRIDGE: ("https://daily.example/bridge", "Daily", ("Wire",))}
    assert latest_views(engine) == linked
    compose_scheduled(engine, settings, now=NOW + 2 * HOUR)
    [text] = sent_texts(engine)
    assert f'<a href="https://daily.example/bridge">{DAILY_BRIDGE}</a>' in text
    assert "<i>Daily · " in text and "also Wire" in text

    # Another link that joins later does not replace the one the story has.
    server.route("/wire.xml", Reply(200, RSS, rss([("w-2", BRIDGE, "https://w.example/b", NOW)])))
    await refresh(engine, settings, NOW + 3 * HOUR)
    assert latest_views(engine) == linked


async def test_a_linkless_item_and_its_linked_update_in_one_fetch_make_one_linked_story(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    items: list[Item] = [
        ("w-1", BRIDGE, None, NOW - HOUR),
        ("w-2", DAILY_BRIDGE, "https://wire.example/bridge", NOW - HOUR / 2),
    ]
    server.route("/wire.xml", Reply(200, RSS, rss(items)))
    await refresh(sqlite_engine, settings_for(server, ("/wire.xml", "Wire")), NOW)
    assert latest_views(sqlite_engine) == {
        DAILY_BRIDGE: ("https://wire.example/bridge", "Wire", ())
    }


STORM = "Storm kills 40 on the coast"
CORRECTED = "Storm kills 4 on the coast"


async def test_a_headline_corrected_before_the_briefing_is_briefed_as_corrected_once(
    engine: Engine, server: FeedServer
) -> None:
    """The outlet corrects its headline (same GUID, same link) before the briefing.

    The edit was taken for the item already stored and dropped: the briefing and /latest
    kept the wrong headline ("40") for as long as the story was listed.
    """
    link = "https://wire.example/storm"
    daily_link = "https://daily.example/storm"
    server.route("/wire.xml", Reply(200, RSS, rss([("w-1", STORM, link, NOW - HOUR)])))
    server.route("/daily.xml", Reply(200, RSS, rss([("d-1", STORM, daily_link, NOW - HOUR)])))
    seed_chats(engine, [8], now=NOW, due=NOW + 3 * HOUR)
    await refresh(engine, settings_for(server, ("/wire.xml", "Wire")), NOW)
    settings = settings_for(server, ("/wire.xml", "Wire"), ("/daily.xml", "Daily"))
    await refresh(engine, settings, NOW + HOUR / 2)
    assert latest_views(engine)[STORM] == (link, "Wire", ("Daily",))

    # Both outlets correct their headlines: the story shows Wire's, its own outlet's.
    daily_fix = f"{CORRECTED}, officials say"
    server.route("/wire.xml", Reply(200, RSS, rss([("w-1", CORRECTED, link, NOW - HOUR)])))
    server.route("/daily.xml", Reply(200, RSS, rss([("d-1", daily_fix, daily_link, NOW - HOUR)])))
    reports = await refresh(engine, settings, NOW + HOUR)
    assert sum(r.new_entries for r in reports) == 0  # an edit is no new item
    assert latest_views(engine) == {CORRECTED: (link, "Wire", ("Daily",))}
    compose_scheduled(engine, settings, now=NOW + 3 * HOUR)
    [text] = sent_texts(engine)
    assert CORRECTED in text and "40" not in text

    # A later edit shows in /latest but is not briefed again.
    reworded = "Storm kills four on the coast"
    server.route("/wire.xml", Reply(200, RSS, rss([("w-1", reworded, link, NOW - HOUR)])))
    await refresh(engine, settings, NOW + 4 * HOUR)
    assert list(latest_views(engine)) == [reworded]
    briefing_due(engine, 8, at=NOW + 5 * HOUR, last=NOW + 3 * HOUR)
    compose_scheduled(engine, settings, now=NOW + 5 * HOUR)
    assert sum("on the coast" in text for text in sent_texts(engine)) == 1


POSTS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Posts</title>
<link>https://posts.example/</link>
<item><guid>p-1</guid><link>https://posts.example/1</link><description>Ferries replace the
 closed bridge. They run every hour until the repairs are done.</description></item>
<item><guid>p-2</guid><title>Harbour crane toppled by gusts</title><link>https://posts.example/2</link>
<description>Harbour crane toppled by gusts \xe2\x80\x94 nobody was hurt, the port says.
</description></item>
<item><guid>p-3</guid><title>Storm</title><link>https://posts.example/3</link>
<description>Stormy nights ahead for the coast.</description></item>
</channel></rss>"""


async def test_a_summary_never_repeats_the_headline_it_opens_with(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    """With summaries on, a post without a title (its headline is its first sentence)
    and a description that opens with the headline read the same words twice in a row."""
    server.route("/posts.xml", Reply(200, RSS, POSTS))
    settings = settings_for(server, ("/posts.xml", "Posts"))
    seed_chats(sqlite_engine, [8], now=NOW, due=NOW + HOUR)
    with session_scope(sqlite_engine) as session:
        chat = session.get(Chat, 8)
        assert chat is not None
        chat.summaries = True
        session.add(chat)
    await refresh(sqlite_engine, settings, NOW)
    compose_scheduled(sqlite_engine, settings, now=NOW + HOUR)
    [text] = sent_texts(sqlite_engine)
    assert text.count("Ferries replace the closed bridge.") == 1
    assert "</i>\nThey run every hour until the repairs are done." in text
    assert text.count("Harbour crane toppled by gusts") == 1
    assert "</i>\nnobody was hurt, the port says." in text
    assert "</i>\nStormy nights ahead for the coast." in text  # a word's beginning stays


async def test_briefs_linking_to_anchors_of_one_page_each_reach_the_reader(
    sqlite_engine: Engine, server: FeedServer
) -> None:
    """A page of news in brief: each item links to its anchor, and a canonical link has no
    fragment. An item sharing a word with another ("tram") joined that one's story by the
    link, so it was never listed nor sent."""
    page = "https://city.example/briefs"
    briefs: list[Item] = [
        ("b-1", "Council approves the tram line to the harbour", f"{page}#tram", NOW - HOUR),
        ("b-2", "Tram fares rise by ten percent next year", f"{page}#fares", NOW - HOUR),
        ("b-3", "Library opens on Sundays from April", f"{page}#library", NOW - HOUR),
    ]
    server.route("/briefs.xml", Reply(200, RSS, rss(briefs)))
    settings = settings_for(server, ("/briefs.xml", "City"))
    seed_chats(sqlite_engine, [8], now=NOW, due=NOW + HOUR)
    await refresh(sqlite_engine, settings, NOW)
    compose_scheduled(sqlite_engine, settings, now=NOW + HOUR)

    depot: Item = ("b-4", "New tram depot to open in the harbour", f"{page}#depot", NOW + HOUR)
    server.route("/briefs.xml", Reply(200, RSS, rss([depot, *briefs])))
    await refresh(sqlite_engine, settings, NOW + 2 * HOUR)
    briefing_due(sqlite_engine, 8, at=NOW + 3 * HOUR, last=NOW + HOUR)
    compose_scheduled(sqlite_engine, settings, now=NOW + 3 * HOUR)
    texts = sent_texts(sqlite_engine)
    for _, title, _, _ in briefs:
        assert title in texts[0], title
    assert len(texts) == 2 and depot[1] in texts[1]
    assert not any(title in texts[1] for _, title, _, _ in briefs)
