"""Per-user limits: the sliding window itself, and the layer in front of every handler."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy.engine import Engine

from bot.render import texts
from bot.services.ratelimit import SlidingWindowLimiter
from bot.settings import LimitsSettings, load_settings
from tests.support.botharness import make_settings, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.forged import push_forged_tap, tap_answers

USER, OTHER, ADMIN = 1201, 1202, 1299


def test_window_slides_per_key() -> None:
    limiter = SlidingWindowLimiter(limit=2, period=60.0)
    assert limiter.check(1, 0.0) is None
    assert limiter.check(1, 10.0) is None
    assert limiter.check(1, 20.0) == pytest.approx(40.0)  # the first event leaves at 60
    assert limiter.check(2, 20.0) is None  # another key has its own window
    assert limiter.check(1, 60.0) is None  # slid: the event at 0 has left
    assert limiter.check(1, 61.0) == pytest.approx(9.0)


def test_one_warning_per_refused_stretch() -> None:
    limiter = SlidingWindowLimiter(limit=1, period=60.0)
    limiter.check(1, 0.0)
    wait = limiter.check(1, 1.0)
    assert wait is not None
    assert limiter.first_refusal(1, 1.0, wait) is True
    assert limiter.first_refusal(1, 30.0, 30.0) is False
    assert limiter.first_refusal(1, 61.0, 60.0) is True  # a new stretch, a new warning


def test_memory_stays_bounded() -> None:
    limiter = SlidingWindowLimiter(limit=3, period=60.0, max_keys=100)
    for key in range(5_000):
        limiter.check(key, float(key) / 1000)  # all still inside their window
        limiter.first_refusal(key, float(key) / 1000, 1.0)
    assert len(limiter) <= 101
    assert len(limiter._warned_until) <= 101
    # The newest keys are the ones remembered.
    assert limiter.check(4_999, 5.0) is None


def test_limits_settings_have_the_agreed_defaults_and_refuse_bad_values(tmp_path) -> None:
    assert load_settings(None, {}).limits == LimitsSettings(20, 40, 6)
    bad = tmp_path / "bad.toml"
    bad.write_text("[limits]\ntaps_per_minute = 0\n")
    with pytest.raises(ValueError, match=r"limits\.taps_per_minute"):
        load_settings(bad, {})


# ---------------------------------------------------------------- in front of the handlers


def limited(tg: FakeTelegram, **limits: int) -> object:
    base = make_settings(tg, admins=(ADMIN,))
    return dataclasses.replace(base, limits=dataclasses.replace(base.limits, **limits))


async def settle(tg: FakeTelegram, seconds: float = 2.5) -> None:
    """Let every queued update be handled and any (wrong) extra reply arrive."""
    await wait_for(tg, lambda: not tg.pending_updates(), timeout=10)
    await asyncio.sleep(seconds)


async def test_commands_over_the_limit_get_one_slow_down_each_stretch(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    tg.add_private_chat(USER)
    tg.add_private_chat(OTHER)
    async with running_bot(limited(tg, commands_per_minute=4), sqlite_engine):  # type: ignore[arg-type]
        for _ in range(12):
            tg.send_text(USER, "/help")
        tg.send_text(OTHER, "/help")
        await wait_for(tg, USER, 5, timeout=15)
        await settle(tg)
        got = tg.texts(USER)
    assert len(got) == 5, got
    assert sum("/latest" in text for text in got) == 4  # four help texts
    assert sum(text.startswith("You're sending commands faster") for text in got) == 1
    assert len(tg.texts(OTHER)) == 1  # another user is not affected


async def test_admins_are_not_limited_for_admin_commands(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    tg.add_private_chat(ADMIN)
    async with running_bot(limited(tg, commands_per_minute=2), sqlite_engine):  # type: ignore[arg-type]
        for _ in range(5):
            tg.send_text(ADMIN, "/feeds")
        await wait_for(tg, ADMIN, 5, timeout=15)
        tg.send_text(ADMIN, "/help")
        tg.send_text(ADMIN, "/help")
        tg.send_text(ADMIN, "/help")
        await wait_for(tg, ADMIN, 8, timeout=15)
        await settle(tg, 1.5)
        got = tg.texts(ADMIN)
    # Five feed lists, then /help counts like anyone's: two answered, then one slow-down.
    assert len(got) == 8, got
    assert sum(text.startswith("No feeds yet") for text in got) == 5
    assert sum(text.startswith("You're sending commands faster") for text in got) == 1


async def test_taps_over_the_limit_are_answered_briefly_without_a_message(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    tg.add_private_chat(USER)
    async with running_bot(limited(tg, taps_per_minute=3), sqlite_engine):  # type: ignore[arg-type]
        tg.send_text(USER, "/start")
        [welcome] = await wait_for(tg, USER, 1)
        queries = []
        for _ in range(6):  # one after another, each on the picker as first drawn
            queries.append(push_forged_tap(tg, USER, welcome.message_id, "tp:+world", user_id=USER))
            await wait_for(tg, lambda: tap_answers(tg, queries[-1]), timeout=15)
        await settle(tg, 1.0)
        answers = [str(tap_answers(tg, q)[0].get("text") or "") for q in queries]
    refused = [a for a in answers if a.startswith("Too many taps")]
    assert len(refused) == 3, answers
    assert len(tg.messages(USER)) == 1  # refusals add no message
    assert all(len(a) <= 200 for a in answers)
    assert texts.TAPS_SLOW_DOWN.split("{")[0] in refused[0]


ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group"}


async def test_anonymous_admins_of_different_groups_do_not_share_one_limit(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    """Telegram shows every anonymous group admin as the same user, GroupAnonymousBot."""
    groups = [-(10**12) - i for i in range(1, 5)]
    for group in groups:
        tg.add_group(group, admins=[USER])
    async with running_bot(limited(tg, commands_per_minute=2), sqlite_engine):  # type: ignore[arg-type]
        for group in groups:
            chat = tg.chat(group).to_api()
            command = {"type": "bot_command", "offset": 0, "length": len("/schedule")}
            message = {"message_id": 1, "from": ANONYMOUS_ADMIN, "sender_chat": chat, "chat": chat}
            message |= {"date": 0, "text": "/schedule 07:00", "entities": [command]}
            tg.push_update({"message": message})
        await wait_for(tg, lambda: all(tg.messages(g) for g in groups), timeout=15)
        await settle(tg, 1.0)
    for group in groups:
        [reply] = tg.texts(group)
        assert "Briefings at 07:00" in reply


async def test_group_chatter_does_not_use_up_a_members_commands(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    """A bot that is a group's admin sees every message there; a member who chats a lot is
    not told to slow down, and their next command is answered."""
    group = -(10**12) - 77
    tg.add_group(group, admins=[USER])
    async with running_bot(limited(tg, commands_per_minute=3), sqlite_engine):  # type: ignore[arg-type]
        for n in range(10):
            tg.send_text(group, f"hello everyone, message {n}", from_user=USER)
        tg.send_document(group, "cat.jpg", b"\xff\xd8", mime_type="image/jpeg", from_user=USER)
        tg.send_text(group, "/schedule 07:00", from_user=USER)
        await wait_for(tg, group, 1, timeout=15)
        await settle(tg, 1.0)
    [reply] = tg.texts(group)
    assert "Briefings at 07:00" in reply


async def test_private_media_count_against_the_limit_and_are_answered(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    """A sticker or photo in a private chat gets a hint (a caption is not a command), and a
    stream of them is limited like commands: one slow-down, then silence."""
    tg.add_private_chat(USER)
    async with running_bot(limited(tg, commands_per_minute=3), sqlite_engine):  # type: ignore[arg-type]
        tg.send_document(USER, "a.jpg", b"\xff\xd8", mime_type="image/jpeg", caption="/latest")
        [hint] = await wait_for(tg, USER, 1, timeout=15)
        for _ in range(6):
            tg.send_document(USER, "a.jpg", b"\xff\xd8", mime_type="image/jpeg")
        await wait_for(tg, USER, 4, timeout=15)
        await settle(tg, 1.5)
        got = tg.texts(USER)
    assert hint.text == texts.CAPTION_NOT_COMMAND
    assert got[1:3] == [texts.TEXT_NOT_COMMAND] * 2, got
    assert got[3].startswith("You're sending commands faster")
    assert len(got) == 4, got
