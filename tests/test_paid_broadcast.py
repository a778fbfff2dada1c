"""Paid broadcasts: the sender at 1,000 messages/s against the fake's flood limits.

Time is virtual (the pacer's clock and sleep, and the fake's clock, are one
`VirtualTime`), so the round runs as fast as the machine allows while the fake
counts arrivals per virtual second exactly as it would per real one; nothing
here depends on how fast this machine is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from telegram import Bot

from bot.delivery.pacing import Pacer
from bot.delivery.sender import DeliveryStats, Sender
from tests.support.fake_telegram import FakeTelegram
from tests.support.outboxkit import enqueue_messages, open_bot, statuses
from tests.support.virtualtime import VirtualTime

MESSAGES = 1500
FIRST = 500_000


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def tg(vt: VirtualTime) -> Iterator[FakeTelegram]:
    with FakeTelegram(flood_limits=True, clock=vt.clock) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with open_bot(tg, pool_size=8) as b:
        yield b


def enqueue(engine: Engine, tg: FakeTelegram, count: int) -> list[int]:
    chats = list(range(FIRST, FIRST + count))
    for chat_id in chats:
        tg.add_private_chat(chat_id)
    enqueue_messages(engine, chats, kind="broadcast", key="paid", text="<b>News</b> for {chat}")
    return chats


def stamp_arrivals(tg: FakeTelegram, vt: VirtualTime) -> list[float]:
    arrivals: list[float] = []

    def hook(method: str, params: dict[str, Any]) -> None:
        if method == "sendMessage":
            arrivals.append(vt.now)

    tg.set_fault_hook(hook)
    return arrivals


def most_in_one_second(times: list[float]) -> int:
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def paid_sender(engine: Engine, bot: Bot, vt: VirtualTime, *, paid: bool) -> Sender:
    pacer = Pacer(per_second=1000.0, clock=vt.clock, sleep=vt.sleep)
    return Sender(engine=engine, bot=bot, pacer=pacer, allow_paid_broadcast=paid, batch_size=500)


async def test_a_paid_round_goes_at_up_to_1000_a_second_without_a_429(
    sqlite_engine: Engine, tg: FakeTelegram, bot: Bot, vt: VirtualTime
) -> None:
    chats = enqueue(sqlite_engine, tg, MESSAGES)
    arrivals = stamp_arrivals(tg, vt)
    sender = paid_sender(sqlite_engine, bot, vt, paid=True)
    stats: list[DeliveryStats] = []

    async def round_() -> None:
        stats.append(await sender.deliver_due(budget_seconds=300))

    await vt.run(round_())
    await sender.aclose()
    assert stats[0].sent == MESSAGES and tg.stats.rejected_429 == 0
    assert all(len(tg.messages(c)) == 1 for c in chats)
    assert statuses(sqlite_engine) == {"sent": MESSAGES}
    # Far above the free 30/s (only paid broadcasts allow that), never above 1,000.
    assert 500 < most_in_one_second(arrivals) <= 1000
    assert vt.now < 2 * MESSAGES / 1000  # the round took about 1.5 s of virtual time


async def test_the_same_pace_without_the_paid_flag_meets_the_free_limit(
    sqlite_engine: Engine, tg: FakeTelegram, bot: Bot, vt: VirtualTime
) -> None:
    enqueue(sqlite_engine, tg, 100)
    sender = paid_sender(sqlite_engine, bot, vt, paid=False)

    async def round_() -> None:
        await sender.deliver_due(budget_seconds=5)

    await vt.run(round_())
    await sender.aclose()
    assert tg.stats.rejected_429 >= 1  # the flag is what lets 1,000/s through
