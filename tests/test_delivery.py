"""The outbox sender against the strict fake Bot API: pace, errors by kind, exactly once."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot

from bot.briefings.compose import compose_scheduled
from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.settings import BriefingSettings, Settings, Topic
from bot.storage import outbox
from bot.storage.db import make_engine, open_database, session_scope
from bot.storage.models import Chat, ChatFilter, Outbox, Subscription, utcnow
from tests.support.fake_telegram import FakeTelegram, Fault
from tests.support.outboxkit import drain, open_bot, statuses
from tests.support.seed import seed_chats, seed_stories

SETTINGS = Settings(
    topics=(Topic("world", "World"),),
    briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=3),
)


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with open_bot(tg, pool_size=128) as b:
        yield b


_made: list[Sender] = []  # closed after each test (their aiohttp sessions)


@pytest.fixture(autouse=True)
async def _close_senders() -> AsyncIterator[None]:
    yield
    while _made:
        await _made.pop().aclose()


def make_sender(engine: Engine, bot: Bot, *, per_second: float = 30.0) -> Sender:
    # Short back-off keeps retries quick here; retry_delay itself is unit-tested.
    sender = Sender(
        engine=engine, bot=bot, pacer=Pacer(per_second=per_second), backoff=lambda n: 0.2
    )
    _made.append(sender)
    return sender


def enqueue_briefings(engine: Engine, tg: FakeTelegram, ids: list[int]) -> None:
    now = utcnow()
    for chat_id in ids:
        if chat_id > 0:
            tg.add_private_chat(chat_id)
        else:
            tg.add_group(chat_id)
    seed_stories(engine, now=now, count=3)
    seed_chats(engine, ids, now=now, due=now - timedelta(minutes=1))
    compose_scheduled(engine, SETTINGS, now=now, limit=100_000)


async def test_three_hundred_briefings_without_a_single_429(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    ids = list(range(10_000, 10_300))
    enqueue_briefings(engine, tg, ids)
    stats = await drain(make_sender(engine, bot))
    assert stats.sent == 300
    assert tg.stats.rejected_429 == 0
    assert all(len(tg.messages(i)) == 1 for i in ids)
    assert statuses(engine) == {"sent": 300}


async def test_injected_429s_and_5xx_still_deliver_each_exactly_once(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    ids = list(range(20_000, 20_120))
    enqueue_briefings(engine, tg, ids)
    rng = random.Random(7)

    def faults(method: str, params: dict) -> Fault | None:
        if method.lower() != "sendmessage":
            return None
        roll = rng.random()
        if roll < 0.05:
            return Fault(429, None, 1)
        if roll < 0.15:
            return Fault(rng.choice([500, 502]), None, None)
        return None

    tg.set_fault_hook(faults)
    stats = await drain(make_sender(engine, bot, per_second=200))
    assert tg.stats.injected_faults > 5
    assert stats.retried >= tg.stats.injected_faults - 1
    assert all(len(tg.messages(i)) == 1 for i in ids), "a chat got zero or two briefings"
    assert statuses(engine) == {"sent": 120}


async def test_blocked_and_deactivated_chats_become_inactive_rows_cancelled(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    ids = [30_001, 30_002, 30_003]
    enqueue_briefings(engine, tg, ids)
    tg.block(30_001)
    tg.deactivate(30_002)
    stats = await drain(make_sender(engine, bot))
    assert (stats.sent, stats.blocked) == (1, 2)
    with Session(engine) as session:
        active = {c.id: c.active for c in session.exec(select(Chat)).all()}
    assert active == {30_001: False, 30_002: False, 30_003: True}
    assert statuses(engine) == {"sent": 1, "cancelled": 2}


async def test_unknown_chat_is_unreachable(engine: Engine, tg: FakeTelegram, bot: Bot) -> None:
    now = utcnow()
    seed_stories(engine, now=now, count=1)
    seed_chats(engine, [31_000], now=now, due=now - timedelta(minutes=1))  # not on the server
    compose_scheduled(engine, SETTINGS, now=now)
    stats = await drain(make_sender(engine, bot))
    assert stats.blocked == 1 and statuses(engine) == {"cancelled": 1}


async def test_group_migrated_to_supergroup_is_followed(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    enqueue_briefings(engine, tg, [-4000])
    tg.migrate(-4000, -1_000_000_004_000, notify=False)
    stats = await drain(make_sender(engine, bot))
    assert stats.sent == 1
    assert len(tg.messages(-1_000_000_004_000)) == 1
    with Session(engine) as session:
        new = session.get(Chat, -1_000_000_004_000)
        assert new is not None and new.active


async def test_a_supergroup_with_a_chat_of_its_own_gains_the_groups_and_the_group_stops(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    # A command in the supergroup came before Telegram's notice: both chats exist.
    old, new = -4100, -1_000_000_004_100
    enqueue_briefings(engine, tg, [old])
    now = utcnow()
    seed_chats(engine, [new], now=now, due=None, topics=("tech",))
    with session_scope(engine) as session:
        session.add(ChatFilter(chat_id=old, kind="mute", phrase="football", created_at=now))
        session.add(ChatFilter(chat_id=new, kind="mute", phrase="football", created_at=now))
        session.add(ChatFilter(chat_id=old, kind="follow", phrase="chess", created_at=now))
    tg.migrate(old, new, notify=False)
    stats = await drain(make_sender(engine, bot))
    assert stats.sent == 1 and len(tg.messages(new)) == 1
    with Session(engine) as session:
        group, supergroup = session.get(Chat, old), session.get(Chat, new)
        subs = set(session.exec(select(Subscription.chat_id, Subscription.topic)).all())
        filters = set(session.exec(select(ChatFilter.chat_id, ChatFilter.kind)).all())
    assert group is not None and not group.active  # nothing is composed for it any more
    assert supergroup is not None and supergroup.active
    assert subs == {(new, "world"), (new, "tech")}
    assert filters == {(new, "mute"), (new, "follow")}
    # The next day's round composes one briefing, for the supergroup only.
    later = now + timedelta(days=1)
    with session_scope(engine) as session:
        for chat_id in (old, new):
            chat = session.get(Chat, chat_id)
            assert chat is not None
            chat.next_briefing_at = later - timedelta(minutes=1)
            session.add(chat)
    seed_stories(engine, now=later, count=1)
    compose_scheduled(engine, SETTINGS, now=later, limit=100_000)
    with Session(engine) as session:
        queued = session.exec(select(Outbox.chat_id).where(col(Outbox.status) == "pending")).all()
    assert queued and set(queued) == {new}


async def test_rejected_html_fails_loudly_once_and_others_go_on(
    engine: Engine, tg: FakeTelegram, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    tg.add_private_chat(40_001)
    tg.add_private_chat(40_002)
    now = utcnow()
    seed_chats(engine, [40_001, 40_002], now=now, due=None)
    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            [
                outbox.NewMessage(40_001, "reply", "bad", "<p>raw feed html</p>"),
                outbox.NewMessage(40_001, "reply", "good1", "fine"),
                outbox.NewMessage(40_002, "reply", "good2", "x" * 5000),
            ],
            now=now,
        )
    stats = await drain(make_sender(engine, bot))
    assert stats.failed == 2 and stats.sent == 1
    assert tg.stats.by_method["sendMessage"] == 3  # never retried
    assert "can't parse entities" in caplog.text.lower() and "<p>raw feed html</p>" in caplog.text
    with Session(engine) as session:
        errors = session.exec(select(Outbox.error).where(col(Outbox.status) == "failed")).all()
    assert any("message is too long" in (e or "").lower() for e in errors)


async def test_429_holds_everyone_then_retries_the_same_row(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    enqueue_briefings(engine, tg, [50_001, 50_002])
    tg.fail_next("sendMessage", 1, status=429, retry_after=2)
    sender = make_sender(engine, bot)
    began = datetime.now(UTC)
    stats = await drain(sender)
    assert stats.sent == 2 and stats.retried == 1
    assert sender.pacer.hold_until > 0
    assert (datetime.now(UTC) - began).total_seconds() >= 1.5  # nobody sent during the hold
    assert all(len(tg.messages(i)) == 1 for i in (50_001, 50_002))


async def test_parts_of_one_briefing_arrive_in_order(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    tg.add_private_chat(60_001)
    now = utcnow()
    seed_chats(engine, [60_001], now=now, due=None)
    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            [outbox.NewMessage(60_001, "briefing", f"part{i}", f"part {i}") for i in range(6)],
            now=now,
        )
    tg.fail_next("sendMessage", 1, status=502)
    await drain(make_sender(engine, bot))
    assert tg.texts(60_001) == [f"part {i}" for i in range(6)]


def test_retry_delay_grows_and_is_capped() -> None:
    from bot.delivery.pacing import retry_delay

    assert [retry_delay(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert retry_delay(30) == 300.0


async def test_flood_hold_survives_a_restart(engine: Engine, tg: FakeTelegram, bot: Bot) -> None:
    enqueue_briefings(engine, tg, [90_001])
    tg.fail_next("sendMessage", 1, status=429, retry_after=4)
    await make_sender(engine, bot).deliver_due(budget_seconds=5)  # meets the 429, then "dies"
    with Session(engine) as session:
        held = outbox.hold_until(session)
    assert held is not None and held > utcnow()
    # New briefings are due now, but a new process (fresh pacer) must wait for the hold.
    now = utcnow()
    for chat_id in (90_002, 90_003):
        tg.add_private_chat(chat_id)
    seed_chats(engine, [90_002, 90_003], now=now, due=now - timedelta(minutes=1))
    compose_scheduled(engine, SETTINGS, now=now)
    calls_before = tg.stats.by_method["sendMessage"]
    restarted = make_sender(engine, bot)
    await restarted.deliver_due(budget_seconds=0.5)
    first_send_after = utcnow()
    assert tg.stats.by_method["sendMessage"] > calls_before
    assert first_send_after >= held  # nothing went out before the hold ended
    await drain(restarted)
    assert all(len(tg.messages(i)) == 1 for i in (90_001, 90_002, 90_003))


async def test_paid_broadcast_flag_is_passed_when_enabled(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    enqueue_briefings(engine, tg, [91_001])
    sender = make_sender(engine, bot)
    sender.allow_paid_broadcast = True
    await drain(sender)
    [call] = tg.calls("sendMessage")
    assert call.get("allow_paid_broadcast") is True


async def test_send_options_reach_telegram_photo_quiet_preview_thread_and_paid(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    """The lean client sends each row as its options say (JSON from bot/briefings/layout)."""
    forum = -1009876543210
    tg.add_forum(forum, "Desk")
    thread = tg.add_topic(forum, "Tech")
    photo = "https://img.example/lead.jpg"
    preview = '{"preview": {"url": "https://news.example/a", "prefer_small_media": true}}'
    rows = [
        ("photo", json.dumps({"photo": photo, "quiet": True}), "<b>Brief</b> one"),
        ("preview", preview, "<b>Brief</b> two"),
        ("refused", '{"photo": "https://img.example/gone.jpg"}', "<b>Brief</b> three"),
    ]
    tg.unreachable_photos.add("https://img.example/gone.jpg")
    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            [
                outbox.NewMessage(forum, "briefing", key, text, thread_id=thread, options=raw)
                for key, raw, text in rows
            ],
            now=utcnow(),
        )
    sender = make_sender(engine, bot)
    sender.allow_paid_broadcast = True
    stats = await drain(sender)
    await sender.aclose()
    assert stats.sent == 3 and statuses(engine) == {"sent": 3}
    photos, texts = tg.calls("sendPhoto"), tg.calls("sendMessage")
    assert [p["photo"] for p in photos] == [photo, "https://img.example/gone.jpg"]
    first = photos[0]
    assert first["caption"] == "<b>Brief</b> one" and first["parse_mode"] == "HTML"
    assert first["disable_notification"] in (True, "true")
    assert all(str(c["message_thread_id"]) == str(thread) for c in photos + texts)
    assert all(c["allow_paid_broadcast"] in (True, "true") for c in photos + texts)
    # The refused photo's briefing still goes out as text, without a notification flag.
    shown, fallback = texts
    assert shown["link_preview_options"] == {
        "url": "https://news.example/a",
        "prefer_small_media": True,
    }
    assert fallback["text"] == "<b>Brief</b> three" and "disable_notification" not in fallback
    assert fallback["link_preview_options"] == {"is_disabled": True}
    assert [m.kind for m in tg.topic_messages(forum, thread)] == ["photo", "text", "text"]


async def test_a_database_that_takes_no_writes_is_one_log_line_and_a_write_failure(
    tmp_path: Path, tg: FakeTelegram, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """The heartbeat is the sender's write probe; its failure feeds /readyz and the log."""
    path = tmp_path / "ro.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    read_only = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    sender = make_sender(read_only, bot)
    with caplog.at_level(logging.WARNING, logger="bot.delivery.sender"):
        await sender.deliver_due(budget_seconds=1)
    await sender.aclose()
    read_only.dispose()
    assert sender.write_failure is not None and "readonly" in sender.write_failure
    [record] = [r for r in caplog.records if "heartbeat failed" in r.getMessage()]
    assert "\n" not in record.getMessage(), record.getMessage()
