"""Feed rows: config synchronisation, due-feed selection, fetch outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.settings import FeedConfig
from bot.storage.models import ETAG_LENGTH, LAST_MODIFIED_LENGTH, Feed, UTCDateTime, table_of

MAX_URL_BYTES = 2048  # the url column (PostgreSQL refuses a longer value)


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    disabled: int


def sync_config_feeds(
    session: Session, configured: Sequence[FeedConfig], *, now: datetime
) -> SyncReport:
    """Make the config file's feeds exist and match; disable config feeds it dropped."""
    rows = {f.url: f for f in session.exec(select(Feed)).all()}
    added = updated = disabled = 0
    wanted = set()
    for cfg in configured:
        wanted.add(cfg.url)
        topics = " ".join(cfg.topics)
        feed = rows.get(cfg.url)
        if feed is None:
            session.add(Feed(url=cfg.url, name=cfg.name, topics=topics, created_at=now))
            added += 1
            continue
        changed = (feed.name, feed.topics, feed.enabled, feed.origin) != (
            cfg.name,
            topics,
            True,
            "config",
        )
        if changed:
            feed.name, feed.topics, feed.enabled, feed.origin = cfg.name, topics, True, "config"
            session.add(feed)
            updated += 1
    for url, feed in rows.items():
        if feed.origin == "config" and feed.enabled and url not in wanted:
            feed.enabled = False  # its stories stay
            session.add(feed)
            disabled += 1
    session.flush()
    return SyncReport(added=added, updated=updated, disabled=disabled)


def due_feeds(session: Session, *, now: datetime, limit: int | None = None) -> list[Feed]:
    """Enabled, unpaused feeds whose next check has come, oldest first."""
    query = (
        select(Feed)
        .where(col(Feed.enabled), ~col(Feed.paused))
        .where(sa.or_(col(Feed.next_check_at).is_(None), col(Feed.next_check_at) <= now))
        .where(sa.or_(col(Feed.lease_until).is_(None), col(Feed.lease_until) <= now))
        .order_by(col(Feed.next_check_at).asc().nulls_first(), col(Feed.id))
    )
    if limit is not None:
        query = query.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # Several workers: each takes different feeds, none waits for another.
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query).all())


def lease_feeds(
    session: Session, feeds: Sequence[Feed], *, now: datetime, lease: timedelta
) -> None:
    """Mark feeds as being fetched so another tick does not take them too."""
    for feed in feeds:
        feed.lease_until = now + lease
        session.add(feed)
    session.flush()


def enabled_feeds(session: Session) -> list[Feed]:
    return list(session.exec(select(Feed).where(col(Feed.enabled)).order_by(col(Feed.id))).all())


def record_success(
    session: Session,
    feed: Feed,
    *,
    now: datetime,
    next_check_at: datetime,
    title: str | None,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    not_modified: bool,
) -> None:
    """Store a successful (or not-modified) fetch and reset the failure state."""
    feed.last_checked_at = now
    feed.last_success_at = now
    feed.next_check_at = next_check_at
    feed.consecutive_failures = 0
    feed.last_error = None
    feed.failing_since = None
    feed.lease_until = None
    if not_modified:
        feed.not_modified_since = feed.not_modified_since or now
    else:
        feed.not_modified_since = None
        feed.body_hash = body_hash
    feed.etag = _storable(etag, ETAG_LENGTH) or feed.etag
    feed.last_modified = _storable(last_modified, LAST_MODIFIED_LENGTH) or feed.last_modified
    if title:
        feed.title = title[:300]
    session.add(feed)


_feed = table_of(Feed)


def _storable(validator: str | None, length: int) -> str | None:
    """A response's ETag or Last-Modified if its column holds it, else None (as if absent).

    A server may send either at any length; PostgreSQL refuses a value longer than its
    column, which failed every refresh of that feed. Cutting one short would only ever
    send back a validator that never matches.
    """
    return validator if validator and len(validator) <= length else None


_now = sa.bindparam("b_now", type_=UTCDateTime())
# Built once: a steady round runs it for nearly every feed.
_NOT_MODIFIED = (
    sa.update(_feed)
    .where(_feed.c.id == sa.bindparam("b_id"))
    .values(
        last_checked_at=_now,
        last_success_at=_now,
        next_check_at=sa.bindparam("b_next", type_=UTCDateTime()),
        consecutive_failures=0,
        last_error=None,
        failing_since=None,
        lease_until=None,
        not_modified_since=sa.func.coalesce(_feed.c.not_modified_since, _now),
        etag=sa.func.coalesce(sa.bindparam("b_etag"), _feed.c.etag),
        last_modified=sa.func.coalesce(sa.bindparam("b_modified"), _feed.c.last_modified),
        paused=False,
    )
)
_NAMES = sa.select(_feed.c.id, _feed.c.name, _feed.c.title, _feed.c.url).where(
    _feed.c.id.in_(sa.bindparam("ids", expanding=True))
)


@dataclass(frozen=True)
class NotModified:
    """A 304 (or an unchanged body) for one feed, to record."""

    feed_id: int
    now: datetime
    next_check_at: datetime
    etag: str | None
    last_modified: str | None


def record_not_modified(session: Session, rows: Sequence[NotModified]) -> dict[int, str]:
    """`record_success(not_modified=True)` and unpause, for many feeds in two statements.

    Returns the display name of each feed still there, by id.
    """
    if not rows:
        return {}
    params = [
        {
            "b_id": row.feed_id,
            "b_now": row.now,
            "b_next": row.next_check_at,
            "b_etag": _storable(row.etag, ETAG_LENGTH),
            "b_modified": _storable(row.last_modified, LAST_MODIFIED_LENGTH),
        }
        for row in rows
    ]
    session.execute(_NOT_MODIFIED, params)
    ids = sorted({row.feed_id for row in rows})
    names: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        for feed_id, name, title, url in session.execute(_NAMES, {"ids": ids[i : i + 500]}):
            names[feed_id] = Feed(name=name, title=title, url=url).display_name
    return names


def follow_move(session: Session, feed: Feed, url: str) -> bool:
    """Store a permanently moved feed under its new address; True if it now is.

    A feed from the config file keeps the address the file gives (the next start
    would add it again), and so does a feed whose new address another feed has.
    """
    if feed.origin == "config" or len(url.encode()) > MAX_URL_BYTES:
        return False
    if session.exec(select(Feed.id).where(Feed.url == url, Feed.id != feed.id)).first():
        return False
    feed.url = url
    session.add(feed)
    return True


def record_failure(
    session: Session,
    feed: Feed,
    *,
    now: datetime,
    reason: str,
    next_check_at: datetime,
    pause_after: int,
) -> bool:
    """Store a failed fetch; pause the feed after `pause_after` failures in a row.

    Returns True when this failure paused the feed.
    """
    feed.last_checked_at = now
    feed.next_check_at = next_check_at
    feed.consecutive_failures += 1
    feed.last_error = reason[:500]
    feed.failing_since = feed.failing_since or now
    feed.lease_until = None
    paused_now = not feed.paused and feed.consecutive_failures >= pause_after
    if paused_now:
        feed.paused = True
    session.add(feed)
    return paused_now
