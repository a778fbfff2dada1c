"""Which workers live, on PostgreSQL, and whose `sending` rows may go back to the queue.

Two kinds of advisory lock, each held on one connection of the worker's own (the
server drops a lock the moment its session ends, a killed process's included):

- **The workers' lock**, shared by every live worker. A worker that starts and can take
  it *exclusively* is alone: rows that name no claimant (claimed before `claimed_by`
  existed) go back at once, and the dead senders' heartbeats are forgotten.
- **An id of its own**, a random 62-bit number whose lock (the one-bigint form) the worker
  holds beside the shared one. Every row it claims names it (`outbox.claimed_by`). An id
  lives exactly as long as the session that took it: a worker whose lock connection
  broke joins again under a *new* id and never takes an old one again, so an id whose
  lock is free once is free for good, and its rows can never become live again.

Every few seconds (`keep()`, the presence tick) each worker proves it still holds its
lock (a query on the lock's session, which must still be the same backend) and looks at
the ids that `sending` rows name: an id whose lock it can take (momentarily, for its
transaction) is dead, and once this worker has seen it dead for `GRACE_SECONDS` its rows
go back to `pending`, in one UPDATE.

Why this cannot send a message twice (beyond the at-least-once window a crash between
Telegram's answer and the "sent" mark always leaves). A worker sends a row only if the
row was claimed under its current id and its last successful check *began* less than
`PROOF_SECONDS - SEND_MARGIN` ago (`standing()`; one clock read per row, no query). That
check ran on the lock's session, so the lock was still held at some instant after the
check began: if the session broke later, at `t_break`, the worker's last send starts
before `t_break + PROOF_SECONDS - SEND_MARGIN`. A peer can only see the lock free after
`t_break`, and hands the rows back `GRACE_SECONDS` (> `PROOF_SECONDS`) after seeing that,
so after the owner's last send has started, with `GRACE_SECONDS - PROOF_SECONDS +
SEND_MARGIN` seconds for that request to reach Telegram. Only durations are compared, on
each process's monotonic clock: wall clocks may disagree. A worker whose check is late
(its thread starved) stops sending until a check succeeds; if the check finds the session
gone it joins under a new id at once, and the rows claimed under the old one are let go
unsent: they go back through the grace like any dead worker's, the same worker's reaper
included. Waiting one grace is also why a worker starting *alone* no longer hands back
every `sending` row at once: alone means no other worker holds the shared lock, and a
worker whose lock connection just broke holds none, yet may still send for a few seconds.
So a killed worker's rows go back about `GRACE_SECONDS` (plus a check period) after the
kill, whether other workers live or one starts after it.

Why nothing is lost: a row whose claimant died stays `sending` under a dead id until some
worker's reaper hands it back (a claim that commits after its owner's rows went back is
seen on the next check), or its lease ends as before. Peers that reap together take the
same rows in one UPDATE each; row locks serialise them, the second finds nothing.

Session locks need a session: behind PgBouncer, use session pooling (the migration lock
needs it too).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.storage import outbox
from bot.storage.db import one_line, session_scope

logger = logging.getLogger(__name__)

# The live workers' advisory lock: (a constant, a hash of the schema), so that bots whose
# tables live in different schemas of one database do not count each other (a collision
# only makes a worker think it is not alone: its leftover claims wait for their leases).
WORKERS_LOCK_CLASS = 0x6E657774  # "newt"


# How long after the start of its last successful check a worker may still start a send,
# and how long a peer waits, after first seeing an id's lock free, before handing its
# rows back. The check runs every couple of seconds (handlers.jobs.PRESENCE_EVERY): a
# proof outlives two missed checks before the sender pauses.
PROOF_SECONDS = 6.0
SEND_MARGIN = 1.0  # no send starts this close to the proof's end
GRACE_SECONDS = 10.0  # > PROOF_SECONDS: time for the last send to reach Telegram
STALE_POLL = 0.1  # how often a send waiting for a late check looks again

LIVE, STALE, GONE = "live", "stale", "gone"  # a claim's standing (see `standing`)


def _key() -> tuple[Any, Any]:
    return (WORKERS_LOCK_CLASS, sa.func.hashtext(sa.func.current_schema()))


def _new_id() -> int:
    """A fresh worker id: positive, 62 bits (the one-bigint advisory key space)."""
    return secrets.randbits(62) + 1


class WorkerPresence:
    """This worker's share of the workers' lock and its own id's lock; `alone` when no
    other worker held the shared lock at `acquire`."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.alone = False
        self.clock = clock
        self._conn: Connection | None = None
        self._backend = 0  # the lock session's server process: a new one holds no lock
        self._exclusive = False
        # (id, when the last check that found its lock held began); None while not joined.
        self._proof: tuple[int, float] | None = None
        self._dead: dict[int, float] = {}  # ids seen with their lock free -> first seen

    @property
    def owner(self) -> int | None:
        """This worker's current id (None while it is not joined)."""
        proof = self._proof
        return proof[0] if proof is not None else None

    def claimant(self) -> int | None:
        """The id to claim rows under now; None while this worker cannot prove it lives."""
        proof = self._proof
        if proof is None or self.clock() + SEND_MARGIN >= proof[1] + PROOF_SECONDS:
            return None
        return proof[0]

    def standing(self, owner: int) -> str:
        """Whether a row claimed under `owner` may be sent now: LIVE; STALE (still this
        worker's id, but its last check is too old: wait for the next); GONE (an id this
        worker lost: never send it, its rows go back through the grace)."""
        proof = self._proof
        if proof is None or proof[0] != owner:
            return GONE
        return LIVE if self.clock() + SEND_MARGIN < proof[1] + PROOF_SECONDS else STALE

    def acquire(self) -> bool:
        """Join the live workers; True when none other was alive (hold on until `settle`).

        While the lone starter holds the lock exclusively, a worker starting beside it
        waits in `acquire` until it settles: it cannot start claiming rows in between.
        A database that cannot be reached now makes this worker not alone and a warning;
        `keep()` joins later."""
        try:
            conn = self.engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("cannot join the workers' lock yet error=%s", one_line(exc))
            return False
        try:
            taken = conn.execute(sa.select(sa.func.pg_try_advisory_lock(*_key())))
            alone = bool(taken.scalar())
            self._join(conn)
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("cannot join the workers' lock yet error=%s", one_line(exc))
            self._conn = conn
            self._drop()
            return False
        self.alone, self._exclusive = alone, alone
        return alone

    def _join(self, conn: Connection) -> None:
        """Take the shared lock and a new id's lock on `conn`; this worker may send now."""
        began = self.clock()
        conn.execute(sa.select(sa.func.pg_advisory_lock_shared(*_key())))
        owner = _new_id()
        backend = conn.execute(
            sa.select(sa.func.pg_advisory_lock(sa.literal(owner, sa.BigInteger))).add_columns(
                sa.func.pg_backend_pid()
            )
        ).one()[1]
        conn.commit()
        self._conn, self._backend, self._proof = conn, int(backend), (owner, began)
        logger.info("joined the live workers worker_id=%d", owner)

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
        """Prove that this worker still holds its locks, or join again under a new id;
        then hand back the rows of ids dead for a grace (`reap`).

        False (and a warning) while the database cannot be reached; the next call tries
        again, and meanwhile this worker claims and sends nothing."""
        if self._conn is not None and self._proof is not None:
            began = self.clock()
            owner = self._proof[0]
            try:
                backend = self._conn.execute(sa.select(sa.func.pg_backend_pid())).scalar()
                self._conn.commit()
            except sa.exc.SQLAlchemyError as exc:
                backend, why = None, one_line(exc)
            else:
                why = f"a new server session {backend} (was {self._backend})"
            if backend == self._backend:
                self._proof = (owner, began)
                self.reap()
                return True
            logger.warning(
                "workers' lock connection lost, not sending until joined again "
                "worker_id=%d error=%s",
                owner,
                why,
            )
            self._drop()
        try:
            conn = self.engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("cannot join the workers' lock yet error=%s", one_line(exc))
            return False
        try:
            self._join(conn)
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("cannot join the workers' lock yet error=%s", one_line(exc))
            self._conn = conn
            self._drop()  # the connection opened meanwhile goes back, closed
            return False
        self.reap()
        return True

    def reap(self) -> int:
        """Hand back the `sending` rows of ids whose lock this worker has seen free for
        `GRACE_SECONDS`; return how many went back. Errors are logged, not raised."""
        now, mine = self.clock(), self.owner
        try:
            with session_scope(self.engine) as session:
                owners = [o for o in outbox.sending_owners(session) if o != mine]
                self._dead = {o: t for o, t in self._dead.items() if o in owners}
                conn = session.connection()
                for owner in owners:
                    if owner in self._dead:
                        continue
                    free = sa.select(
                        sa.func.pg_try_advisory_xact_lock(sa.literal(owner, sa.BigInteger))
                    )
                    if conn.execute(free).scalar():
                        self._dead[owner] = now
                dead = [o for o, seen in self._dead.items() if now - seen >= GRACE_SECONDS]
                handed = outbox.hand_back_owned(session, dead)
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("could not look for stopped workers' rows error=%s", one_line(exc))
            return 0
        for owner in dead:
            self._dead.pop(owner, None)
        if handed:
            logger.info(
                "outbox rows of a stopped worker, sending again: %d worker_ids=%s", handed, dead
            )
        return handed

    def release(self) -> None:
        """Leave (a stopping worker): the locks are let go, then the connection closes.

        Let go first, because a closed connection's server session ends a moment after
        the client has gone, and until it has, its locks are held: a worker started right
        after this one stops would not find itself alone."""
        if self._conn is not None:
            try:
                self._conn.execute(sa.select(sa.func.pg_advisory_unlock_all()))
                self._conn.commit()
            except sa.exc.SQLAlchemyError:
                pass  # the connection is gone already, and its locks with it
        self._drop()

    def _drop(self) -> None:
        conn, self._conn, self._exclusive, self._proof = self._conn, None, False, None
        if conn is None:
            return
        try:
            conn.invalidate()  # the server ends the session, and with it the locks
            conn.close()
        except sa.exc.SQLAlchemyError:
            pass


def worker_presence(engine: Engine) -> WorkerPresence | None:
    """The live workers' lock on PostgreSQL; None elsewhere (SQLite has its lock file)."""
    return WorkerPresence(engine) if engine.dialect.name == "postgresql" else None
