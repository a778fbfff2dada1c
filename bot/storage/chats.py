"""Chats and their topic subscriptions.

Many updates of one chat are handled at once (a new user's first commands
arrive together, a button is tapped twice), so every write here converges:
rows a first contact creates are inserted with ON CONFLICT DO NOTHING, and a
use case that reads before it writes first takes the chat's write lock
(`lock_chat`), so it decides from the current state, not a stale one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, delete, select

from bot.briefings.timetable import next_due
from bot.settings import BriefingSettings
from bot.storage.models import Chat, Subscription


def begin_write(session: Session) -> None:
    """Start the transaction as a writer (SQLite), before anything is read.

    SQLite's deferred transactions read a snapshot and fail with "database is
    locked" when they later try to write after another writer committed;
    BEGIN IMMEDIATE waits (busy_timeout) for the write lock up front instead.
    PostgreSQL needs nothing here: `lock_chat` takes a row lock.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _insert_ignore(session: Session, model: type[SQLModel], values: dict[str, Any]) -> bool:
    """Insert one row unless its key exists (also one a concurrent writer just added)."""
    dialect = session.get_bind().dialect.name
    table: Any = model.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database dialect {dialect}")
    # RETURNING says whether a row went in (rowcount is -1 for this on psycopg).
    key = next(iter(table.primary_key.columns))
    return session.connection().execute(stmt.returning(key)).first() is not None


def lock_chat(session: Session, chat_id: int) -> Chat | None:
    """The chat row, locked for this transaction (FOR UPDATE; SQLite: `begin_write`)."""
    return session.get(Chat, chat_id, with_for_update=True, populate_existing=True)


def ensure_chat(
    session: Session,
    chat_id: int,
    *,
    chat_type: str,
    title: str | None,
    defaults: BriefingSettings,
    now: datetime,
    language: str | None = None,
) -> tuple[Chat, bool]:
    """Return the chat row (locked), creating it with the configured defaults; (chat, created).

    `language` is stored when the chat is created (a private chat starts in its
    user's language) or has none yet; after that only /language changes it.
    """
    fresh = Chat(
        id=chat_id,
        type=chat_type,
        title=title,
        language=language,
        timezone=defaults.timezone,
        briefing_times=" ".join(defaults.times),
        created_at=now,
        updated_at=now,
    )
    fresh.next_briefing_at = next_due(fresh.mode, fresh.briefing_times, fresh.timezone, after=now)
    created = _insert_ignore(session, Chat, fresh.model_dump())
    chat = lock_chat(session, chat_id)
    assert chat is not None  # inserted now or by a writer that committed first
    if not created and (chat.title != title or chat.type != chat_type):
        chat.title, chat.type, chat.updated_at = title, chat_type, now
        session.add(chat)
        session.flush()
    if not created and chat.language is None and language is not None:
        # A chat from before languages existed: it keeps the language it is spoken to in.
        chat.language, chat.updated_at = language, now
        session.add(chat)
        session.flush()
    return chat, created


def set_active(session: Session, chat_id: int, active: bool, *, now: datetime) -> bool:
    """Mark a chat reachable or not (blocked, kicked); return whether it changed."""
    chat = session.get(Chat, chat_id)
    if chat is None or chat.active == active:
        return False
    chat.active, chat.updated_at = active, now
    if active:
        reschedule(chat, now=now)
    session.add(chat)
    return True


def set_stopped(session: Session, chat: Chat, stopped: bool, *, now: datetime) -> None:
    chat.stopped, chat.updated_at = stopped, now
    if not stopped:
        reschedule(chat, now=now)
    session.add(chat)


def reschedule(chat: Chat, *, now: datetime) -> None:
    """Recompute the next briefing after a change of times, zone, mode or a pause."""
    chat.next_briefing_at = next_due(chat.mode, chat.briefing_times, chat.timezone, after=now)
    if chat.mode == "instant":
        chat.instant_since = chat.instant_since or now


def subscriptions(session: Session, chat_id: int) -> set[str]:
    return set(session.exec(select(Subscription.topic).where(Subscription.chat_id == chat_id)))


def subscribe(session: Session, chat_id: int, topics: Iterable[str], *, now: datetime) -> set[str]:
    """Add subscriptions; return the topics that were newly added."""
    added = set()
    for topic in sorted(set(topics)):
        row = {"chat_id": chat_id, "topic": topic, "created_at": now}
        if _insert_ignore(session, Subscription, row):
            added.add(topic)
    return added


def unsubscribe(session: Session, chat_id: int, topics: Iterable[str] | None) -> set[str]:
    """Remove subscriptions (all when `topics` is None); return those removed."""
    have = subscriptions(session, chat_id)
    removed = have if topics is None else have & set(topics)
    if removed:
        session.exec(
            delete(Subscription).where(
                col(Subscription.chat_id) == chat_id, col(Subscription.topic).in_(removed)
            )
        )
    return removed


def toggle(session: Session, chat_id: int, topic: str, *, now: datetime) -> bool:
    """Flip one subscription; return True when the chat is now subscribed.

    Decided by what the delete finds, not by an earlier read, so the answer
    matches the row even when another transaction changed it meanwhile.
    """
    gone = session.exec(
        delete(Subscription).where(
            col(Subscription.chat_id) == chat_id, col(Subscription.topic) == topic
        )
    )
    if gone.rowcount:
        return False
    _insert_ignore(session, Subscription, {"chat_id": chat_id, "topic": topic, "created_at": now})
    return True


def migrate_chat(session: Session, old_id: int, new_id: int, *, now: datetime) -> None:
    """Move a group that became a supergroup to its new id, keeping its settings."""
    old = session.get(Chat, old_id)
    if old is None or session.get(Chat, new_id) is not None:
        return
    data = old.model_dump()
    data.update(id=new_id, type="supergroup", updated_at=now)
    session.add(Chat(**data))
    session.flush()
    for sub in session.exec(select(Subscription).where(Subscription.chat_id == old_id)).all():
        session.add(Subscription(chat_id=new_id, topic=sub.topic, created_at=sub.created_at))
        session.delete(sub)
    old.active = False
    session.add(old)
