"""Broadcasts: a draft, a compare-and-set confirmation that fills the outbox, a live report.

Nothing is sent before confirmation. Confirming flips the row from `draft`
to `confirmed` with one conditional UPDATE and enqueues one outbox row per
chat in the same transaction, so a second tap (or a tap after Cancel) finds
no draft and does nothing. The paced sender delivers the rows like any
other; the report reads the outbox, so a restart simply carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select, update
from sqlmodel.sql.expression import SelectOfScalar
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.admin import audit
from bot.admin.results import Draft, Progress, Tap, TooLong
from bot.ingest.topics import Topic
from bot.render import tghtml
from bot.render.admin import broadcast_status
from bot.render.entities import Span, split_broadcast
from bot.render.i18n import lang
from bot.services.lookup import UnknownName, resolve_topic, suggest
from bot.storage import chats as chat_store
from bot.storage import outbox
from bot.storage.db import session_scope
from bot.storage.models import Broadcast, Chat, Outbox, Subscription

logger = logging.getLogger(__name__)

DRAFT, CONFIRMED, CANCELLED, DONE = "draft", "confirmed", "cancelled", "done"
KIND = "broadcast"
PRIORITY = 0  # ahead of briefings (10)
REPORT_EVERY = 3.0  # seconds between two progress edits of the status message
FINAL_AFTER = 1.0  # the final report may follow the last progress edit this soon
CHECK_EVERY = 1.0  # how often the report tick looks at running broadcasts
_CHUNK = 500  # outbox rows per INSERT (SQLite's bound-parameter limit)
CONFIRM_PREFIX, CANCEL_PREFIX = "bc:ok:", "bc:no:"


@dataclass(frozen=True)
class Request:
    """A valid `/broadcast` message: its HTML and the topic slug (None: everyone)."""

    html: str
    topic: str | None


@dataclass(frozen=True)
class StatusUpdate:
    """One status message to write, detached from the session."""

    broadcast_id: int
    chat_id: int
    message_id: int | None
    text: str
    final: bool


# ---------------------------------------------------------------- request (pure)


def parse_request(
    text: str, spans: Sequence[Span], topics: Sequence[Topic]
) -> Request | UnknownName | TooLong | None:
    """Take `/broadcast [#topic] text` apart: a request, an unknown topic, a text too long,
    or None when there is no text at all."""
    parts = split_broadcast(text, spans)
    if not parts.plain:
        return None
    if len(parts.plain) > tghtml.MESSAGE_LIMIT:
        return TooLong(len(parts.plain), tghtml.MESSAGE_LIMIT)
    if parts.topic is None:
        return Request(parts.html, None)
    slug = resolve_topic(parts.topic, topics)
    if slug is None:
        return UnknownName(parts.topic, suggest(parts.topic, topics))
    return Request(parts.html, slug)


# ---------------------------------------------------------------- storage


def _audience(topic: str | None) -> SelectOfScalar[int]:
    query = select(Chat.id).where(col(Chat.active), ~col(Chat.stopped))
    if topic:
        follows = (
            select(Subscription.chat_id)
            .where(Subscription.chat_id == Chat.id, Subscription.topic == topic)
            .exists()
        )
        query = query.where(follows)
    return query


def audience_size(session: Session, topic: str | None) -> int:
    """How many chats a broadcast (to a topic, or to all) would reach now."""
    counted = select(sa.func.count()).select_from(_audience(topic).subquery())
    return int(session.exec(counted).one())


def create_draft(
    session: Session,
    *,
    actor: audit.Actor,
    chat_id: int,
    request: Request,
    now: datetime,
) -> Draft:
    """Store a draft with its audience size (nothing is sent yet)."""
    row = Broadcast(
        admin_id=actor.user_id or 0,
        admin_chat_id=chat_id,
        topic=request.topic,
        text=request.html,
        audience=audience_size(session, request.topic),
        created_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return Draft(row.id, row.audience, row.topic)


def set_status_message(session: Session, broadcast_id: int, message_id: int) -> None:
    session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id)
        .values(status_message_id=message_id)
    )


def _take(session: Session, broadcast_id: int, new_status: str, now: datetime) -> bool:
    """Compare-and-set draft → `new_status`; True only for the one caller that wins."""
    values: dict[str, object] = {"status": new_status}
    if new_status == CONFIRMED:
        values["confirmed_at"] = now
    else:
        values["finished_at"] = now
    result = session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.status) == DRAFT)
        .values(**values)
    )
    return int(result.rowcount or 0) == 1


def confirm(
    session: Session, broadcast_id: int, *, actor: audit.Actor, now: datetime
) -> int | None:
    """Confirm a draft and enqueue one row per audience chat; None if it was no draft."""
    if not _take(session, broadcast_id, CONFIRMED, now):
        return None
    row = session.get(Broadcast, broadcast_id)
    assert row is not None
    chat_ids = list(session.exec(_audience(row.topic).order_by(col(Chat.id))).all())
    for start in range(0, len(chat_ids), _CHUNK):
        targets = chat_store.send_targets(session, chat_ids[start : start + _CHUNK])
        messages = [
            outbox.NewMessage(
                chat_id=target,
                thread_id=thread,
                kind=KIND,
                dedup_key=f"bc:{broadcast_id}:{chat_id}",
                text=row.text,
                priority=PRIORITY,
                broadcast_id=broadcast_id,
            )
            for chat_id, (target, thread) in targets.items()
        ]
        # One prebuilt executemany, as composing does: a multi-row VALUES statement
        # compiled per chunk took 30-46 s for 100,000 chats, the tap unanswered and
        # every other write of the bot waiting behind it (BENCHMARKS.md).
        outbox.enqueue_many(session, messages, now=now)
    # Counted, not summed from the inserts: they cannot tell how many rows went in.
    total = progress(session, broadcast_id).total
    row.total, row.reported_at = total, now  # the confirming tap shows the first status
    session.add(row)
    scope = f"topic {row.topic}" if row.topic else "all chats"
    audit.record(
        session, actor, "broadcast", f"#{broadcast_id} to {total} chats ({scope})", now=now
    )
    return total


def tap(
    session: Session, broadcast_id: int, *, confirming: bool, actor: audit.Actor, now: datetime
) -> Tap:
    """Apply a tap on Send (confirming) or Cancel; a tap that comes too late changes nothing."""
    if confirming:
        total = confirm(session, broadcast_id, actor=actor, now=now)
        if total is not None:
            return Tap("queued", broadcast_id, total=total)
    elif cancel(session, broadcast_id, actor=actor, now=now):
        return Tap("cancelled", broadcast_id)
    status = status_of(session, broadcast_id)
    return Tap("already", broadcast_id, status=status, confirming=confirming)


def cancel(session: Session, broadcast_id: int, *, actor: audit.Actor, now: datetime) -> bool:
    """Cancel a draft; False if it was confirmed or cancelled before."""
    if not _take(session, broadcast_id, CANCELLED, now):
        return False
    audit.record(session, actor, "broadcast-cancel", f"#{broadcast_id}", now=now)
    return True


def progress(session: Session, broadcast_id: int) -> Progress:
    """Count the broadcast's outbox rows by outcome."""
    rows = session.exec(
        select(Outbox.status, sa.func.count())
        .where(Outbox.broadcast_id == broadcast_id)
        .group_by(col(Outbox.status))
    ).all()
    counts = dict(rows)
    return Progress(
        sent=counts.get(outbox.SENT, 0),
        blocked=counts.get(outbox.CANCELLED, 0),
        failed=counts.get(outbox.FAILED, 0),
        waiting=counts.get(outbox.PENDING, 0) + counts.get(outbox.SENDING, 0),
    )


