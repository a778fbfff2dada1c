"""Forum topics beyond their briefings: a paused topic's way back, its own settings."""

from __future__ import annotations

from datetime import timedelta

from tests.support.fake_telegram import FakeTelegram
from tests.support.seed import seed_headlines
from tests.test_forum import MEMBER, bot, deliver_at, say_in, subscribers

__all__ = ["bot"]  # the forum fixture of test_forum
FORUM = -1001234567890


async def test_a_closed_topic_reopened_resumes_at_an_admins_start(tg: FakeTelegram, bot) -> None:
    """README: "/start in the topic resumes it" (no update tells the bot a topic reopened)."""
    settings, engine, services = bot
    desk = tg.add_topic(FORUM, "Desk")
    await say_in(tg, desk, "/subscribe tech")
    tg.close_topic(FORUM, desk)
    at = subscribers(engine)[desk].next_briefing_at + timedelta(minutes=1)
    seed_headlines(engine, ["Chip exports grow"], now=at, topic="tech")
    await deliver_at(services, engine, settings, at)
    assert not subscribers(engine)[desk].active
    tg.reopen_topic(FORUM, desk)
    refused = await say_in(tg, desk, "/start", user=MEMBER)
    assert "only the group's admins" in refused.text
    assert not subscribers(engine)[desk].active
    resumed = await say_in(tg, desk, "/start")
    assert resumed.thread_id == desk and resumed.text.startswith("▶️ Deliveries resumed")
    topic = subscribers(engine)[desk]
    assert topic.active and topic.inactive_reason is None
    at = topic.next_briefing_at + timedelta(minutes=1)
    seed_headlines(engine, ["Chip prices fall"], now=at, topic="tech")
    await deliver_at(services, engine, settings, at)
    briefings = [m for m in tg.topic_messages(FORUM, desk) if "Your briefing" in m.text]
    assert "Chip prices fall" in briefings[-1].text
