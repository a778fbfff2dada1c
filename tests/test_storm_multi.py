"""Several commands per user at once, from many users: each applied in order, each answered.

A storm with one command per user is not a storm: here each of 120 new users sends
/subscribe, /subscribe, /unsubscribe, /schedule, /schedule, /timezone and /mute in
the same instant (all queued before the bot polls), on SQLite and on PostgreSQL. The
final state must reflect every command, in the order sent where order matters.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.storage.models import Chat, ChatFilter, Subscription
from tests.support.botharness import make_settings, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram

USERS = range(710_001, 710_121)  # 120 new private chats
SORRY = "Sorry, something went wrong"
SCRIPT = (
    "/subscribe tech world",
    "/subscribe science",
    "/unsubscribe tech",
    "/schedule 06:00",
    "/schedule 07:30 19:00",
    "/timezone Asia/Tokyo",
    "/mute football",
)


async def test_many_users_each_sending_seven_commands_at_once(
    tg: FakeTelegram, engine: Engine
) -> None:
    settings = make_settings(tg)
    for user in USERS:
        tg.add_private_chat(user)
    async with running_bot(settings, engine):
        for user in USERS:
            for text in SCRIPT:
                tg.send_text(user, text)
        await wait_for(
            tg, lambda: all(len(tg.messages(u)) >= len(SCRIPT) for u in USERS), timeout=300
        )

    sorry = [u for u in USERS if any(t.startswith(SORRY) for t in tg.texts(u))]
    assert sorry == [], f"{len(sorry)} of {len(USERS)} users were told something went wrong"
    for user in USERS:
        replies = tg.texts(user)
        assert len(replies) == len(SCRIPT), (user, replies)
        assert "Subscribed to" in replies[0] and "Science" in replies[1], replies
        assert "Technology" in replies[2], replies
        assert "06:00" in replies[3] and "07:30" in replies[4], replies
        assert "Tokyo" in replies[5] and "football" in replies[6], replies
    with Session(engine) as session:
        chats = {c.id: c for c in session.exec(select(Chat)).all()}
        subs = set(session.exec(select(Subscription.chat_id, Subscription.topic)).all())
        mutes = set(session.exec(select(ChatFilter.chat_id, ChatFilter.phrase)).all())
    for user in USERS:
        chat = chats[user]
        assert {t for c, t in subs if c == user} == {"world", "science"}, user
        assert chat.briefing_times == "07:30 19:00", (user, chat.briefing_times)
        assert chat.timezone == "Asia/Tokyo", (user, chat.timezone)
        assert chat.mode == "scheduled" and chat.next_briefing_at is not None
        assert (user, "football") in mutes, user
