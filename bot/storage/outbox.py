"""The outbox: messages waiting for Telegram, claimed with leases, marked after acceptance.

A row is `pending` until a sender claims it (`sending`, with a lease); it is
`sent` only after Telegram accepted it. A sender that dies leaves its rows
`sending` with a lease that expires, and then any sender may take them again;
so only rows in flight at a crash can go out twice. On PostgreSQL a claim also says
whose it is (`claimed_by`, the worker's presence id): the living hand a dead worker's
rows back soon after it goes, long before their leases end (bot/storage/presence.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select, update

from bot.storage.models import FloodHold, Outbox, WorkerHeartbeat, table_of

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"


@dataclass(frozen=True)
class NewMessage:
    chat_id: int
    kind: str
    dedup_key: str
    text: str
    reply_markup: str | None = None
    priority: int = 10
    broadcast_id: int | None = None
    thread_id: int | None = None  # forum topic
    options: str | None = None  # JSON send options (bot.briefings.layout), None: plain text


@dataclass(frozen=True)
class Claimed:
    """A claimed row, detached from its session."""

    id: int
    chat_id: int
    text: str
    reply_markup: str | None
    attempts: int
    kind: str
    thread_id: int | None = None
    options: str | None = None
    owner: int | None = None  # the presence id it was claimed under (None on SQLite)


def _row(m: NewMessage, now: datetime) -> dict[str, Any]:
    """The outbox row for a new message: pending, never tried, due now."""
    return {
        "chat_id": m.chat_id,
        "kind": m.kind,
        "dedup_key": m.dedup_key,
        "priority": m.priority,
        "text": m.text,
        "reply_markup": m.reply_markup,
        "options": m.options,
        "status": PENDING,
        "attempts": 0,
        "not_before": now,
        "created_at": now,
        "broadcast_id": m.broadcast_id,
        "thread_id": m.thread_id,
    }


def enqueue(session: Session, messages: Sequence[NewMessage], *, now: datetime) -> int:
    """Insert messages; a `dedup_key` seen before is skipped. Return rows inserted."""
    if not messages:
        return 0
    values = [_row(m, now) for m in messages]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Outbox)
        .values(values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(col(Outbox.id))  # rowcount is -1 on PostgreSQL for this form
    )
    return len(session.execute(stmt).all())


_BULK_INSERT: dict[str, Any] = {}


def _bulk_insert(dialect: str) -> Any:
    """One prebuilt INSERT … ON CONFLICT (dedup_key) DO NOTHING per dialect."""
    stmt = _BULK_INSERT.get(dialect)
    if stmt is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = table_of(Outbox)
        stmt = insert(table).on_conflict_do_nothing(index_elements=["dedup_key"])
        _BULK_INSERT[dialect] = stmt
    return stmt


def enqueue_many(session: Session, messages: Sequence[NewMessage], *, now: datetime) -> None:
    """Insert many messages in one executemany; a `dedup_key` seen before is skipped.

    For large batches (composing briefings): unlike `enqueue` it does not
    count the rows that went in, which an executemany cannot tell reliably.
    """
    if not messages:
        return
    values = [_row(m, now) for m in messages]
    session.connection().execute(_bulk_insert(session.get_bind().dialect.name), values)


_FINISHED: list[sa.ColumnElement[Any]] = [
    sa.literal_column(f"'{status}'") for status in (SENT, FAILED, CANCELLED)
]


def due_query(now: datetime, limit: int, dialect: str) -> sa.Select[*tuple[Any, ...]]:
    """Due rows in (priority, id) order: a walk of `ix_outbox_queue` that stops at `limit`.

    The status conditions are literals worded as the partial indexes' own
    (models.OUTBOX_UNSENT, OUTBOX_SENDING), so that both databases may use them
    whatever the bound values; and no condition offers `ix_outbox_due`, which would
    have every due row found and sorted before the first is taken.
    """
    other = sa.orm.aliased(Outbox)
    # A chat whose rows another sender holds stays with that sender, so one
    # chat's messages keep their order and its per-chat pace.
    held = (
        select(other.id)
        .where(other.chat_id == Outbox.chat_id)
        .where(col(other.status) == sa.literal_column(f"'{SENDING}'"))
        .where(col(other.lease_until) >= now)
        .exists()
    )
    due = (
        sa.select(
            col(Outbox.id),
            col(Outbox.chat_id),
            col(Outbox.text),
            col(Outbox.reply_markup),
            col(Outbox.attempts),
            col(Outbox.kind),
            col(Outbox.thread_id),
            col(Outbox.options),
        )
        .where(col(Outbox.status).not_in(_FINISHED))
        .where(col(Outbox.not_before) <= now, ~held)
        # Unfinished and not pending is sending: then only once its lease has expired.
        .where(sa.or_(col(Outbox.status) == PENDING, col(Outbox.lease_until) < now))
        .order_by(col(Outbox.priority), col(Outbox.id))
        .limit(limit)
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return due


def claim_due(
    session: Session, *, now: datetime, limit: int, lease: timedelta, owner: int | None = None
) -> list[Claimed]:
    """Take up to `limit` due rows (pending, or sending with an expired lease) for `owner`
    (the claiming worker's presence id; None on SQLite)."""
    due = due_query(now, limit, session.get_bind().dialect.name)
    # Columns, not ORM entities, and one UPDATE for the batch: loading entities and
    # flushing them row by row cost ~250 µs a row (BENCHMARKS.md, paid broadcast round).
    rows: Sequence[Any] = session.connection().execute(due).all()
    if rows:
        session.exec(
            update(Outbox)
            .where(col(Outbox.id).in_([row[0] for row in rows]))
            .values(
                status=SENDING,
                lease_until=now + lease,
                attempts=col(Outbox.attempts) + 1,
                claimed_by=owner,
            )
            .execution_options(synchronize_session=False)
        )
    return [
        Claimed(row_id, chat_id, text, markup, attempts + 1, kind, thread_id, options, owner)
        for row_id, chat_id, text, markup, attempts, kind, thread_id, options in rows
    ]


def mark_sent(session: Session, row_id: int, *, message_id: int, now: datetime) -> None:
    session.exec(
        update(Outbox)
        .where(col(Outbox.id) == row_id)
        .values(status=SENT, telegram_message_id=message_id, sent_at=now, lease_until=None)
    )


_MARK_SENT_MANY = (
    sa.update(Outbox.__table__)  # type: ignore[attr-defined]
    .where(sa.column("id") == sa.bindparam("row_id"))
    .values(
        status=SENT,
        telegram_message_id=sa.bindparam("message_id"),
        sent_at=sa.bindparam("sent_at", type_=Outbox.__table__.c.sent_at.type),  # type: ignore[attr-defined]
        lease_until=None,
    )
)


def mark_sent_many(session: Session, sent: Sequence[tuple[int, int, datetime]]) -> None:
    """Mark rows sent: (row id, Telegram message id, sent at), in one executemany."""
    if sent:
        params = [{"row_id": r, "message_id": m, "sent_at": at} for r, m, at in sent]
        session.connection().execute(_MARK_SENT_MANY, params)


def renew_leases(session: Session, leases: Mapping[int, datetime], *, until: datetime) -> set[int]:
    """Extend the leases a sender still holds (e.g. waiting out a flood hold) to `until`.

    `leases` maps each row to the end of the lease the sender last wrote: a row whose
    lease is no longer that one was claimed by another sender after it lapsed, and is
    left to it. Returns the rows renewed.
    """
    by_end: dict[datetime, list[int]] = {}
    for row_id, end in leases.items():
        by_end.setdefault(end, []).append(row_id)
    renewed: set[int] = set()
    for end, row_ids in by_end.items():
        for i in range(0, len(row_ids), 500):  # stay under SQLite's bound-parameter limit
            query = (
                update(Outbox)
                .where(col(Outbox.id).in_(row_ids[i : i + 500]))
                .where(col(Outbox.status) == SENDING, col(Outbox.lease_until) == end)
                .values(lease_until=until)
                .returning(col(Outbox.id))
            )
            renewed.update(int(row[0]) for row in session.exec(query).all())
    return renewed


def mark_retry(session: Session, row_id: int, *, not_before: datetime, error: str | None) -> None:
    """Put a row back for another try at `not_before` (not one cancelled meanwhile)."""
    session.exec(
        update(Outbox)
        .where(col(Outbox.id) == row_id, col(Outbox.status).in_([PENDING, SENDING]))
        .values(
            status=PENDING, not_before=not_before, lease_until=None, error=error, claimed_by=None
        )
    )


def mark_failed(session: Session, row_id: int, *, error: str, status: str = FAILED) -> None:
    session.exec(
        update(Outbox)
        .where(col(Outbox.id) == row_id)
        .values(status=status, error=error[:500], lease_until=None)
    )


def cancel_chat(session: Session, chat_id: int, *, reason: str) -> int:
    """Cancel every unsent row of a chat that can no longer be reached."""
    result = session.exec(
        update(Outbox)
        .where(col(Outbox.chat_id) == chat_id, col(Outbox.status).in_([PENDING, SENDING]))
        .values(status=CANCELLED, error=reason[:500], lease_until=None)
    )
    return int(result.rowcount or 0)


def cancel_briefings(session: Session, chat_id: int, thread_id: int | None, *, reason: str) -> int:
    """Cancel the briefings and instant messages not yet sent to one subscriber (a chat, or
    a forum topic's thread): it said /stop or /schedule off. A row already on its way to
    Telegram may still arrive; one put back for a later try is not revived."""
    thread = col(Outbox.thread_id)
    result = session.exec(
        update(Outbox)
        .where(
            col(Outbox.chat_id) == chat_id,
            thread.is_(None) if thread_id is None else thread == thread_id,
            col(Outbox.kind).in_(["briefing", "instant"]),
            col(Outbox.status).in_([PENDING, SENDING]),
        )
        .values(status=CANCELLED, error=reason[:500], lease_until=None)
    )
    return int(result.rowcount or 0)


def cancel_thread(session: Session, chat_id: int, thread_id: int | None, *, reason: str) -> int:
    """Cancel every unsent row of one forum topic that is gone or closed (None: General)."""
    result = session.exec(
        update(Outbox)
        .where(
            col(Outbox.chat_id) == chat_id,
            col(Outbox.thread_id) == thread_id,
            col(Outbox.status).in_([PENDING, SENDING]),
        )
        .values(status=CANCELLED, error=reason[:500], lease_until=None)
    )
    return int(result.rowcount or 0)


def move_chat(session: Session, old_id: int, new_id: int) -> None:
    """Point unsent rows of a migrated group at its new supergroup id."""
    session.exec(
        update(Outbox)
        .where(col(Outbox.chat_id) == old_id, col(Outbox.status).in_([PENDING, SENDING]))
        .values(chat_id=new_id)
    )


def pending_count(session: Session) -> int:
    query = select(sa.func.count()).select_from(Outbox)
    return int(session.exec(query.where(col(Outbox.status).in_([PENDING, SENDING]))).one())


def release_claims(session: Session, *, unowned_only: bool = False) -> int:
    """Put every `sending` row back to `pending`, and forget every sender's heartbeat.

    Only for a sender that starts alone (one process per SQLite file; on PostgreSQL the
    live-workers lock says so): rows claimed before a crash need not wait for their
    leases to expire, and a dead sender's heartbeat must not halve the new one's rate
    for HEARTBEAT_TTL. `unowned_only` (PostgreSQL): only rows that name no claimant
    (claimed before `claimed_by` existed); a named claimant's rows go back through
    `hand_back_owned` once its death is certain (bot/storage/presence.py says when).
    """
    query = update(Outbox).where(col(Outbox.status) == SENDING)
    if unowned_only:
        query = query.where(col(Outbox.claimed_by).is_(None))
    result = session.exec(query.values(status=PENDING, lease_until=None, claimed_by=None))
    session.exec(sa.delete(WorkerHeartbeat))
    return int(result.rowcount or 0)


def sending_owners(session: Session) -> list[int]:
    """The presence ids that `sending` rows name (one walk of `ix_outbox_held`'s rows)."""
    query = (
        sa.select(col(Outbox.claimed_by))
        .where(col(Outbox.status) == sa.literal_column(f"'{SENDING}'"))
        .where(col(Outbox.claimed_by).is_not(None))
        .distinct()
    )
    return [int(owner) for owner in session.connection().execute(query).scalars() if owner]


def hand_back_owned(session: Session, owners: Sequence[int]) -> int:
    """Put the `sending` rows of these (dead) claimants back to `pending`; return how many."""
    if not owners:
        return 0
    result = session.exec(
        update(Outbox)
        .where(col(Outbox.status) == SENDING, col(Outbox.claimed_by).in_(list(owners)))
        .values(status=PENDING, lease_until=None, claimed_by=None)
    )
    return int(result.rowcount or 0)


HEARTBEAT_TTL = timedelta(seconds=15)


def heartbeat(session: Session, worker_id: str, *, now: datetime) -> int:
    """Record a sender as alive now; return the number of live senders."""
    row = session.get(WorkerHeartbeat, worker_id)
    if row is None:
        row = WorkerHeartbeat(id=worker_id, seen_at=now)
    row.seen_at = now
    session.add(row)
    session.flush()
    live = select(sa.func.count()).select_from(WorkerHeartbeat)
    return int(session.exec(live.where(col(WorkerHeartbeat.seen_at) > now - HEARTBEAT_TTL)).one())


def hold_until(session: Session) -> datetime | None:
    """When the last flood hold ends (None when there is none)."""
    row = session.get(FloodHold, "global")
    return row.until if row is not None else None


_CHAT_HOLD = "chat:"  # the scope of one chat's hold: "chat:<id>"


def chat_holds(session: Session, *, now: datetime) -> dict[int, datetime]:
    """Chats held by a flood wait of their own, and when each hold ends (the ended go)."""
    chats = col(FloodHold.scope).startswith(_CHAT_HOLD)
    session.exec(sa.delete(FloodHold).where(chats, col(FloodHold.until) <= now))
    rows = session.exec(select(FloodHold).where(chats)).all()
    return {int(row.scope.removeprefix(_CHAT_HOLD)): row.until for row in rows}


def extend_hold(session: Session, until: datetime, *, chat_id: int | None = None) -> None:
    """Record a 429's hold (of every chat, or of `chat_id`'s) so every sender, and the
    next start, honour it."""
    scope = "global" if chat_id is None else f"{_CHAT_HOLD}{chat_id}"
    row = session.get(FloodHold, scope)
    if row is None:
        session.add(FloodHold(scope=scope, until=until))
    elif row.until < until:
        row.until = until
        session.add(row)
