"""Channels users manage from their private chats (rows of `channel_manager`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete, select, update

from bot.storage.models import ChannelManager, Chat


def managed(session: Session, user_id: int) -> list[tuple[Chat, bool]]:
    """The channels a user manages, with whether each is the one acted on now."""
    query = (
        select(Chat, ChannelManager.current)
        .join(ChannelManager, col(ChannelManager.channel_id) == Chat.id)
        .where(ChannelManager.user_id == user_id)
        .order_by(col(ChannelManager.created_at))
    )
    return [(chat, bool(current)) for chat, current in session.exec(query).all()]


def current(session: Session, user_id: int) -> Chat | None:
    """The channel a user's subscriber commands act on now, if any."""
    query = (
        select(Chat)
        .join(ChannelManager, col(ChannelManager.channel_id) == Chat.id)
        .where(ChannelManager.user_id == user_id, col(ChannelManager.current))
    )
    return session.exec(query).first()


def set_current(session: Session, user_id: int, channel_id: int | None, *, now: datetime) -> None:
    """Act on `channel_id` from now on (None: on the user's own chat again)."""
    session.exec(
        update(ChannelManager).where(col(ChannelManager.user_id) == user_id).values(current=False)
    )
    if channel_id is None:
        return
    row = session.get(ChannelManager, (user_id, channel_id))
    if row is None:
        row = ChannelManager(user_id=user_id, channel_id=channel_id, created_at=now)
    row.current = True
    session.add(row)


def forget(session: Session, user_id: int, channel_id: int) -> None:
    """The user is no channel admin any more: drop the row."""
    session.exec(
        delete(ChannelManager).where(
            col(ChannelManager.user_id) == user_id, col(ChannelManager.channel_id) == channel_id
        )
    )


def managers_of(session: Session, channel_id: int) -> list[int]:
    """The users who manage a channel from their private chats."""
    query = select(ChannelManager.user_id).where(ChannelManager.channel_id == channel_id)
    return sorted(session.exec(query).all())
