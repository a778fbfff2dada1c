"""Start-up chores of a process, so the Telegram adapter needs no storage imports."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.storage import outbox
from bot.storage.db import WorkerLock, one_line, session_scope
from bot.storage.db import worker_lock as _worker_lock
from bot.storage.presence import WorkerPresence
from bot.storage.presence import worker_presence as _worker_presence

__all__ = [
    "WorkerLock",
    "WorkerPresence",
    "hand_back_claims",
    "release_outbox_claims",
    "worker_lock",
    "worker_presence",
]


def release_outbox_claims(engine: Engine, *, unowned_only: bool = False) -> int:
    """Hand back outbox rows a crashed sender had claimed; return how many.

    `unowned_only`: only rows that name no claimant (PostgreSQL, bot/storage/presence.py)."""
    with session_scope(engine) as session:
        return outbox.release_claims(session, unowned_only=unowned_only)


logger = logging.getLogger(__name__)


def hand_back_claims(engine: Engine, presence: WorkerPresence | None) -> int:
    """At a worker's start: hand back what stopped senders had claimed when this worker is
    the only one (one per SQLite file; on PostgreSQL, `presence.alone`, and then only rows
    that name no claimant), then let other workers start. Return how many rows went back.

    On PostgreSQL the rows of named claimants go back through `presence.reap()` once their
    ids have been seen dead for a grace: alone does not mean that no worker still sends (one
    whose lock connection just broke holds no lock). The first look is taken here, so the
    grace runs from the start.

    A database that fails here costs only the quick way back: the rows go out when their
    leases end, and the start goes on."""
    try:
        if engine.dialect.name != "sqlite" and (presence is None or not presence.alone):
            return 0
        try:
            return release_outbox_claims(engine, unowned_only=presence is not None)
        except SQLAlchemyError as exc:
            logger.warning(
                "could not hand back the outbox rows in flight at last stop; they go out "
                "when their leases end error=%s",
                one_line(exc),
            )
            return 0
    finally:
        if presence is not None:
            presence.settle()
            presence.reap()


def worker_lock(engine: Engine) -> WorkerLock | None:
    """The one-worker lock of a SQLite file (None where none is needed)."""
    return _worker_lock(engine)


def worker_presence(engine: Engine) -> WorkerPresence | None:
    """The live workers' lock of a PostgreSQL database (None elsewhere)."""
    return _worker_presence(engine)
