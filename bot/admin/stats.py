"""Health numbers for /stats: chats, subscriptions, stories, messages, feeds, per-day series."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.admin.results import DailySeries, Stats, StatsReport
from bot.storage import outbox
from bot.storage.models import Chat, Entry, Feed, Outbox, Story, Subscription

DAY = timedelta(hours=24)
CHART_DAYS = 14


def _count(session: Session, query: Any) -> int:
    return int(session.exec(select(sa.func.count()).select_from(query.subquery())).one())


def collect_stats(session: Session, *, now: datetime) -> Stats:
    """Counts for /stats; "24 h" means the 24 hours before `now`."""
    since = now - DAY
    reachable = select(Chat.id).where(col(Chat.active))
    subscribers = session.exec(
        select(Subscription.topic, sa.func.count())
        .join(Chat, col(Chat.id) == Subscription.chat_id)
        .where(col(Chat.active), ~col(Chat.stopped))
        .group_by(col(Subscription.topic))
    ).all()
    stories = _count(session, select(Story.id).where(col(Story.first_seen_at) >= since))
    entries = _count(session, select(Entry.id).where(col(Entry.seen_at) >= since))
    messages = dict(
        session.exec(
            select(Outbox.status, sa.func.count())
            .where(sa.func.coalesce(Outbox.sent_at, Outbox.created_at) >= since)
            .group_by(col(Outbox.status))
        ).all()
    )
    enabled = select(Feed.id).where(col(Feed.enabled))
    return Stats(
        active=_count(session, reachable.where(~col(Chat.stopped))),
        unreachable=_count(session, select(Chat.id).where(~col(Chat.active))),
        stopped=_count(session, reachable.where(col(Chat.stopped))),
        subscribers=dict(subscribers),
        stories=stories,
        # Each new story has one founding entry; every other new entry joined a story.
        merged=max(0, entries - stories),
        sent=messages.get(outbox.SENT, 0),
        failed=messages.get(outbox.FAILED, 0),
        cancelled=messages.get(outbox.CANCELLED, 0),
        feeds=_count(session, enabled),
        # A paused feed failed too, but it is counted once: as paused, not also as failing.
        failing=_count(
            session, enabled.where(col(Feed.failing_since).is_not(None), ~col(Feed.paused))
        ),
        paused=_count(session, enabled.where(col(Feed.paused))),
    )


def _per_day(session: Session, column: Any, where: Any) -> dict[date, int]:
    day = sa.func.date(column)  # SQLite returns text, PostgreSQL a date: both read by str()
    rows = session.exec(select(day, sa.func.count()).where(where).group_by(day)).all()
    return {date.fromisoformat(str(d)[:10]): n for d, n in rows if d is not None}


def daily_series(session: Session, *, now: datetime, days: int = CHART_DAYS) -> DailySeries:
    """Messages sent and chats created per UTC day, the last `days` days including today."""
    first = now.date() - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    sent = _per_day(
        session,
        Outbox.sent_at,
        sa.and_(col(Outbox.status) == outbox.SENT, col(Outbox.sent_at) >= start),
    )
    created = _per_day(session, Chat.created_at, col(Chat.created_at) >= start)
    span = tuple(first + timedelta(days=i) for i in range(days))
    return DailySeries(
        days=span,
        sent=tuple(sent.get(d, 0) for d in span),
        new_chats=tuple(created.get(d, 0) for d in span),
    )


def report(session: Session, *, now: datetime) -> StatsReport:
    """Everything /stats shows, from one transaction."""
    return StatsReport(collect_stats(session, now=now), daily_series(session, now=now))
