"""Chats and their topic subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, delete, select

from bot.briefings.timetable import next_briefing, parse_times
from bot.settings import BriefingSettings
from bot.storage.models import Chat, Subscription


def ensure_chat(
    session: Session,
    chat_id: int,
    *,
    chat_type: str,
    title: str | None,
    defaults: BriefingSettings,
    now: datetime,
) -> tuple[Chat, bool]:
    """Return the chat row, creating it with the configured defaults; (chat, created)."""
    chat = session.get(Chat, chat_id)
    if chat is not None:
        if chat.title != title or chat.type != chat_type:
            chat.title, chat.type, chat.updated_at = title, chat_type, now
            session.add(chat)
        return chat, False
    chat = Chat(
        id=chat_id,
        type=chat_type,
        title=title,
        timezone=defaults.timezone,
        briefing_times=" ".join(defaults.times),
        next_briefing_at=next_briefing(parse_times(defaults.times), defaults.timezone, after=now),
        created_at=now,
        updated_at=now,
    )
    session.add(chat)
    session.flush()
    return chat, True


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
    if chat.mode == "scheduled":
        times = parse_times(chat.briefing_times)
        chat.next_briefing_at = next_briefing(times, chat.timezone, after=now)
    elif chat.mode == "instant":
        chat.next_briefing_at = now
        chat.instant_since = chat.instant_since or now
    else:
        chat.next_briefing_at = None


def subscriptions(session: Session, chat_id: int) -> set[str]:
    return set(session.exec(select(Subscription.topic).where(Subscription.chat_id == chat_id)))


def subscribe(session: Session, chat_id: int, topics: Iterable[str], *, now: datetime) -> set[str]:
    """Add subscriptions; return the topics that were newly added."""
    added = set(topics) - subscriptions(session, chat_id)
    for topic in sorted(added):
        session.add(Subscription(chat_id=chat_id, topic=topic, created_at=now))
    session.flush()
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
    """Flip one subscription; return True when the chat is now subscribed."""
    if topic in subscriptions(session, chat_id):
        unsubscribe(session, chat_id, [topic])
        return False
    subscribe(session, chat_id, [topic], now=now)
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
