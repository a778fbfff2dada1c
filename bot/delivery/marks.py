"""Outbox marks the sender queues: each settles a row's state after Telegram answered.

A mark is a callable that writes one change in a session; the sender writes the
queued ones in small batches (`write_marks`), "sent" marks first and all in one
statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.storage import outbox
from bot.storage.db import session_scope

Mark = Callable[[Session], None]
# A mark and the row whose claim it settles (None: not about one row).
Queued = tuple[int | None, Mark]


@dataclass(frozen=True)
class Sent:
    """A "sent" mark: written with the others of its batch in one executemany."""

    row_id: int
    message_id: int
    at: datetime

    def __call__(self, session: Session) -> None:
        outbox.mark_sent_many(session, [(self.row_id, self.message_id, self.at)])


def retry_at(session: Session, *, row_id: int, at: datetime) -> None:
    """Put a row back to wait until `at` (its claim released, no error recorded)."""
    outbox.mark_retry(session, row_id, not_before=at, error=None)


def write_marks(engine: Engine, marks: Sequence[Mark]) -> None:
    """Write marks in one transaction.

    "Sent" marks go first, all in one statement: each settles its own row, and a
    later mark of the same chat (a cancellation) spares rows already sent.
    """
    sent = [(m.row_id, m.message_id, m.at) for m in marks if isinstance(m, Sent)]
    with session_scope(engine) as session:
        outbox.mark_sent_many(session, sent)
        for mark in marks:
            if not isinstance(mark, Sent):
                mark(session)
