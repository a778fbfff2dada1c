"""Source lines name outlets: the feed's name, else its title, else its host; never a URL.

Feeds here are configured without `name`, as many are: the story is stored on the
first refresh, before the feed's title is known, and must still show the title.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.services.story_views import story_views
from bot.settings import FeedConfig
from bot.storage import stories as story_store
from bot.storage.db import session_scope
from tests.support.botharness import make_settings, refresh_once
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply
from tests.support.samples import FEED_A, FEED_B, RSS, rss

UNTITLED = rss("", [("u-1", "Tram line approved after long debate", "https://u.example/t", "")])


async def test_outlets_are_named_by_title_or_host_and_also_lists_only_the_others(
    tg: FakeTelegram, server: FeedServer, engine: Engine
) -> None:
    server.route("/a.xml", Reply(200, RSS, FEED_A))
    server.route("/b.xml", Reply(200, RSS, FEED_B))
    server.route("/untitled.xml", Reply(200, RSS, UNTITLED))
    feeds = tuple(FeedConfig(url=server.url(p)) for p in ("/a.xml", "/b.xml", "/untitled.xml"))
    await refresh_once(engine, make_settings(tg, feeds=feeds))

    with session_scope(engine) as session:
        views = story_views(session, story_store.latest_stories(session, topics=None, limit=20))
    by_title = {v.title: v for v in views}
    qamishli = [v for v in views if "Qamishli" in v.title]
    assert len(qamishli) == 1  # the two outlets' reports are one story
    [merged] = qamishli
    assert {merged.source, *merged.other_sources} == {"Outlet A", "Outlet B"}
    assert merged.source not in merged.other_sources
    untitled = by_title["Tram line approved after long debate"]
    assert untitled.source == "127.0.0.1"
    for view in views:
        for name in (view.source, *view.other_sources):
            assert "://" not in name and "/" not in name, name


ADDRESS_TITLED = rss(
    "https://www.tramnews.example/feed/",
    [("t-1", "Night trams return to the harbour line", "https://tramnews.example/n", "")],
)
SCHEMELESS_TITLED = rss(
    "//ferry.example",
    [("f-1", "Ferry timetable changes for the winter", "https://ferry.example/t", "")],
)


async def test_a_feed_titled_with_an_address_is_named_by_that_address_host(
    tg: FakeTelegram, server: FeedServer, engine: Engine
) -> None:
    """Some feeds put their site's URL in <title>: the source line showed the URL."""
    server.route("/addr.xml", Reply(200, RSS, ADDRESS_TITLED))
    server.route("/ferry.xml", Reply(200, RSS, SCHEMELESS_TITLED))
    feeds = (FeedConfig(url=server.url("/addr.xml")), FeedConfig(url=server.url("/ferry.xml")))
    await refresh_once(engine, make_settings(tg, feeds=feeds))

    with session_scope(engine) as session:
        views = story_views(session, story_store.latest_stories(session, topics=None, limit=20))
    sources = {v.title: v.source for v in views}
    assert sources == {
        "Night trams return to the harbour line": "tramnews.example",
        "Ferry timetable changes for the winter": "ferry.example",
    }
