"""Delivery test helpers: a Bot on the fake API, queued messages, outbox row statuses,
sending until done."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.delivery.sender import DeliveryStats, Sender
from bot.storage import outbox
from bot.storage.db import session_scope
from bot.storage.models import Outbox, utcnow
from tests.support.fake_telegram import FakeTelegram


@asynccontextmanager
async def open_bot(tg: FakeTelegram, *, pool_size: int) -> AsyncIterator[Bot]:
    """A Bot talking to the fake API, with room for `pool_size` requests at once."""
    request = HTTPXRequest(connection_pool_size=pool_size)
    async with Bot(tg.token, base_url=tg.base_url, request=request) as bot:
        yield bot


def enqueue_messages(
    engine: Engine,
    chat_ids: Sequence[int],
    *,
    kind: str,
    key: str,
    text: str,
    now: datetime | None = None,
) -> None:
    """One message per chat, queued as the bot queues them (`outbox.enqueue`): its dedup key
    is `{key}:{chat id}`, and `{chat}` in `text` is the chat id."""
    messages = [outbox.NewMessage(c, kind, f"{key}:{c}", text.format(chat=c)) for c in chat_ids]
    with session_scope(engine) as session:
        outbox.enqueue(session, messages, now=now or utcnow())


def statuses(engine: Engine) -> Counter[str]:
    """How many outbox rows are in each status."""
    with Session(engine) as session:
        return Counter(session.exec(select(Outbox.status)).all())


async def drain(
    sender: Sender,
    *,
    rounds: int = 200,
    budget_seconds: float = 30,
    pause: float = 0.2,
    engine: Engine | None = None,
) -> DeliveryStats:
    """Run delivery rounds until no row is pending (checked on `engine`, default the
    sender's own) or `rounds` ran out; the stats of all rounds together."""
    total = DeliveryStats()
    for _ in range(rounds):
        total += await sender.deliver_due(budget_seconds=budget_seconds)
        with Session(engine or sender.engine) as session:
            if outbox.pending_count(session) == 0:
                return total
        await asyncio.sleep(pause)
    return total
