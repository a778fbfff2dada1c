"""Forum topics beyond their briefings: a paused topic's way back, its own settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.storage import chats as chat_store
from bot.storage.models import Chat, Subscription
from tests.support.botharness import wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.seed import seed_headlines
from tests.test_forum import ADMIN, MEMBER, bot, deliver_at, say_in, subscribers

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


async def test_a_closed_general_topic_pauses_the_forum_alone_not_its_topics(
    tg: FakeTelegram, bot, caplog: pytest.LogCaptureFixture
) -> None:
    """Admins may close General: Telegram answers TOPIC_CLOSED to a send without a thread.
    The forum's own subscriber pauses with that reason (not reported as our bug, not
    retried each briefing); its topics go on; /start in General resumes it."""
    settings, engine, services = bot
    desk = tg.add_topic(FORUM, "Desk")
    await say_in(tg, None, "/subscribe world")
    await say_in(tg, desk, "/subscribe tech")
    tg.close_general(FORUM)
    subs = subscribers(engine)
    at = max(s.next_briefing_at for s in subs.values()) + timedelta(minutes=1)
    seed_headlines(engine, ["Summit opens in Geneva"], now=at, topic="world")
    seed_headlines(engine, ["Chip exports grow"], now=at, topic="tech")
    assert await deliver_at(services, engine, settings, at) == 2
    subs = subscribers(engine)
    assert subs[desk].active and not subs[None].active
    assert (subs[None].inactive_reason or "").lower() == "topic_closed"
    assert [m.thread_id for m in tg.messages(FORUM) if "Your briefing" in m.text] == [desk]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    tg.reopen_general(FORUM)
    resumed = await say_in(tg, None, "/start")
    assert resumed.text.startswith("▶️ Deliveries resumed") and subscribers(engine)[None].active


async def test_a_closed_topic_resumes_by_itself_when_it_is_reopened(tg: FakeTelegram, bot) -> None:
    """Telegram posts "topic reopened" in the topic: the subscriber paused because it was
    closed resumes without anyone's /start; one stopped with /stop stays stopped."""
    settings, engine, services = bot
    desk, quiet = tg.add_topic(FORUM, "Desk"), tg.add_topic(FORUM, "Quiet desk")
    await say_in(tg, desk, "/subscribe tech")
    await say_in(tg, quiet, "/subscribe tech")
    await say_in(tg, quiet, "/stop")
    tg.close_topic(FORUM, desk)
    at = subscribers(engine)[desk].next_briefing_at + timedelta(minutes=1)
    seed_headlines(engine, ["Chip exports grow"], now=at, topic="tech")
    await deliver_at(services, engine, settings, at)
    assert not subscribers(engine)[desk].active
    before = len(tg.messages(FORUM))
    tg.reopen_topic(FORUM, desk, notify=True)
    tg.reopen_topic(FORUM, quiet, notify=True)  # never closed: the notice changes nothing
    await wait_for(tg, lambda: subscribers(engine)[desk].active)
    topic = subscribers(engine)[desk]
    assert topic.inactive_reason is None and subscribers(engine)[quiet].stopped
    assert len(tg.messages(FORUM)) == before  # the notice is not answered
    at = topic.next_briefing_at + timedelta(minutes=1)
    seed_headlines(engine, ["Chip prices fall"], now=at, topic="tech")
    await deliver_at(services, engine, settings, at)
    assert len([m for m in tg.topic_messages(FORUM, desk) if "Chip prices fall" in m.text]) == 1
    assert not [m for m in tg.topic_messages(FORUM, quiet) if "Your briefing" in m.text]


