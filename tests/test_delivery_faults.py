"""Telegram's faults as a subscriber meets them, through the real worker process: each
message once, on time, none lost, one chat's trouble not held against the others."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot

from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.storage import outbox
from bot.storage.db import open_database
from bot.storage.models import Outbox, utcnow
from tests.support.fake_telegram import FakeTelegram, Fault
from tests.support.outboxkit import enqueue_messages, open_bot, statuses
from tests.support.process import start_bot, stop_bot, write_config

CHATS = list(range(41_000, 41_040))
HELD = CHATS[0]


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with open_bot(tg, pool_size=64) as b:
        yield b


def worker(tmp_path: Path, tg: FakeTelegram, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    cfg = write_config(tmp_path, "[delivery]\nmessages_per_second = 30\n", database=name)
    log = tmp_path / "worker.log"
    return start_bot(cfg, tg, log, "--role", "worker"), log


def flood_once(chats: dict[int, int]) -> Any:
    """A fault hook: each chat in `chats` meets one 429 with its retry_after, then none."""
    left = dict(chats)

    def hook(method: str, params: dict[str, Any]) -> Fault | None:
        seconds = left.pop(params.get("chat_id", 0), None) if method == "sendMessage" else None
        return None if seconds is None else Fault(429, None, seconds)

    return hook


def not_before(engine: Engine, chat_id: int) -> list[Any]:
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(col(Outbox.chat_id) == chat_id)).all()
        return [(r.status, r.not_before) for r in rows]


def test_an_hours_flood_wait_for_one_chat_holds_that_chat_alone(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'flood.sqlite3'}")
    enqueue_messages(engine, CHATS, kind="broadcast", key="b", text="News for {chat}")
    for chat_id in CHATS:
        tg.add_private_chat(chat_id)
    tg.set_fault_hook(flood_once({HELD: 3600}))
    proc, log = worker(tmp_path, tg, "flood.sqlite3")
    try:
        tg.wait_for(lambda: all(tg.messages(c) for c in CHATS[1:]), timeout=60)
        # A message queued for the held chat while it waits goes after the first, then.
        enqueue_messages(engine, [HELD], kind="broadcast", key="c", text="More for {chat}")
        tg.wait_for(lambda: len(not_before(engine, HELD)) == 2, timeout=10)
        tg.wait_for(lambda: all(s == "pending" for s, _ in not_before(engine, HELD)), timeout=10)
    finally:
        stop_bot(proc)
    assert tg.messages(HELD) == []
    assert [c["chat_id"] for c in tg.calls("sendMessage")].count(HELD) == 1
    later = utcnow() + timedelta(minutes=55)
    assert all(at > later for _, at in not_before(engine, HELD)), "sent inside the flood wait"
    with Session(engine) as session:
        assert outbox.hold_until(session) is None  # nobody else was held
    assert statuses(engine) == {"sent": len(CHATS) - 1, "pending": 2}
    lines = log.read_text()
    assert "flood limit chat_id=41000 retry_after=3600.0 holds=chat" in lines
    assert "Traceback" not in lines


async def test_long_flood_waits_for_two_chats_hold_the_whole_bot(
    sqlite_engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    # The bot-wide limit shows as a long wait wherever the bot sends next.
    for chat_id in CHATS:
        tg.add_private_chat(chat_id)
    enqueue_messages(sqlite_engine, CHATS, kind="broadcast", key="b", text="News for {chat}")
    tg.set_fault_hook(flood_once({CHATS[0]: 3600, CHATS[1]: 3599}))
    sender = Sender(engine=sqlite_engine, bot=bot, pacer=Pacer(per_second=1.0))
    round_ = asyncio.create_task(sender.deliver_due(budget_seconds=5))
    await tg.await_for(lambda: tg.stats.rejected_429 == 2, timeout=30)
    sender.stop()  # the round waits out the hold otherwise
    stats = await round_
    assert stats.sent == 0 and stats.retried == len(CHATS)  # all back in the queue, unsent
    with Session(sqlite_engine) as session:
        held = outbox.hold_until(session)
    assert held is not None and held > utcnow() + timedelta(minutes=55)
    await sender.aclose()


def test_sigterm_during_a_flood_hold_stops_at_once_and_loses_nothing(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'term.sqlite3'}")
    enqueue_messages(engine, CHATS, kind="broadcast", key="b", text="News for {chat}")
    for chat_id in CHATS:
        tg.add_private_chat(chat_id)
    tg.set_fault_hook(flood_once({HELD: 50}))  # a bot-wide wait: everyone waits 50 s
    proc, log = worker(tmp_path, tg, "term.sqlite3")
    try:
        tg.wait_for(lambda: tg.stats.rejected_429 == 1, timeout=60)
    finally:
        stop_bot(proc, timeout=20)  # SIGKILL after 20 s, well inside the hold
    assert proc.returncode == 0, "SIGTERM did not stop the worker during the hold"
    sent = sum(bool(tg.messages(c)) for c in CHATS)
    assert statuses(engine) == {"pending": len(CHATS) - sent} | ({"sent": sent} if sent else {})
    assert "Traceback" not in log.read_text()
