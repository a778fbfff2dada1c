"""Start-up chores of a process, so the Telegram adapter needs no storage imports."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.storage import outbox
from bot.storage.db import WorkerLock, session_scope
from bot.storage.db import worker_lock as _worker_lock
from bot.storage.presence import WorkerPresence
from bot.storage.presence import worker_presence as _worker_presence

__all__ = [
    "WorkerLock",
    "WorkerPresence",
    "release_outbox_claims",
    "worker_lock",
    "worker_presence",
]


def release_outbox_claims(engine: Engine) -> int:
    """Hand back outbox rows a crashed sender had claimed; return how many."""
    with session_scope(engine) as session:
        return outbox.release_claims(session)


def worker_lock(engine: Engine) -> WorkerLock | None:
    """The one-worker lock of a SQLite file (None where none is needed)."""
    return _worker_lock(engine)


def worker_presence(engine: Engine) -> WorkerPresence | None:
    """The live workers' lock of a PostgreSQL database (None elsewhere)."""
    return _worker_presence(engine)
