"""Start-up chores of a process, so the Telegram adapter needs no storage imports."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.storage import outbox
from bot.storage.db import WorkerLock, session_scope
from bot.storage.db import worker_lock as _worker_lock


def release_outbox_claims(engine: Engine) -> int:
    """Hand back outbox rows a crashed sender had claimed; return how many."""
    with session_scope(engine) as session:
        return outbox.release_claims(session)


def worker_lock(engine: Engine) -> WorkerLock | None:
    """The one-worker lock of a SQLite file (None where none is needed)."""
    return _worker_lock(engine)