REASONS_SHOWN = 5  # the final report names the most common reasons a chat did not get it


def undelivered_reasons(session: Session, broadcast_id: int) -> list[tuple[str, int]]:
    """Why chats did not get the broadcast: Telegram's answers, the most common first."""
    reason = sa.func.coalesce(Outbox.error, "")
    rows = session.exec(
        select(reason, sa.func.count())
        .where(
            Outbox.broadcast_id == broadcast_id,
            col(Outbox.status).in_([outbox.FAILED, outbox.CANCELLED]),
        )
        .group_by(reason)
        .order_by(sa.func.count().desc(), reason)
        .limit(REASONS_SHOWN)
    ).all()
    return [(str(text), int(count)) for text, count in rows]


def waits_until(session: Session, broadcast_id: int) -> datetime | None:
    """The latest time an unsent row of the broadcast may go: a chat's flood hold (which can
    last an hour) or the whole bot's, whichever ends last; None when nothing waits."""
    latest = session.exec(
        select(sa.func.max(Outbox.not_before)).where(
            Outbox.broadcast_id == broadcast_id,
            col(Outbox.status).in_([outbox.PENDING, outbox.SENDING]),
        )
    ).one()
    held = outbox.hold_until(session)
    return max((t for t in (latest, held) if t is not None), default=None)


