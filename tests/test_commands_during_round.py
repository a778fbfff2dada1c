"""Subscribers send commands while their due briefings are being composed and sent.

Each of 60 chats is due when the bot starts. As soon as the first briefing arrives (the
round is composed and its sending has begun), every user changes the very chat row the
round updates (/schedule, /timezone) and its subscriptions and filters (/subscribe,
/mute). Every command must be answered and applied, every briefing sent once, on SQLite
and on PostgreSQL. (A command sent before the round is composed may legitimately move the
chat's next briefing past now: that briefing is then not due.)
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.storage.models import Chat, ChatFilter, Outbox, Subscription, utcnow
from tests.support.botharness import make_settings, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.seed import seed_chats, seed_stories

USERS = range(720_001, 720_061)
SCRIPT = ("/schedule 07:30 19:00", "/subscribe tech", "/timezone Asia/Tokyo", "/mute football")
BRIEFING_MARK = "World story number"


async def test_commands_sent_while_their_briefings_go_out_are_all_applied(
    tg: FakeTelegram, engine: Engine
) -> None:
    now = utcnow()
    seed_stories(engine, now=now, count=5, topic="world")
    seed_chats(engine, USERS, now=now, due=now - timedelta(minutes=1))
    for user in USERS:
        tg.add_private_chat(user)
    settings = make_settings(tg)
    async with running_bot(settings, engine, role="all"):
        await wait_for(tg, lambda: any(BRIEFING_MARK in t for u in USERS for t in tg.texts(u)))
        for user in USERS:
            for text in SCRIPT:
                tg.send_text(user, text)
        await wait_for(
            tg, lambda: all(len(tg.messages(u)) >= len(SCRIPT) + 1 for u in USERS), timeout=300
        )

    for user in USERS:
        texts = tg.texts(user)
        briefings = [t for t in texts if BRIEFING_MARK in t]
        assert len(briefings) == 1, (user, texts)
        replies = [t for t in texts if t not in briefings]
        assert len(replies) == len(SCRIPT), (user, replies)
        assert not any(t.startswith("Sorry") for t in replies), replies
    with Session(engine) as session:
        chats = {c.id: c for c in session.exec(select(Chat)).all()}
        subs = set(session.exec(select(Subscription.chat_id, Subscription.topic)).all())
        mutes = set(session.exec(select(ChatFilter.chat_id, ChatFilter.phrase)).all())
        unsent = session.exec(select(Outbox).where(Outbox.status != "sent")).all()
    assert unsent == []
    for user in USERS:
        chat = chats[user]
        assert (chat.briefing_times, chat.timezone) == ("07:30 19:00", "Asia/Tokyo"), user
        assert chat.next_briefing_at is not None and chat.next_briefing_at > now, user
        local = chat.next_briefing_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
        assert local.strftime("%H:%M") in ("07:30", "19:00"), (user, local)
        assert {(user, "world"), (user, "tech")} <= subs and (user, "football") in mutes
