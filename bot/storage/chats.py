"""Chats and their topic subscriptions.

Many updates of one chat are handled at once (a new user's first commands
arrive together, a button is tapped twice), so every write here converges:
rows a first contact creates are inserted with ON CONFLICT DO NOTHING, and a
use case that reads before it writes first takes the chat's write lock
(`lock_chat`), so it decides from the current state, not a stale one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, delete, select

from bot.briefings.timetable import carried_over, is_briefing_time, next_due, parse_times
from bot.settings import BriefingSettings
from bot.storage import briefings as briefing_store
from bot.storage import filters as filter_store
from bot.storage.models import Chat, Subscription, table_of


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
    table = table_of(model)
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database dialect {dialect}")
    # RETURNING says whether a row went in (rowcount is -1 for this on psycopg).
    key = next(iter(table.primary_key.columns))
    return session.connection().execute(stmt.returning(key)).first() is not None


# Forum-topic subscribers get ids far below any Telegram chat id (about -10**13 at most).
_TOPIC_BASE = -(2**62)
_TOPIC_SPAN = 2**61


def topic_subscriber_id(chat_id: int, thread_id: int) -> int:
    """The subscriber id of one forum topic: the same for the same topic, every time.

    A hash, not a counter, so concurrent first contacts in one topic agree on it
    without reading first; 2**61 values make a collision practically impossible.
    """
    digest = hashlib.blake2b(f"{chat_id}:{thread_id}".encode(), digest_size=8).digest()
    return _TOPIC_BASE - int.from_bytes(digest, "big") % _TOPIC_SPAN


def send_targets(session: Session, ids: Sequence[int]) -> dict[int, tuple[int, int | None]]:
    """Subscriber id -> (Telegram chat id, forum thread) for messages to these subscribers."""
    rows = session.exec(
        select(Chat.id, Chat.parent_id, Chat.thread_id).where(col(Chat.id).in_(list(ids)))
    ).all()
    return {cid: (parent or cid, thread) for cid, parent, thread in rows}


def lock_chat(session: Session, chat_id: int) -> Chat | None:
    """The chat row, locked for this transaction (FOR UPDATE; SQLite: `begin_write`)."""
    return session.get(Chat, chat_id, with_for_update=True, populate_existing=True)


def new_chat(
    chat_id: int,
    *,
    chat_type: str,
    title: str | None,
    defaults: BriefingSettings,
    now: datetime,
    thread_id: int | None = None,
    language: str | None = None,
) -> Chat:
    """A subscriber as `ensure_chat` creates it, not stored (with `thread_id`: that topic
    of the forum `chat_id`)."""
    fresh = Chat(
        id=chat_id if thread_id is None else topic_subscriber_id(chat_id, thread_id),
        parent_id=chat_id if thread_id is not None else None,
        thread_id=thread_id,
        type=chat_type,
        timezone=defaults.timezone,
        title=title,
        language=language,
        briefing_times=" ".join(defaults.times),
        created_at=now,
        updated_at=now,
    )
    fresh.next_briefing_at = next_due(fresh.mode, fresh.briefing_times, fresh.timezone, after=now)
    return fresh


def ensure_chat(
    session: Session,
    chat_id: int,
    *,
    chat_type: str,
    title: str | None,
    defaults: BriefingSettings,
    now: datetime,
    thread_id: int | None = None,
    language: str | None = None,
) -> tuple[Chat, bool]:
    """Return the chat row (locked), creating it with the configured defaults; (chat, created).

    With `thread_id`, the subscriber is that topic of the forum `chat_id`. `language`
    is stored when the chat is created (a private chat starts in its user's language)
    or has none yet; after that only /language changes it.
    """
    fresh = new_chat(
        chat_id,
        chat_type=chat_type,
        title=title,
        defaults=defaults,
        now=now,
        thread_id=thread_id,
        language=language,
    )
    return store_chat(session, fresh, now=now)


def store_chat(session: Session, fresh: Chat, *, now: datetime) -> tuple[Chat, bool]:
    """`ensure_chat` for a subscriber `new_chat` made: the stored row (locked), inserted
    as `fresh` if there was none, its title, type and missing language brought up to date."""
    title, chat_type, language = fresh.title, fresh.type, fresh.language
    chat_id = fresh.id
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
    if chat is None:
        return False
    # A forum's topics share its fate; a topic paused for a reason of its own stays paused.
    for topic in session.exec(select(Chat).where(Chat.parent_id == chat_id)).all():
        if topic.active != active and topic.inactive_reason is None:
            topic.active, topic.updated_at = active, now
            if active:
                _resume(topic, now=now)
            session.add(topic)
    if chat.active == active:
        return False
    chat.active, chat.updated_at = active, now
    if active:
        chat.inactive_reason = None
        _resume(chat, now=now)
    session.add(chat)
    return True


def pause_topic(
    session: Session, chat_id: int, thread_id: int | None, *, reason: str, now: datetime
) -> bool:
    """A forum topic Telegram no longer takes messages in: pause that subscriber only
    (None: the General topic, the forum's own subscriber, and not its other topics)."""
    key = chat_id if thread_id is None else topic_subscriber_id(chat_id, thread_id)
    topic = session.get(Chat, key)
    if topic is None or not topic.active:
        return False
    topic.active, topic.inactive_reason, topic.updated_at = False, reason[:200], now
    session.add(topic)
    return True


TOPIC_CLOSED = "topic_closed"  # Telegram's TOPIC_CLOSED, as a paused topic's reason reads


def resume_topic(
    session: Session, chat_id: int, thread_id: int | None, *, reason: str, now: datetime
) -> bool:
    """A forum topic Telegram takes messages in again: resume its subscriber if `reason`
    paused it (None: the General topic); whether it resumed."""
    key = chat_id if thread_id is None else topic_subscriber_id(chat_id, thread_id)
    topic = session.get(Chat, key)
    if topic is None or topic.active or (topic.inactive_reason or "").lower() != reason:
        return False
    topic.active, topic.inactive_reason, topic.updated_at = True, None, now
    _resume(topic, now=now)  # an instant topic: the news from now on, not the pause's
    session.add(topic)
    return True


def set_stopped(session: Session, chat: Chat, stopped: bool, *, now: datetime) -> None:
    was_stopped = chat.stopped
    chat.stopped, chat.updated_at = stopped, now
    if not stopped:
        if was_stopped:
            _resume(chat, now=now)
        else:
            reschedule(chat, now=now)
    session.add(chat)


def _resume(chat: Chat, *, now: datetime) -> None:
    """Deliveries start again after a pause (/stop, a block): the next briefing is the next
    time's; an instant chat gets the stories from now on, as when it chose instant mode,
    not the pause's backlog (up to a day of stories, a batch a minute)."""
    if chat.mode == "instant":
        chat.instant_since = now
    reschedule(chat, now=now)


def reschedule(
    chat: Chat, *, now: datetime, old_zone: str | None = None, keep_due: bool = False
) -> None:
    """Recompute the next briefing after a change of times, zone (from `old_zone`), mode or a
    pause; never at or before the last briefing's slot, so nothing is sent twice.

    With `keep_due`, a briefing that fell due and was not composed yet (the compose tick
    comes every few seconds) stays due when its time is still one of the chat's.
    """
    if keep_due and _still_due(chat, now):
        return
    after = now
    last = chat.last_briefing_at
    if chat.mode == "scheduled" and last is not None:
        served = carried_over(last, old_zone, chat.timezone) if old_zone else last
        after = max(now, served)
    chat.next_briefing_at = next_due(chat.mode, chat.briefing_times, chat.timezone, after=after)
    if chat.mode == "instant":
        chat.instant_since = chat.instant_since or now


def _still_due(chat: Chat, now: datetime) -> bool:
    """Whether the chat's due time has come and is one of its briefing times."""
    due = chat.next_briefing_at
    if chat.mode != "scheduled" or due is None or due > now:
        return False
    return is_briefing_time(due, parse_times(chat.briefing_times), chat.timezone)


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
    """Move a group that became a supergroup to its new id, keeping its settings.

    The supergroup may have a chat of its own already (a command there came before
    Telegram's notice): it keeps its settings and gains the group's topics, filters and
    delivery history (what the group was sent is not sent again there), and the group
    stops either way, so nothing is composed for both.
    """
    old = session.get(Chat, old_id)
    if old is None:
        return
    if session.get(Chat, new_id) is None:
        data = old.model_dump()
        data.update(id=new_id, type="supergroup", updated_at=now)
        session.add(Chat(**data))
        session.flush()
    kept = set(subscriptions(session, new_id))
    for sub in session.exec(select(Subscription).where(Subscription.chat_id == old_id)).all():
        if sub.topic not in kept:
            session.add(Subscription(chat_id=new_id, topic=sub.topic, created_at=sub.created_at))
        session.delete(sub)
    session.flush()
    filter_store.move_filters(session, old_id, new_id)
    briefing_store.move_deliveries(session, old_id, new_id)
    old.active = False
    session.add(old)
