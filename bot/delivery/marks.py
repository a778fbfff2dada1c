"""Outbox marks the sender queues: each settles a row's state after Telegram answered.

A mark is a callable that writes one change in a session; `MarkQueue` writes the
queued ones in small batches (`write_marks`), "sent" marks first and all in one
statement, and keeps them through failed writes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.storage import outbox
from bot.storage.db import session_scope

logger = logging.getLogger(__name__)

RETRY_FIRST = 0.1  # seconds before the first retry of a failed write
RETRY_MAX = 10.0

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


@dataclass
class MarkQueue:
    """Marks waiting to be written, and the rows they concern.

    A failed write puts its marks back in front, in order, and waits a growing delay
    before the next try; a write cut off by the end of a round settles when its thread
    finishes. Marks are never dropped.
    """

    engine: Engine
    held: set[int] = field(default_factory=set)  # claimed rows whose marks are not written
    accepted: set[int] = field(default_factory=set)  # sent rows whose marks are not written
    _queued: list[Queued] = field(default_factory=list)
    _failures: int = 0
    _retry_at: float = 0.0  # loop time of the next try after a failed write
    _writing: bool = False  # a write is in its thread; its marks are not queued meanwhile

    def __len__(self) -> int:
        return len(self._queued)

    @property
    def failing(self) -> bool:
        """The last write failed: marks wait for the next try."""
        return self._failures > 0

    @property
    def unsettled(self) -> bool:
        """Marks are queued or being written."""
        return bool(self._queued) or self._writing

    def add(self, mark: Mark, row_id: int | None = None) -> None:
        self._queued.append((row_id, mark))

    async def flush(self) -> bool:
        """Write the queued marks; True when none are left."""
        loop = asyncio.get_running_loop()
        if self._writing:
            return False
        if not self._queued or loop.time() < self._retry_at:
            return not self._queued
        marks, self._queued = self._queued, []
        self._writing = True
        write = loop.run_in_executor(None, write_marks, self.engine, [m for _, m in marks])
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            write.add_done_callback(lambda done: self._settle(marks, _failure(done)))
            raise
        except Exception as exc:  # locked database, lost connection, failed commit
            return self._settle(marks, exc)
        return self._settle(marks, None)

    async def settle(self, until: float) -> bool:
        """Flush until no mark is left or loop time `until`; True when all are written."""
        loop = asyncio.get_running_loop()
        while not await self.flush():
            if loop.time() >= until:
                return False
            wait = 0.01 if self._writing else min(self._retry_at, until) - loop.time()
            await asyncio.sleep(max(0.01, wait))
        return True

    def _settle(self, marks: list[Queued], error: BaseException | None) -> bool:
        self._writing = False
        if error is not None:
            self._queued[:0] = marks
            self._failures += 1
            delay = min(RETRY_MAX, RETRY_FIRST * 2 ** (self._failures - 1))
            self._retry_at = asyncio.get_running_loop().time() + delay
            why = " ".join(f"{type(error).__name__}: {error}".split())[:300]  # one log line
            logger.warning(
                "outbox marks not written, retry in %.1fs marks=%d error=%s",
                delay,
                len(self._queued),
                why,
            )
            return False
        self._failures = 0
        done = {row_id for row_id, _ in marks if row_id is not None}
        self.held -= done
        self.accepted -= done
        return not self._queued


def _failure(done: asyncio.Future[None]) -> BaseException | None:
    return asyncio.CancelledError() if done.cancelled() else done.exception()
