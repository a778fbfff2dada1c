"""Queries for the gauges that describe shared state (the same for every process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.storage.models import Chat, Feed, FloodHold, Outbox

PENDING_STATES = ("pending", "sending")


@dataclass(frozen=True)
class SharedGauges:
    outbox_pending: int = 0
    oldest_pending_age: float = 0.0  # seconds; 0 when nothing waits
    flood_hold: float = 0.0  # seconds left of Telegram's last retry_after
    feeds: dict[str, int] = field(default_factory=dict)  # ok | failing | paused
    active_chats: dict[str, int] = field(default_factory=dict)  # by mode


def oldest_pending_age(session: Session, *, now: datetime) -> float:
    """Seconds since the oldest unsent outbox row was written (0 when none waits)."""
    oldest = session.exec(
        select(func.min(Outbox.created_at)).where(col(Outbox.status).in_(PENDING_STATES))
    ).one()
    if oldest is None:
        return 0.0
    return max(0.0, (now - oldest).total_seconds())


def shared_gauges(session: Session, *, now: datetime) -> SharedGauges:
    """Outbox backlog, flood hold, feeds by state and active chats by mode, as of `now`."""
    pending = session.exec(
        select(func.count()).select_from(Outbox).where(col(Outbox.status).in_(PENDING_STATES))
    ).one()
    hold = session.get(FloodHold, "global")
    state = sa.case(
        (col(Feed.paused), "paused"), (col(Feed.consecutive_failures) > 0, "failing"), else_="ok"
    )
    feeds = {"ok": 0, "failing": 0, "paused": 0}
    for name, count in session.exec(
        select(state, func.count()).where(col(Feed.enabled)).group_by(state)
    ):
        feeds[str(name)] = int(count)
    chats = {"scheduled": 0, "instant": 0, "off": 0}
    for mode, count in session.exec(
        select(Chat.mode, func.count())
        .where(col(Chat.active), ~col(Chat.stopped))
        .group_by(Chat.mode)
    ):
        chats[mode] = int(count)
    return SharedGauges(
        outbox_pending=int(pending),
        oldest_pending_age=oldest_pending_age(session, now=now),
        flood_hold=max(0.0, (hold.until - now).total_seconds()) if hold else 0.0,
        feeds=feeds,
        active_chats=chats,
    )
