"""Admins change the feed list while a refresh round is fetching those very feeds.

A feed removed while its fetch is in flight must stay removed when the round records
the fetch; a feed added meanwhile is added; every command is answered normally.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.storage.models import Entry, Feed
from tests.support.adminkit import ADMIN, HELPERS, admin_settings, say
from tests.support.botharness import running_bot
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply
from tests.support.samples import FEED_A, RSS, serve_outlets

HANG_DEADLINE = 60.0  # seconds; only detects a hang


async def test_feeds_removed_and_added_during_a_refresh_stay_as_the_admins_left_them(
    tg: FakeTelegram, engine: Engine, server: FeedServer
) -> None:
    settings = admin_settings(tg)
    serve_outlets(server)
    # From now on /a.xml trickles: the round below is still fetching it when it is removed.
    third = len(FEED_A) // 3
    parts = [FEED_A[:third], FEED_A[third : 2 * third], FEED_A[2 * third :]]
    async with running_bot(settings, engine) as services:
        await say(tg, ADMIN, f"/addfeed {server.url('/a.xml')} world")
        server.route("/a.xml", Reply(200, RSS, parts, chunk_delay=1.0))
        hits = server.hits["/a.xml"]
        round_ = asyncio.create_task(services.refresher.refresh_all())
        await asyncio.to_thread(
            lambda: tg.wait_for(lambda: server.hits["/a.xml"] > hits, timeout=10)
        )
        [removed] = await say(tg, ADMIN, "/removefeed 1")
        [added] = await say(tg, HELPERS[0], f"/addfeed {server.url('/b.xml')} world")
        reports = await asyncio.wait_for(round_, HANG_DEADLINE)
        [listing] = await say(tg, HELPERS[1], "/feeds")

    assert removed.text == "Feed #1 Outlet A removed; its stories stay."
    assert added.text.startswith("✅") or "added" in added.text, added.text
    assert [r.error for r in reports] == [None]
    with Session(engine) as session:
        feeds = {f.id: f for f in session.exec(select(Feed)).all()}
        stored = session.exec(select(Entry.feed_id)).all()
    assert feeds[1].enabled is False and feeds[2].enabled is True
    assert "Feeds (1)" in listing.text and "Outlet A" not in listing.text
    assert 1 in stored  # the fetch that was in flight is still recorded
    assert not any(t.startswith("Sorry") for t in tg.texts(ADMIN) + tg.texts(HELPERS[0]))
