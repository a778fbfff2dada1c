"""Health numbers for /stats: chats, subscriptions, stories, messages, feeds, per-day series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.render import texts, tghtml
from bot.settings import Topic
from bot.storage import outbox
from bot.storage.models import Chat, Entry, Feed, Outbox, Story, Subscription

DAY = timedelta(hours=24)
CHART_DAYS = 14


@dataclass(frozen=True)
class Stats:
    active: int
    unreachable: int
    stopped: int
    subscribers: dict[str, int]
    stories: int
    merged: int
    sent: int
    failed: int
    cancelled: int
    feeds: int
    failing: int
    paused: int

    @property
    def inactive(self) -> int:
        return self.unreachable + self.stopped


@dataclass(frozen=True)
class DailySeries:
    """Per-day counts over the last days, oldest first (UTC days)."""

    days: tuple[date, ...]
    sent: tuple[int, ...]
    new_chats: tuple[int, ...]


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
        failing=_count(session, enabled.where(col(Feed.failing_since).is_not(None))),
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


def format_stats(stats: Stats, topics: Sequence[Topic]) -> str:
    """The /stats text (HTML)."""
    names = {t.slug: t.name for t in topics}
    slugs = [t.slug for t in topics] + sorted(set(stats.subscribers) - set(names))
    per_topic = ", ".join(
        f"{tghtml.escape(names.get(s, s))} {stats.subscribers.get(s, 0)}" for s in slugs
    )
    # The template names most numbers as Stats does; only these need saying.
    return texts.STATS.format(
        **asdict(stats), inactive=stats.inactive, blocked=stats.unreachable, topics=per_topic or "—"
    )
