"""Broadcasts end to end: preview, confirmation, paced delivery, report, restart, taps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.services.context import Services
from bot.settings import DeliverySettings
from bot.storage.models import Broadcast, Outbox, utcnow
from tests.support.adminkit import (
    ADMIN,
    admin_settings,
    answered,
    push_formatted,
    push_stale_tap,
    say,
)
from tests.support.botharness import running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_telegram.tdhtml import utf16_len
from tests.support.seed import seed_chats


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    # The pace is the sender's business (tested in test_delivery); here it is turned up.
    with FakeTelegram(flood_limits=False) as fake:
        yield fake


def audience(tg: FakeTelegram, engine: Engine, ids: list[int], topics: tuple[str, ...]) -> None:
    for chat_id in ids:
        tg.add_private_chat(chat_id)
    seed_chats(engine, ids, now=utcnow(), due=None, topics=topics)


def report_of(tg: FakeTelegram, message_id: int) -> str:
    found = [m for m in tg.messages(ADMIN) if m.message_id == message_id]
    return found[0].text if found else ""


async def until_done(tg: FakeTelegram, message_id: int, timeout: float = 30.0) -> str:
    await wait_for(tg, lambda: "done in" in report_of(tg, message_id), timeout=timeout)
    return report_of(tg, message_id)


def received(tg: FakeTelegram, ids: list[int]) -> dict[int, int]:
    return {chat_id: len(tg.messages(chat_id)) for chat_id in ids}


async def send_due(services: Services) -> None:
    """What the deliver tick does, now (the small tests run the bot without its ticks)."""
    assert services.sender is not None
    await services.sender.deliver_due(budget_seconds=10)


async def test_formatted_broadcast_to_a_topic_arrives_exactly_as_previewed(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    world, tech = [4001, 4002, 4003], [4004]
    audience(tg, sqlite_engine, world, ("world",))
    audience(tg, sqlite_engine, tech, ("tech",))
    settings = admin_settings(tg, delivery=DeliverySettings(messages_per_second=200))
    body = "Breaking 😀: polls close at 8 <sharp> & the count begins"
    text = "/broadcast #world " + body
    at = utf16_len("/broadcast #world ")

    def where(word: str) -> int:
        return at + utf16_len(body[: body.index(word)])

    entities = [
        {"type": "hashtag", "offset": 11, "length": 6},
        {"type": "bold", "offset": at, "length": utf16_len("Breaking 😀")},
        {"type": "italic", "offset": where("<sharp>"), "length": 7},
        {"type": "text_link", "offset": where("count"), "length": 5, "url": "https://e.x/c"},
    ]
    async with running_bot(settings, sqlite_engine) as services:
        push_formatted(tg, ADMIN, text, entities)
        preview, control = await wait_for(tg, ADMIN, 2)
        assert preview.text == body
        assert control.text.startswith("☝️ Preview")
        assert "Audience: 3 chats (chats following World)" in control.text
        assert [b["text"] for b in control.buttons] == ["Send to 3 chats", "Cancel"]
        await send_due(services)
        assert received(tg, world + tech) == dict.fromkeys(world + tech, 0)  # not before "Send"
        tg.press_button(ADMIN, control.message_id, control.buttons[0]["callback_data"])
        await wait_for(tg, lambda: "Sent 0 / 3" in report_of(tg, control.message_id))
        await send_due(services)
    for chat_id in world:
        [got] = tg.messages(chat_id)
        assert (got.text, got.entities, got.html) == (preview.text, preview.entities, preview.html)
    assert {e["type"] for e in preview.entities} == {"bold", "italic", "text_link"}
    assert tg.messages(4004) == []


async def test_a_thousand_chats_twenty_blocked_stopped_midway_restarted(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    """The whole path with the real ticks: paced sending, a stop, a restart, the report."""
    ids = list(range(100_000, 101_000))
    audience(tg, sqlite_engine, ids, ("world",))
    blocked = set(ids[::50])
    for chat_id in blocked:
        tg.block(chat_id)
    # 200/s: the round takes ~5 s, so a stop lands midway even when the stop itself
    # is slow (the rows in flight, up to two claimed batches, finish first).
    settings = admin_settings(tg, delivery=DeliverySettings(messages_per_second=200))
    async with running_bot(settings, sqlite_engine, role="all"):
        _preview, control = await say(tg, ADMIN, "/broadcast Polls are open.", expect=2)
        assert control.buttons[0]["text"] == "Send to 1,000 chats"  # Babel number formatting
        tg.press_button(ADMIN, control.message_id, control.buttons[0]["callback_data"])
        await wait_for(tg, lambda: sum(received(tg, ids).values()) >= 50, timeout=20)
    halfway = sum(received(tg, ids).values())
    with Session(sqlite_engine) as session:
        assert session.exec(select(Broadcast.status)).one() == "confirmed"
    assert halfway < len(ids) - len(blocked), "the broadcast should still be running"
    async with running_bot(settings, sqlite_engine, role="all"):
        report = await until_done(tg, control.message_id)
    assert len(blocked) == 20
    assert "Sent 980 / 1000 · blocked 20 · failed 0" in report
    got = received(tg, ids)
    assert all(got[c] == (0 if c in blocked else 1) for c in ids), "one got it twice or never"
    with Session(sqlite_engine) as session:
        statuses = dict(
            session.exec(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
        )
        row = session.exec(select(Broadcast)).one()
    assert statuses == {"sent": 980, "cancelled": 20}
    assert (row.status, row.total) == ("done", 1000)
    # The status message was edited while sending, not once per message.
    edits = tg.messages(ADMIN)[1].edits
    assert 2 <= len(edits) <= 30


async def test_a_double_tap_on_send_sends_once(tg: FakeTelegram, sqlite_engine: Engine) -> None:
    ids = [300_001, 300_002, 300_003]
    audience(tg, sqlite_engine, ids, ("world",))
    settings = admin_settings(tg, delivery=DeliverySettings(messages_per_second=200))
    async with running_bot(settings, sqlite_engine) as services:
        _preview, control = await say(tg, ADMIN, "/broadcast Once only", expect=2)
        data = control.buttons[0]["callback_data"]
        first = tg.press_button(ADMIN, control.message_id, data)
        second = tg.press_button(ADMIN, control.message_id, data)
        await wait_for(tg, lambda: tg.callback_answer(first) and tg.callback_answer(second))
        await send_due(services)
        await send_due(services)
    answers = sorted(str((tg.callback_answer(q) or {}).get("text")) for q in (first, second))
    assert answers == [
        "Broadcast #1 is already being sent; this tap sends nothing more.",
        "Sending broadcast #1…",
    ]
    assert received(tg, ids) == dict.fromkeys(ids, 1)
    with Session(sqlite_engine) as session:
        assert session.exec(select(func.count()).select_from(Outbox)).one() == 3


async def test_a_tap_on_send_after_cancel_sends_nothing(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    ids = [400_001, 400_002]
    audience(tg, sqlite_engine, ids, ("world",))
    settings = admin_settings(tg, delivery=DeliverySettings(messages_per_second=200))
    async with running_bot(settings, sqlite_engine) as services:
        _preview, control = await say(tg, ADMIN, "/broadcast Never mind", expect=2)
        send, cancel = (b["callback_data"] for b in control.buttons)
        tg.press_button(ADMIN, control.message_id, cancel)
        await wait_for(tg, lambda: "cancelled" in report_of(tg, control.message_id))
        assert tg.messages(ADMIN)[1].buttons == []
        stale = push_stale_tap(tg, ADMIN, control.message_id, send)
        await wait_for(tg, lambda: answered(tg, stale))
        await send_due(services)
    assert report_of(tg, control.message_id) == "✖️ Broadcast #1 cancelled; nothing was sent."
    assert received(tg, ids) == dict.fromkeys(ids, 0)
    with Session(sqlite_engine) as session:
        assert session.exec(select(Broadcast.status)).one() == "cancelled"
        assert session.exec(select(Outbox)).all() == []


async def test_broadcast_usage_unknown_topic_and_empty_audience(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    settings = admin_settings(tg)
    async with running_bot(settings, sqlite_engine):
        replies: dict[str, Any] = {}
        for admin, text in zip(
            (ADMIN, 778, 779),
            ("/broadcast", "/broadcast #wrld hi", "/broadcast #tech hi"),
            strict=True,
        ):
            [replies[text]] = await say(tg, admin, text)
    assert replies["/broadcast"].text.startswith("Usage: /broadcast [#topic] <text>")
    assert re.match(
        r'There is no topic "wrld"\. Did you mean “world”', replies["/broadcast #wrld hi"].text
    )
    assert replies["/broadcast #tech hi"].text == (
        "Nobody would get this broadcast: the audience (chats following Technology) is empty."
    )
