"""Forum topics are subscribers: own topics, times and replies; a deleted topic pauses alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.briefings.compose import compose_scheduled
from bot.services.context import Services
from bot.settings import Settings
from bot.storage.models import Chat, Outbox
from tests.support.botharness import make_settings, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram, Message
from tests.support.seed import seed_headlines

FORUM = -1001234567890
ADMIN, MEMBER = 501, 502


@pytest.fixture
async def bot(
    tg: FakeTelegram, sqlite_engine: Engine
) -> AsyncIterator[tuple[Settings, Engine, Services]]:
    # SQLite only: a group receives 20 messages a minute, so these tests mostly wait on
    # Telegram's pacing; the thread columns' migration runs on both databases in
    # test_migrations, and per-thread outbox rows in test_admin_broadcast.
    tg.add_forum(FORUM, "Newsroom", admins=[ADMIN], members=[MEMBER])
    settings = make_settings(tg)
    async with running_bot(settings, sqlite_engine) as services:
        yield settings, sqlite_engine, services


async def say_in(tg: FakeTelegram, thread: int | None, text: str, *, user: int = ADMIN) -> Message:
    before = len(tg.messages(FORUM))
    tg.send_text(FORUM, text, from_user=user, thread_id=thread)
    return (await wait_for(tg, FORUM, before + 1))[before]


def subscribers(engine: Engine) -> dict[int | None, Chat]:
    with Session(engine) as session:
        return {c.thread_id: c for c in session.exec(select(Chat)).all()}


async def deliver_at(services: Services, engine: Engine, settings: Settings, at: datetime) -> int:
    """Compose what is due at `at` and send it, as the ticks would at that moment."""
    stats = await asyncio.to_thread(compose_scheduled, engine, settings, now=at)
    assert services.sender is not None
    services.sender.clock = lambda: at
    await services.sender.deliver_due(budget_seconds=10)
    return stats.briefings


async def test_two_topics_get_their_own_briefings_and_one_deleted_leaves_the_other(
    tg: FakeTelegram, bot
) -> None:
    settings, engine, services = bot
    tech, world = tg.add_topic(FORUM, "Tech desk"), tg.add_topic(FORUM, "World desk")
    for thread, topic, time in ((tech, "tech", "07:00"), (world, "world", "19:00")):
        reply = await say_in(tg, thread, f"/subscribe {topic}")
        assert reply.thread_id == thread and "Subscribed to" in reply.text  # replies in the topic
        reply = await say_in(tg, thread, f"/schedule {time}")
        assert reply.thread_id == thread and time in reply.text
    subs = subscribers(engine)
    assert set(subs) == {tech, world}  # no General subscriber was made by topic commands
    assert subs[tech].parent_id == FORUM and subs[tech].id != subs[world].id

    # Each due time comes; only that topic's briefing is composed, and it lands in its thread.
    dues = sorted((subs[t].next_briefing_at, t) for t in (tech, world))
    for due, thread in dues:
        at = due + timedelta(minutes=1)
        seed_headlines(engine, ["Chip exports grow"], now=at, topic="tech")
        seed_headlines(engine, ["Summit opens in Geneva"], now=at, topic="world")
        assert await deliver_at(services, engine, settings, at) == 1
        [briefing] = [m for m in tg.topic_messages(FORUM, thread) if "Your briefing" in m.text]
        wanted, other = ("Chip exports", "Summit") if thread == tech else ("Summit", "Chip exports")
        assert wanted in briefing.text and other not in briefing.text
    assert not any("Your briefing" in m.text for m in tg.topic_messages(FORUM, None))

    # The world topic is deleted: its next briefing fails, only it pauses; tech goes on.
    tg.delete_topic(FORUM, world)
    subs = subscribers(engine)
    for thread in sorted((tech, world), key=lambda t: subs[t].next_briefing_at):
        at = subs[thread].next_briefing_at + timedelta(minutes=1)
        seed_headlines(engine, [f"Chip prices fall {thread}"], now=at, topic="tech")
        seed_headlines(engine, [f"Talks resume in Geneva {thread}"], now=at, topic="world")
        assert await deliver_at(services, engine, settings, at) == 1  # composed, both
    briefings = [m for m in tg.topic_messages(FORUM, tech) if "Your briefing" in m.text]
    assert len(briefings) == 2 and "Chip prices fall" in briefings[-1].text
    subs = subscribers(engine)
    assert subs[tech].active and not subs[world].active
    assert (subs[world].inactive_reason or "").lower() == "message thread not found"
    with Session(engine) as session:
        failed = session.exec(select(Outbox).where(col(Outbox.thread_id) == world)).all()
    assert [r.status for r in failed if "Talks resume in Geneva" in r.text] == ["cancelled"]
    assert len([m for m in tg.topic_messages(FORUM, world) if "Your briefing" in m.text]) == 1


async def test_general_is_the_chat_and_only_admins_change_a_topic(tg: FakeTelegram, bot) -> None:
    _settings, engine, _services = bot
    desk = tg.add_topic(FORUM, "Desk")
    refused = await say_in(tg, desk, "/subscribe tech", user=MEMBER)
    assert refused.thread_id == desk and "only the group's admins" in refused.text
    general = await say_in(tg, None, "/subscribe world")
    assert general.thread_id is None and "Subscribed to" in general.text
    subs = subscribers(engine)
    assert subs[None].id == FORUM and subs[None].parent_id is None
    picker = await say_in(tg, desk, "/topics")
    assert picker.thread_id == desk
    tg.press_button(FORUM, picker.message_id, "tp:+science", from_user=ADMIN)
    await wait_for(
        tg, lambda: any(b["text"] == "✅ Science" for b in tg.messages(FORUM)[-1].buttons)
    )
    with Session(engine) as session:
        from bot.storage.models import Subscription

        rows = session.exec(select(Subscription.chat_id, Subscription.topic)).all()
    assert sorted((cid == FORUM, topic) for cid, topic in rows) == [
        (False, "science"),
        (True, "world"),
    ]


async def test_closed_topic_is_paused_with_its_reason(tg: FakeTelegram, bot) -> None:
    settings, engine, services = bot
    desk = tg.add_topic(FORUM, "Desk")
    await say_in(tg, desk, "/subscribe tech")
    await say_in(tg, None, "/subscribe tech")
    tg.close_topic(FORUM, desk)
    subs = subscribers(engine)
    at = max(s.next_briefing_at for s in subs.values()) + timedelta(minutes=1)
    seed_headlines(engine, ["Chip exports grow"], now=at, topic="tech")
    assert await deliver_at(services, engine, settings, at) == 2
    subs = subscribers(engine)
    assert subs[None].active and not subs[desk].active
    assert (subs[desk].inactive_reason or "").lower() == "topic_closed"
    assert [m.thread_id for m in tg.messages(FORUM) if "Your briefing" in m.text] == [None]


def test_broadcast_rows_go_to_each_topic_thread(engine: Engine) -> None:
    """A broadcast reaches a forum's General and each subscribed topic, in its own thread."""
    from datetime import UTC, datetime

    from bot.admin import audit, broadcast
    from bot.settings import BriefingSettings
    from bot.storage import chats as chat_store
    from bot.storage.db import session_scope

    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        for thread in (None, 7, 9):
            chat_store.ensure_chat(
                session,
                FORUM,
                chat_type="supergroup",
                title="Newsroom",
                defaults=BriefingSettings(),
                now=now,
                thread_id=thread,
            )
        actor = audit.Actor(1, "admin")
        request = broadcast.Request(html="Breaking", topic=None)
        draft = broadcast.create_draft(session, actor=actor, chat_id=1, request=request, now=now)
        assert draft.audience == 3
        assert broadcast.confirm(session, draft.id, actor=actor, now=now) == 3
    with Session(engine) as session:
        rows = session.exec(select(Outbox.chat_id, Outbox.thread_id)).all()
    assert sorted(rows, key=lambda r: r[1] or 0) == [(FORUM, None), (FORUM, 7), (FORUM, 9)]