async def test_removed_then_added_again_the_forum_and_its_topics_resume_with_their_settings(
    tg: FakeTelegram, bot
) -> None:
    """Kicked: the forum and every topic pause. Added again: they resume with their topics
    and /settings kept; a topic paused for a reason of its own (closed) stays paused."""
    _settings, engine, _services = bot
    desk, closed = tg.add_topic(FORUM, "Desk"), tg.add_topic(FORUM, "Closed desk")
    await say_in(tg, None, "/subscribe world")
    board = await say_in(tg, desk, "/settings")
    tg.press_button(FORUM, board.message_id, "st:q:1")
    await wait_for(tg, lambda: desk in subscribers(engine) and subscribers(engine)[desk].quiet)
    await say_in(tg, closed, "/subscribe tech")
    with Session(engine) as session:
        paused = session.get(Chat, subscribers(engine)[closed].id)
        assert paused is not None
        paused.active, paused.inactive_reason = False, "Topic_closed"
        session.add(paused)
        session.commit()
    tg.member_update(FORUM, "kicked", from_user=ADMIN)
    await wait_for(tg, lambda: not any(s.active for s in subscribers(engine).values()))
    tg.member_update(FORUM, "member", from_user=ADMIN)
    await wait_for(tg, lambda: subscribers(engine)[None].active)
    subs = subscribers(engine)
    assert subs[desk].active and subs[desk].quiet and not subs[closed].active
    assert subs[closed].inactive_reason == "Topic_closed"
    with Session(engine) as session:
        rows = session.exec(select(Subscription.chat_id, Subscription.topic)).all()
    assert sorted(topic for _, topic in rows) == ["tech", "world"]


async def test_a_members_commands_in_a_topic_do_not_start_briefings_there(
    tg: FakeTelegram, bot
) -> None:
    """Only admins change a topic: a member's /latest, /topics, /start, /filters or
    /schedule there is answered, but does not make the topic a subscriber (which would
    get a briefing of all topics every day); an admin's /topics does (README)."""
    settings, engine, services = bot
    chatter, desk = tg.add_topic(FORUM, "Chatter"), tg.add_topic(FORUM, "Desk")
    for command, answer in (
        ("/latest", "No stories yet"),
        ("/topics", "Tap a topic"),
        ("/start", "Welcome"),
        ("/filters", "mute"),
        ("/schedule", "08:00"),
    ):
        reply = await say_in(tg, chatter, command, user=MEMBER)
        assert reply.thread_id == chatter and answer in reply.text, (command, reply.text)
    assert chatter not in subscribers(engine)
    await say_in(tg, desk, "/topics")
    subs = subscribers(engine)
    assert desk in subs and chatter not in subs
    at = subs[desk].next_briefing_at + timedelta(minutes=1)
    seed_headlines(engine, ["Summit opens in Geneva"], now=at)
    assert await deliver_at(services, engine, settings, at) == 1
    assert not [m for m in tg.topic_messages(FORUM, chatter) if "Summit" in m.text]


def test_an_instant_topic_reopened_gets_the_news_from_then_on(engine: Engine) -> None:
    """Like a chat resumed after /stop: the stories of the days it was closed are not sent
    at a batch a minute once it reopens."""
    closed_at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    reopened_at = closed_at + timedelta(hours=20)
    key = chat_store.topic_subscriber_id(FORUM, 7)
    with Session(engine) as session:
        session.add(Chat(id=FORUM, type="supergroup", created_at=closed_at, updated_at=closed_at))
        session.add(
            Chat(
                id=key,
                type="supergroup",
                parent_id=FORUM,
                thread_id=7,
                mode="instant",
                instant_since=closed_at - timedelta(days=3),
                active=False,
                inactive_reason=chat_store.TOPIC_CLOSED,
                created_at=closed_at,
                updated_at=closed_at,
            )
        )
        session.commit()
        resumed = chat_store.resume_topic(
            session, FORUM, 7, reason=chat_store.TOPIC_CLOSED, now=reopened_at
        )
        session.commit()
        topic = session.get(Chat, key)
    assert resumed and topic is not None and topic.active
    assert topic.instant_since == reopened_at
