"""Outbox marks that survive a failed write, and leases held through a flood hold."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Bot

from bot.delivery.marks import MarkQueue, Sent
from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.storage import outbox
from bot.storage.db import session_scope
from bot.storage.models import utcnow
from tests.support.fake_telegram import FakeTelegram
from tests.support.outboxkit import drain, enqueue_messages, open_bot, statuses

LOCK_SECONDS = 2.0


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with open_bot(tg, pool_size=32) as b:
        yield b


def enqueue(engine: Engine, tg: FakeTelegram, chat_ids: list[int]) -> None:
    for chat_id in chat_ids:
        tg.add_private_chat(chat_id)
    enqueue_messages(engine, chat_ids, kind="reply", key="m", text="hello {chat}")


def impatient_engine(engine: Engine) -> Engine:
    """A second engine on the same database whose writes give up quickly when blocked."""
    if engine.dialect.name == "sqlite":
        return sa.create_engine(
            engine.url, connect_args={"check_same_thread": False, "timeout": 0.2}
        )
    options = str(engine.url.query.get("options", ""))
    return sa.create_engine(engine.url, connect_args={"options": f"{options} -c lock_timeout=200"})


def write_locker(engine: Engine) -> tuple[Callable[[], None], Callable[[], None]]:
    """(lock, unlock): hold a lock that blocks every write to the outbox in between."""
    state: dict[str, Any] = {}

    def lock() -> None:
        if engine.dialect.name == "sqlite":
            conn = sqlite3.connect(str(engine.url.database), check_same_thread=False)
            conn.isolation_level = None
            conn.execute("BEGIN IMMEDIATE")
        else:
            conn = engine.connect()
            conn.execute(sa.text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
        state["conn"] = conn

    def unlock() -> None:
        conn = state.pop("conn")
        conn.rollback()
        conn.close()

    return lock, unlock


async def test_marks_that_fail_to_write_are_retried_and_nothing_is_sent_twice(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    chat_ids = list(range(60_001, 60_009))
    enqueue(engine, tg, chat_ids)
    lock, unlock = write_locker(engine)
    locked = threading.Event()

    def hook(method: str, params: dict[str, Any]) -> None:
        # The rows are claimed by now; lock the database before any mark lands.
        if method.lower() == "sendmessage" and not locked.is_set():
            locked.set()
            lock()
            threading.Timer(LOCK_SECONDS, unlock).start()
        return None

    tg.set_fault_hook(hook)
    sender_engine = impatient_engine(engine)
    # A short lease: a dropped mark would let the rows be claimed and sent again.
    sender = Sender(
        engine=sender_engine,
        bot=bot,
        pacer=Pacer(per_second=30.0),
        lease=timedelta(seconds=1),
        backoff=lambda n: 0.2,
    )
    # The old sender raised in these rounds, and the marks were lost.
    await drain(sender, rounds=20, budget_seconds=5, pause=0.3, engine=engine)
    assert locked.is_set()
    assert all(len(tg.messages(c)) == 1 for c in chat_ids), {
        c: len(tg.messages(c)) for c in chat_ids
    }
    assert len(tg.calls("sendMessage")) == len(chat_ids)
    assert statuses(engine) == {"sent": len(chat_ids)}
    await sender.aclose()
    sender_engine.dispose()


async def test_leases_are_renewed_while_a_flood_hold_lasts(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    chat_ids = list(range(70_001, 70_011))
    enqueue(engine, tg, chat_ids)
    tg.fail_next("sendMessage", 1, status=429, retry_after=4)
    lease = timedelta(seconds=1)
    # A slow pace: most rows are still waiting for a slot when the 429 arrives.
    sender = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=5.0), lease=lease)
    seen: list[int] = []

    def rival_claim() -> int:
        with Session(engine) as session:
            claimed = outbox.claim_due(session, now=utcnow(), limit=100, lease=lease)
            session.rollback()  # only looking: the rows stay with their sender
            return len(claimed)

    async def rival() -> None:
        for _ in range(6):  # during the 4 s hold, well after the 1 s lease ran out
            await asyncio.sleep(0.5)
            seen.append(await asyncio.to_thread(rival_claim))

    _, stats = await asyncio.gather(rival(), sender.deliver_due(budget_seconds=20))
    assert stats.retried >= 1
    assert seen == [0] * 6
    await drain(sender, budget_seconds=10)
    assert all(len(tg.messages(c)) == 1 for c in chat_ids)
    await sender.aclose()


async def test_a_mark_write_cut_off_by_the_round_end_is_kept_when_it_fails(
    sqlite_engine: Engine, tg: FakeTelegram
) -> None:
    # A round ends (its flush task cancelled) while a mark write waits on a lock in its
    # thread; the write then fails. The mark must be queued again, not dropped.
    engine = sqlite_engine
    enqueue(engine, tg, [80_001])
    with session_scope(engine) as session:
        (row,) = outbox.claim_due(session, now=utcnow(), limit=10, lease=timedelta(seconds=60))
    queue = MarkQueue(impatient_engine(engine))  # gives up after 0.2 s on the lock
    queue.add(Sent(row.id, 1, utcnow()), row.id)
    lock, unlock = write_locker(engine)
    lock()
    try:
        flush = asyncio.create_task(queue.flush())
        await asyncio.sleep(0.05)  # the write is blocked in its thread now
        flush.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flush
        await asyncio.sleep(0.6)  # the write gave up
        assert len(queue) == 1
    finally:
        unlock()
    assert await queue.settle(asyncio.get_running_loop().time() + 5)
    assert statuses(engine) == {"sent": 1}
    queue.engine.dispose()


async def test_a_stop_writes_the_marks_a_locked_database_held_back(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    # Telegram accepted the messages, the marks could not be written, then the sender is
    # closed (the process stops): closing writes them, so a restart sends nothing again.
    chat_ids = [80_101, 80_102, 80_103]
    enqueue(engine, tg, chat_ids)
    lock, unlock = write_locker(engine)
    sender_engine = impatient_engine(engine)
    # A short lease: the round waits only half of it for its marks, then returns.
    lease = timedelta(seconds=0.6)
    sender = Sender(engine=sender_engine, bot=bot, pacer=Pacer(per_second=30.0), lease=lease)

    def hook(method: str, params: dict[str, Any]) -> None:
        if method.lower() == "sendmessage" and "conn" not in held:
            held["conn"] = True
            lock()
            threading.Timer(1.5, unlock).start()

    held: dict[str, bool] = {}
    tg.set_fault_hook(hook)
    stats = await sender.deliver_due(budget_seconds=0.5)
    assert stats.sent == len(chat_ids)
    assert statuses(engine) != {"sent": len(chat_ids)}  # the marks were held back
    await sender.aclose()
    assert statuses(engine) == {"sent": len(chat_ids)}
    sender_engine.dispose()


async def test_a_sender_whose_lease_lapsed_leaves_the_rows_to_the_one_that_took_them(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    # Sender A claims ten rows, meets a 429 and waits; meanwhile a minute passes for it
    # (a starved or suspended process: no renewal ran), its leases lapse and sender B
    # takes the rows and sends them. When A wakes, the rows are no longer its to send.
    chat_ids = list(range(70_101, 70_111))
    enqueue(engine, tg, chat_ids)
    tg.fail_next("sendMessage", 1, status=429, retry_after=3)
    skew = [timedelta(0)]

    def clock() -> datetime:
        return utcnow() + skew[0]

    lease = timedelta(seconds=60)  # renewed every 20 s: not during this test
    a = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=30.0), lease=lease, clock=clock)
    b = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=30.0), lease=lease, clock=clock)
    first = asyncio.create_task(a.deliver_due(budget_seconds=20))
    while not tg.calls("sendMessage"):  # the 429: A holds the rest of its claim now
        await asyncio.sleep(0.01)
    while not statuses(engine).get("pending"):  # A's answer to it is written (a retry)
        await asyncio.sleep(0.01)
    # What A sent before the 429 came back is marked sent (a sender that is starved
    # between Telegram's answer and its mark is the in-flight case no lease can fence).
    while statuses(engine).get("sent", 0) < len(tg.calls("sendMessage")) - 1:
        await asyncio.sleep(0.01)
    sent_by_a = statuses(engine).get("sent", 0)
    skew[0] = lease + timedelta(seconds=1)
    taken = await b.deliver_due(budget_seconds=10)
    assert taken.sent == len(chat_ids) - sent_by_a >= 1
    await first
    await drain(a, budget_seconds=5)
    assert [len(tg.messages(c)) for c in chat_ids] == [1] * len(chat_ids)
    assert statuses(engine) == {"sent": len(chat_ids)}
    await a.aclose()
    await b.aclose()
