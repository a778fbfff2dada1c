"""Outbox helpers for delivery tests: row statuses, and sending until nothing is pending."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.delivery.sender import DeliveryStats, Sender
from bot.storage import outbox
from bot.storage.models import Outbox


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
        total.add(await sender.deliver_due(budget_seconds=budget_seconds))
        with Session(engine or sender.engine) as session:
            if outbox.pending_count(session) == 0:
                return total
        await asyncio.sleep(pause)
    return total
