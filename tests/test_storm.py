"""A storm of first contacts: many new users' commands and double taps, all at once.

Each user's /start, /subscribe and /schedule race on the same not-yet-existing
chat row, and a double tap races on the same subscription row. Every command
must still be applied and answered normally, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.render import texts
from bot.storage.models import Chat, Subscription
from tests.support.botharness import make_settings, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram

USERS = range(700_001, 700_301)  # 300 new private chats
SORRY = "Sorry, something went wrong"


def _picker_world(tg: FakeTelegram, user: int) -> str:
    picker = next(m for m in tg.messages(user) if m.buttons)
    return next(b["text"] for b in picker.buttons if b["text"].endswith("World"))


async def test_storm_of_new_users_applies_and_answers_every_command(
    tg: FakeTelegram, engine: Engine
) -> None:
    settings = make_settings(tg)
    for user in USERS:
        tg.add_private_chat(user)
    async with running_bot(settings, engine):
        # Everything is queued before the bot fetches any of it: the three commands of one
        # user reach the handlers together and race on the chat row that does not exist yet.
        for user in USERS:
            tg.send_text(user, "/start")
            tg.send_text(user, "/subscribe tech")
            tg.send_text(user, "/schedule instant")
        await wait_for(tg, lambda: all(len(tg.messages(u)) >= 3 for u in USERS), timeout=300)
        sorry = [u for u in USERS if any(t.startswith(SORRY) for t in tg.texts(u))]
        assert sorry == [], f"{len(sorry)} of {len(USERS)} users were told something went wrong"
        for user in USERS:
            replies = tg.texts(user)
            assert len(replies) == 3, (user, replies)
            assert sum("Welcome to your news briefing" in t for t in replies) == 1, replies
            assert "✅ Subscribed to: Technology." in replies, replies
            assert texts.SCHEDULE_INSTANT in replies, replies

        queries: dict[int, list[str]] = {}
        for user in USERS:
            picker = next(m for m in tg.messages(user) if m.buttons)
            queries[user] = [
                tg.press_button(user, picker.message_id, "tp:+world"),
                tg.press_button(user, picker.message_id, "tp:+world"),
            ]
        every = [q for qs in queries.values() for q in qs]

        def answered() -> bool:
            return all(tg.callback_answer(q) is not None for q in every)

        with contextlib.suppress(TimeoutError):  # the assertions below say what is missing
            await wait_for(tg, answered, timeout=300)
    # The bot has stopped: its picker redraws (one per user when the second tap came while
    # the first's edit waited for its send slot) have finished.

    waits = tg.answer_latencies()  # seconds from each tap to its answer, for the messages
    took = (
        f"{len(waits)} answered, median {waits[len(waits) // 2]:.1f} s, last {waits[-1]:.1f} s"
        if waits
        else "none answered"
    )
    sorry = [u for u in USERS if any(t.startswith(SORRY) for t in tg.texts(u))]
    assert sorry == [], f"{len(sorry)} of {len(USERS)} users were told something went wrong"
    assert [len(tg.texts(u)) for u in USERS] == [3] * len(USERS)  # taps send no messages
    assert tg.stats.rejected_429 == 0

    with Session(engine) as session:
        chats = {c.id: c for c in session.exec(select(Chat)).all()}
        subs = set(session.exec(select(Subscription.chat_id, Subscription.topic)).all())
    for user in USERS:
        assert user in chats, user
        assert chats[user].mode == "instant"
        assert chats[user].next_briefing_at is not None  # instant: due now, not unscheduled
        assert (user, "tech") in subs
        # Two taps on "World" as drawn (follow): followed, once; both taps say so.
        answers = sorted(str((tg.callback_answer(q) or {}).get("text")) for q in queries[user])
        # When one is missing: did the bot answer too late (the fake refused it as too old
        # after 15 s, as Telegram does), or never? Each query's answerCallbackQuery calls.
        attempts = {
            q: [
                c.get("text")
                for c in tg.calls("answerCallbackQuery")
                if c.get("callback_query_id") == q
            ]
            for q in queries[user]
        }
        assert answers == ["✅ World", "✅ World"], (user, answers, attempts, took)
        assert (user, "world") in subs
        # The picker shows what the database holds after the last tap.
        assert _picker_world(tg, user) == "✅ World", user