# ---------------------------------------------------------------- live report


def due_reports(session: Session, *, now: datetime, per_second: float) -> list[StatusUpdate]:
    """Status messages of running broadcasts that are due for an edit."""
    running = session.exec(select(Broadcast).where(Broadcast.status == CONFIRMED)).all()
    updates = []
    for row in running:
        assert row.id is not None
        done = progress(session, row.id)
        final = done.waiting == 0
        since = (now - row.reported_at).total_seconds() if row.reported_at else REPORT_EVERY
        if since < (FINAL_AFTER if final else REPORT_EVERY):
            continue
        chat = session.get(Chat, row.admin_chat_id)
        text = broadcast_status(
            row.id,
            done,
            started=row.confirmed_at,
            now=now,
            per_second=per_second,
            lang=lang(chat.language if chat is not None else None),
            reasons=undelivered_reasons(session, row.id) if final else (),
            waits_until=None if final else waits_until(session, row.id),
        )
        if text == row.report and not final:
            continue
        updates.append(StatusUpdate(row.id, row.admin_chat_id, row.status_message_id, text, final))
    return updates


def record_report(
    session: Session, shown: StatusUpdate, *, message_id: int | None, now: datetime
) -> None:
    """Remember what the status message says; a final report closes the broadcast."""
    row = session.get(Broadcast, shown.broadcast_id)
    if row is None or row.status != CONFIRMED:
        return
    row.report, row.reported_at = shown.text, now
    row.status_message_id = message_id or row.status_message_id
    if shown.final:
        row.status, row.finished_at = DONE, now
    session.add(row)


async def report_progress(
    bot: Bot, engine: Engine, *, per_second: float, clock: Callable[[], datetime]
) -> int:
    """Edit the status message of each running broadcast; return how many were shown."""

    def collect() -> list[StatusUpdate]:
        with session_scope(engine) as session:
            return due_reports(session, now=clock(), per_second=per_second)

    shown = 0
    for item in await asyncio.to_thread(collect):
        message_id = await _show(bot, item)
        if message_id is None:
            continue

        def store(item: StatusUpdate = item, message_id: int = message_id) -> None:
            with session_scope(engine) as session:
                record_report(session, item, message_id=message_id, now=clock())

        await asyncio.to_thread(store)
        shown += 1
        if item.final:
            logger.info("broadcast done id=%s report=%r", item.broadcast_id, item.text)
    return shown


async def _show(bot: Bot, item: StatusUpdate) -> int | None:
    """Edit the status message (or send a new one if it is gone); return its id."""
    if item.message_id is not None:
        try:
            await bot.edit_message_text(
                item.text, item.chat_id, item.message_id, parse_mode=ParseMode.HTML
            )
            return item.message_id
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return item.message_id
            logger.info("status message gone broadcast_id=%s: %s", item.broadcast_id, exc.message)
        except TelegramError as exc:
            logger.warning("status edit failed broadcast_id=%s: %s", item.broadcast_id, exc)
            return None
    try:
        message = await bot.send_message(item.chat_id, item.text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        logger.warning("status send failed broadcast_id=%s: %s", item.broadcast_id, exc)
        return None
    return message.message_id


def status_of(session: Session, broadcast_id: int) -> str:
    row = session.get(Broadcast, broadcast_id)
    return row.status if row is not None else "deleted"
