"""Admin output only where only admins read it; forged taps and odd digits change nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.render import admin as render
from bot.render import commands, texts
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Broadcast, Feed, Outbox, utcnow
from tests.support.adminkit import ADMIN, HELPERS, USER, say
from tests.support.botharness import wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.forged import push_forged_tap, tap_answers
from tests.support.seed import seed_chats

SECRET_URL = "https://secret.example/private-feed.xml"
PRIVATE_COMMANDS = [c.name for c in commands.COMMANDS if c.private]


@pytest.fixture
def sqlite_engine(sqlite_engine: Engine) -> Engine:
    """The database with a feed whose URL is a secret (the bot starts on it: `admin_bot`)."""
    with session_scope(sqlite_engine) as session:
        session.add(Feed(url=SECRET_URL, name="Secret", origin="admin", created_at=utcnow()))
    return sqlite_engine


def test_the_private_commands_are_the_ones_that_show_urls_numbers_or_the_log() -> None:
    assert sorted(PRIVATE_COMMANDS) == ["audit", "export", "feeds", "stats"]


async def each_private_command_in_a_group(
    tg: FakeTelegram, first_group: int, user: int, suffix: str = ""
) -> list[int]:
    """Send each private command in a group of its own (ids counting down from
    `first_group`) as `user`; return the groups once each has its answer."""
    groups = [
        tg.add_group(first_group - i, members=[ADMIN, USER]) for i in range(len(PRIVATE_COMMANDS))
    ]
    for group, name in zip(groups, PRIVATE_COMMANDS, strict=True):
        tg.send_text(group, f"/{name}{suffix}", from_user=user)
    await wait_for(tg, lambda: all(tg.messages(g) for g in groups))
    await asyncio.sleep(0.5)  # nothing else trickles in
    return groups


async def test_in_a_group_an_admin_gets_only_a_hint_to_ask_in_private(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    groups = await each_private_command_in_a_group(tg, -700, ADMIN, "@newsbrief_test_bot")
    for group, name in zip(groups, PRIVATE_COMMANDS, strict=True):
        [hint] = tg.messages(group)
        assert (
            hint.text
            == f"Please use /{name} in a private chat with me: it shows admin-only details."
        )
        assert "\n" not in hint.text and "secret.example" not in hint.text
    for method in ("sendDocument", "sendPhoto"):
        assert tg.calls(method) == []


async def test_in_a_group_a_non_admin_is_refused_as_anywhere(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    groups = await each_private_command_in_a_group(tg, -800, USER)
    assert [tg.texts(g) for g in groups] == [[texts.ADMIN_ONLY]] * len(groups)


async def test_in_private_the_admin_still_sees_the_feed_list(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    [listing] = await say(tg, ADMIN, "/feeds")
    assert SECRET_URL in listing.text


async def test_forged_broadcast_taps_from_a_non_admin_change_nothing(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    _settings, engine = admin_bot
    seed_chats(engine, [3001, 3002], now=utcnow(), due=None)
    _preview, control = await say(tg, ADMIN, "/broadcast hello", expect=2)
    confirm = control.buttons[0]["callback_data"]
    cancel = control.buttons[1]["callback_data"]
    tg.add_private_chat(USER)
    [mine] = await say(tg, USER, "/help")
    queries = [
        push_forged_tap(tg, USER, mine.message_id, confirm, user_id=USER),
        push_forged_tap(tg, USER, mine.message_id, cancel, user_id=USER),
        push_forged_tap(tg, ADMIN, control.message_id, confirm, user_id=USER),
    ]
    await wait_for(tg, lambda: all(tap_answers(tg, q) for q in queries))
    await asyncio.sleep(0.3)
    for query in queries:
        [answer] = tap_answers(tg, query)
        assert answer["text"] == texts.ADMIN_ONLY and answer["show_alert"] is True
    with Session(engine) as session:
        assert session.exec(select(Broadcast.status)).all() == ["draft"]
        assert session.exec(select(Outbox)).all() == []
        assert session.exec(select(AuditEntry)).all() == []
    assert tg.calls("editMessageText") == []
    assert tg.texts(USER) == [mine.text]


@pytest.mark.parametrize("command", ["removefeed", "resumefeed"])
async def test_only_ascii_digits_are_feed_ids(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], command: str
) -> None:
    _settings, engine = admin_bot
    usage = "Usage: " + commands.BY_NAME[command].usage
    # "²" passes str.isdigit; "٣" and " 1" pass int(); 2**31 overflows PostgreSQL's INTEGER.
    odd = ["²", "٣", "+1", "1_0", "-1", "0", "2147483648", "#²", "1 2"]
    chat = HELPERS[0] if command == "removefeed" else HELPERS[1]
    for arg in odd:
        [reply] = await say(tg, chat, f"/{command} {arg}")
        assert reply.text == usage, arg
    with Session(engine) as session:
        [feed] = session.exec(select(Feed)).all()
        assert feed.enabled and session.exec(select(AuditEntry)).all() == []
    assert tg.texts(ADMIN) == []  # no error reports


async def test_odd_digits_in_broadcast_callback_data_get_a_polite_answer(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    _settings, engine = admin_bot
    seed_chats(engine, [3001], now=utcnow(), due=None)
    _preview, control = await say(tg, HELPERS[2], "/broadcast hello", expect=2)
    queries = [
        push_forged_tap(tg, HELPERS[2], control.message_id, data, user_id=HELPERS[2])
        for data in ("bc:ok:²", "bc:no:²", "bc:ok:٣", "bc:ok:99999999999", "bc:ok:", "bc:zz:1")
    ]
    await wait_for(tg, lambda: all(tap_answers(tg, q) for q in queries))
    await asyncio.sleep(0.3)
    for query in queries:
        [answer] = tap_answers(tg, query)
        assert answer["text"] == texts.BROADCAST_GONE
    with Session(engine) as session:
        assert session.exec(select(Broadcast.status)).all() == ["draft"]
    assert len(tg.messages(HELPERS[2])) == 2  # preview and control, no error message
    assert tg.texts(ADMIN) == []  # no error reports


def test_private_hint_renders_the_command_name() -> None:
    assert render.private_only("feeds").startswith("Please use /feeds in a private chat")
