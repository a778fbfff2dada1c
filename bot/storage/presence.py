"""Which workers live, on PostgreSQL: one shared advisory lock that every live worker holds.

A worker that dies leaves the outbox rows it had claimed in `sending` until their leases
lapse (`delivery.lease_seconds`, a minute by default), because nothing in a row says
whether its claimant still runs. The lock does: every worker holds it *shared* on a
connection of its own for as long as it runs, and the server drops it the moment that
connection ends, a killed process's included. A worker that starts and can take it
*exclusively* therefore knows it is alone: every `sending` row is a stopped worker's claim
and can go back to the queue at once, as a SQLite worker (one per file) does. With another
worker alive it leaves them to their leases, since the rows do not say whose they are.

The lock lives as long as its connection. If that breaks (the server restarted) while the
worker runs, a worker starting meanwhile would take the dead connection's absence for the
worker's, so `keep()` checks the connection every few seconds and opens it again. Session
locks need a session: behind PgBouncer, use session pooling (the migration lock needs it
too).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.storage.db import one_line

logger = logging.getLogger(__name__)

# The live workers' advisory lock: (a constant, a hash of the schema), so that bots whose
# tables live in different schemas of one database do not count each other (a collision
# only makes a worker think it is not alone: its leftover claims wait for their leases).
WORKERS_LOCK_CLASS = 0x6E657774  # "newt"


def _key() -> tuple[Any, Any]:
    return (WORKERS_LOCK_CLASS, sa.func.hashtext(sa.func.current_schema()))


class WorkerPresence:
    """This worker's share of the workers' lock; `alone` when no other worker held it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.alone = False
        self._conn: Connection | None = None
        self._exclusive = False

    def acquire(self) -> bool:
        """Join the live workers; True when none other was alive (hold on until `settle`).

        While the lone starter holds the lock exclusively, a worker starting beside it
        waits in `acquire` until it settles: it cannot start claiming rows in between.
        A database that cannot be reached now makes this worker not alone (its claims wait
        for their leases) and a warning; `keep()` joins later."""
        try:
            conn = self.engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("cannot join the workers' lock yet error=%s", one_line(exc))
            return False
        try:
            taken = conn.execute(sa.select(sa.func.pg_try_advisory_lock(*_key())))
            alone = bool(taken.scalar())
            conn.execute(sa.select(sa.func.pg_advisory_lock_shared(*_key())))
            conn.commit()
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("cannot join the workers' lock yet error=%s", one_line(exc))
            self._conn = conn
            self._drop()
            return False
        self._conn, self.alone, self._exclusive = conn, alone, alone
        return alone

    def settle(self) -> None:
        """Let other workers start: drop the exclusive hold, keep the shared one.

        If the connection was lost meanwhile, both went with it; `keep()` joins again."""
        if self._conn is None or not self._exclusive:
            return
        try:
            self._conn.execute(sa.select(sa.func.pg_advisory_unlock(*_key())))
            self._conn.commit()
            self._exclusive = False
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("workers' lock connection lost, joining again error=%s", one_line(exc))
            self._drop()

    def keep(self) -> bool:
        """Check that the lock's connection is alive; open it again and rejoin if not.

        False (and a warning) while the database cannot be reached; the next call tries
        again."""
        if self._conn is not None:
            try:
                self._conn.execute(sa.select(1))
                self._conn.commit()
                return True
            except sa.exc.SQLAlchemyError as exc:
                why = one_line(exc)
                logger.warning("workers' lock connection lost, joining again error=%s", why)
                self._drop()
        try:
            self._conn = self.engine.connect()
            self._conn.execute(sa.select(sa.func.pg_advisory_lock_shared(*_key())))
            self._conn.commit()
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("cannot join the workers' lock yet error=%s", one_line(exc))
            self._drop()  # a connection opened meanwhile goes back, closed
            return False
        return True

    def release(self) -> None:
        """Leave (a stopping worker): the lock goes with the connection."""
        self._drop()

    def _drop(self) -> None:
        conn, self._conn, self._exclusive = self._conn, None, False
        if conn is None:
            return
        try:
            conn.invalidate()  # the server ends the session, and with it the lock
            conn.close()
        except sa.exc.SQLAlchemyError:
            pass


def worker_presence(engine: Engine) -> WorkerPresence | None:
    """The live workers' lock on PostgreSQL; None elsewhere (SQLite has its lock file)."""
    return WorkerPresence(engine) if engine.dialect.name == "postgresql" else None
