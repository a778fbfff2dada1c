"""A chat's mute words and personal keywords (rows of `chat_filter`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, delete, select

from bot.storage.models import ChatFilter


def chat_filters(session: Session, chat_id: int) -> dict[str, list[str]]:
    """The chat's phrases by kind, oldest first: {"mute": [...], "follow": [...]}."""
    query = (
        select(ChatFilter)
        .where(ChatFilter.chat_id == chat_id)
        .order_by(col(ChatFilter.created_at), col(ChatFilter.phrase))
    )
    found: dict[str, list[str]] = {"mute": [], "follow": []}
    for row in session.exec(query):
        found.setdefault(row.kind, []).append(row.phrase)
    return found


def add_filters(
    session: Session, chat_id: int, kind: str, phrases: Iterable[str], *, now: datetime
) -> None:
    """Insert phrases the chat does not have yet (the caller holds the chat's lock)."""
    for phrase in phrases:
        session.add(ChatFilter(chat_id=chat_id, kind=kind, phrase=phrase, created_at=now))
    session.flush()


def remove_filters(
    session: Session, chat_id: int, kind: str, phrases: Iterable[str] | None
) -> list[str]:
    """Delete phrases of one kind (all when `phrases` is None); return those deleted."""
    have = chat_filters(session, chat_id).get(kind, [])
    gone = have if phrases is None else [p for p in have if p in set(phrases)]
    if gone:
        session.exec(
            delete(ChatFilter).where(
                col(ChatFilter.chat_id) == chat_id,
                col(ChatFilter.kind) == kind,
                col(ChatFilter.phrase).in_(gone),
            )
        )
    return gone


def move_filters(session: Session, old_id: int, new_id: int) -> None:
    """Carry a chat's filters to its new id (a group that became a supergroup); those the
    new id has already stay as they are."""
    query = select(ChatFilter.kind, ChatFilter.phrase).where(ChatFilter.chat_id == new_id)
    kept = set(session.exec(query).all())
    for row in session.exec(select(ChatFilter).where(ChatFilter.chat_id == old_id)).all():
        if (row.kind, row.phrase) not in kept:
            session.add(
                ChatFilter(
                    chat_id=new_id, kind=row.kind, phrase=row.phrase, created_at=row.created_at
                )
            )
        session.delete(row)
