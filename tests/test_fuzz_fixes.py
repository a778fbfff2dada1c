"""What the fuzz found, one focused check each: odd input gets an answer, never an error."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from bot.render import commands, texts
from tests.support.botharness import make_settings, running_bot, say, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.fuzzkit import push_tap

USER, ADMIN = 41_001, 41_999


async def test_latest_with_non_ascii_digits_gets_its_usage_line(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    async with running_bot(make_settings(tg), sqlite_engine):
        for arg in ("²", "٣", "１", "9" * 5000):
            [reply] = await say(tg, USER, f"/latest {arg}")
            assert reply.html == commands.usage_line("latest"), arg


async def test_callback_data_no_handler_claims_is_answered(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    async with running_bot(make_settings(tg), sqlite_engine):
        [help_msg] = await say(tg, USER, "/help")
        ids = [
            push_tap(tg, USER, help_msg.message_id, data, user_id=USER)
            for data in ("zz:1", "", "TP:tech", "ft", "🙂" * 16)
        ]
        await wait_for(tg, lambda: all(tg.callback_answer(q) for q in ids))
    answers = {(tg.callback_answer(q) or {}).get("text") for q in ids}
    assert answers <= {texts.FULLTEXT_BUTTON_BAD, texts.FULLTEXT_BUTTON_STALE}


async def test_a_tap_too_old_to_answer_is_no_error(sqlite_engine: Engine) -> None:
    """Telegram refuses answers after 15 s (a slow or restarted bot): not the user's error."""
    with FakeTelegram(callback_deadline=0.0) as tg:
        settings = make_settings(tg, admins=(ADMIN,))
        async with running_bot(settings, sqlite_engine):
            [help_msg] = await say(tg, USER, "/help")
            for data in ("tp:nope", "ft:1", "ft:x", "tp:tech", "zz"):
                push_tap(tg, USER, help_msg.message_id, data, user_id=USER)
            await wait_for(tg, lambda: len(tg.calls("answerCallbackQuery")) >= 5)
            await asyncio.sleep(0.5)  # an error report would be sent by now
        assert texts.ERROR_GENERIC not in tg.texts(USER)
        assert not [p for p in tg.calls("sendMessage") if str(p.get("chat_id")) == str(ADMIN)]
