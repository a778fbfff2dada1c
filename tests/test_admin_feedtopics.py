"""/feedtopics through the real PTB stack: a feed and its recent stories filed under topics."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.settings import FeedConfig, Settings
from bot.storage.models import AuditEntry, Feed, Story, StoryTopic
from tests.support.adminkit import ADMIN, HELPERS, USER, admin_settings, say
from tests.support.botharness import refresh_once, running_bot
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer
from tests.support.samples import serve_outlets

QAMISHLI = "Kurdish residents in Syria's Qamishli step up patrols as government pressure grows"
CHIPS = "New semiconductor plant opens in Dresden"  # "semiconductor": a keyword of tech


def story_topics(engine: Engine) -> dict[str, list[str]]:
    with Session(engine) as session:
        stories = session.exec(select(Story)).all()
        rows = session.exec(select(StoryTopic)).all()
    return {s.title: sorted(r.topic for r in rows if r.story_id == s.id) for s in stories}


async def test_feedtopics_files_a_feed_and_its_recent_stories_under_its_topics(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], server: FeedServer
) -> None:
    settings, engine = admin_bot
    url = serve_outlets(server).url("/a.xml")
    [added] = await say(tg, ADMIN, f"/addfeed {url}")
    assert added.text.endswith(
        "Topics: none.\nWith no topics, its stories reach only chats whose keywords they"
        " mention and topics whose keywords they match; /feedtopics 1 <topic…> files it"
        " under topics."
    )
    await refresh_once(engine, settings)
    before = story_topics(engine)
    assert before[QAMISHLI] == [] and before[CHIPS] == ["tech"]
    tg.add_private_chat(USER)
    await say(tg, USER, "/subscribe world")
    [empty] = await say(tg, USER, "/latest world")
    assert QAMISHLI not in empty.text

    # The admin who tries /addfeed again with topics learns how to set them.
    [again] = await say(tg, ADMIN, f"/addfeed {url} world")
    assert again.text == (
        "That feed is already there: #1 Outlet A.\n"
        "Its topics: none. /feedtopics 1 world files it under world."
    )
    [filed] = await say(tg, ADMIN, "/feedtopics 1 World tech")
    assert filed.text == (
        "🏷 Feed #1 Outlet A files its stories under: world, tech (before: none)."
        " 3 stories of the last 24 hours refiled."
    )
    assert set(map(tuple, story_topics(engine).values())) == {("tech", "world")}
    [listing] = await say(tg, USER, "/latest world")
    assert QAMISHLI in listing.text and CHIPS in listing.text
    [shown] = await say(tg, HELPERS[0], "/feedtopics #1")
    assert shown.text == (
        "Feed #1 Outlet A files its stories under: world, tech.\n"
        "/feedtopics 1 <topic…> changes that; /feedtopics 1 none leaves only keywords."
    )

    # None again: the stories keep only what their own words give them.
    [cleared] = await say(tg, ADMIN, "/feedtopics 1 none")
    assert cleared.text.startswith(
        "🏷 Feed #1 Outlet A files its stories under: none (before: world, tech)."
        " 3 stories of the last 24 hours refiled.\nWith no topics"
    )
    assert story_topics(engine) == before
    with Session(engine) as session:
        feed = session.get(Feed, 1)
        assert feed is not None and feed.topics == ""
        log = session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
    assert log == ["addfeed", "feedtopics", "feedtopics"]


async def test_feedtopics_keeps_a_topic_another_outlet_of_the_story_gives(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], server: FeedServer
) -> None:
    """Outlet B files the shared Qamishli story under world: taking world off A leaves it."""
    settings, engine = admin_bot
    serve_outlets(server)
    await say(tg, ADMIN, f"/addfeed {server.url('/a.xml')} world")
    await say(tg, HELPERS[0], f"/addfeed {server.url('/b.xml')} world")
    await refresh_once(engine, settings)
    # The merged story is headed by whichever outlet was refreshed first.
    [shared] = [title for title in story_topics(engine) if "Qamishli" in title]
    assert story_topics(engine)[shared] == ["world"]
    [changed] = await say(tg, ADMIN, "/feedtopics 1 science")
    assert changed.text.startswith("🏷 Feed #1 Outlet A files its stories under: science")
    after = story_topics(engine)
    assert after[shared] == ["science", "world"]  # B still files it under world
    assert after[CHIPS] == ["science", "tech"]


async def test_feedtopics_refusals_say_why_and_change_nothing(
    tg: FakeTelegram, engine: Engine, server: FeedServer
) -> None:
    serve_outlets(server)
    configured = FeedConfig(url=server.url("/b.xml"), name="Wire", topics=("world",))
    settings = admin_settings(tg, feeds=(configured,))
    async with running_bot(settings, engine):
        await refresh_once(engine, settings)
        await say(tg, ADMIN, f"/addfeed {server.url('/a.xml')} tech")
        await say(tg, ADMIN, "/removefeed 2")
        replies = {}
        for helper, command in zip(
            HELPERS[:4],
            ["/feedtopics", "/feedtopics 99 world", "/feedtopics 2 wrld", "/feedtopics 1 tech"],
            strict=True,
        ):
            [reply] = await say(tg, helper, command)
            replies[command] = reply.text
        [removed] = await say(tg, ADMIN, "/feedtopics 2 science")
    assert replies["/feedtopics"].startswith("Usage: /feedtopics <id> [topic…|none]")
    assert replies["/feedtopics 99 world"] == "There is no feed #99. /feeds lists them."
    assert replies["/feedtopics 2 wrld"].startswith('There is no topic "wrld".')
    assert replies["/feedtopics 1 tech"] == (
        "Feed #1 Wire is listed in the config file, so its topics are set there (now: world)."
    )
    assert removed.text == (
        f"Feed #2 Outlet A was removed; /addfeed {server.url('/a.xml')} science takes it back."
    )
    with Session(engine) as session:
        assert [f.topics for f in session.exec(select(Feed).order_by(col(Feed.id)))] == [
            "world",
            "tech",
        ]
