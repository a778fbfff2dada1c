"""A restart after a short downtime: the real ticks, the real refresh and compose, a slow feed.

The catch-up briefing is composed after the first refresh of the new process, so it carries
the news of the downtime, not only the stories stored before it.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

from sqlalchemy.engine import Engine

from bot.ops.health import Heartbeats
from bot.services.context import sync_feeds
from bot.settings import FeedConfig
from bot.storage.models import utcnow
from handlers.jobs import FIRST_REFRESH_WAIT, REFRESH_EVERY, awaiting_first_refresh
from tests.support.botharness import make_settings, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply
from tests.support.samples import RSS, rss
from tests.support.seed import seed_chats, seed_headlines

SAMPLE_DATE = b"Tue, 20 Jan 2026 10:00:00 GMT"  # every item of tests.support.samples.rss

USER = 5151


async def test_catch_up_after_a_restart_waits_for_the_first_refresh(
    tg: FakeTelegram, server: FeedServer, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    body = rss("Local News", [("d-1", "Fetched after the restart", "https://n.example/1", "")])
    # dated today: a story published days ago is no news (grouping.MAX_STORY_AGE)
    body = body.replace(SAMPLE_DATE, format_datetime(utcnow(), usegmt=True).encode())
    # The outlet answers slowly: the first refresh ends seconds after the first compose tick.
    server.route("/feed.xml", lambda _request: Reply(200, RSS, iter([body[:40], body[40:]]), 1.5))
    settings = make_settings(tg, feeds=(FeedConfig(server.url("/feed.xml"), "Local", ("world",)),))
    now = utcnow()
    tg.add_private_chat(USER)
    # The bot was down when this chat's briefing fell due, ten minutes ago.
    seed_chats(engine, [USER], now=now, due=now - timedelta(minutes=10), zone="Europe/Berlin")
    seed_headlines(engine, ["Stored before the outage"], now=now - timedelta(minutes=20))
    sync_feeds(settings, engine)  # as `python -m bot run` does before it starts
    async with running_bot(settings, engine, role="all"):
        [briefing] = await wait_for(tg, USER, 1, timeout=60)
    assert "Your briefing" in briefing.text
    assert "Stored before the outage" in briefing.text
    assert "Fetched after the restart" in briefing.text
    assert len(tg.messages(USER)) == 1


def test_the_hold_ends_with_the_first_refresh_or_after_five_minutes() -> None:
    at = [100.0]
    beats = Heartbeats(clock=lambda: at[0], started=100.0)
    assert not awaiting_first_refresh(beats)  # a process that runs no refresh holds nothing
    beats.expect("refresh", REFRESH_EVERY)
    assert awaiting_first_refresh(beats)
    at[0] += FIRST_REFRESH_WAIT  # a refresh that never completes holds no longer than this
    assert not awaiting_first_refresh(beats)
    at[0] = 101.0
    beats.beat("refresh")
    assert not awaiting_first_refresh(beats)
