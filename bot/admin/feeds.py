"""Feed management for admins: list, add (after one trial fetch), remove, resume, alerts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.admin import audit
from bot.ingest.fetcher import Fetcher, FetchStatus
from bot.ingest.parser import parse_feed_async
from bot.render import texts, tghtml
from bot.render.stories import format_age
from bot.storage import outbox
from bot.storage.db import session_scope
from bot.storage.models import Entry, Feed

logger = logging.getLogger(__name__)

ADMIN_ORIGIN = "admin"
ALERT_KIND = "alert"
ALERT_PRIORITY = 1  # after broadcasts, before briefings
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class FeedLine:
    """What /feeds shows of one feed."""

    id: int
    name: str
    url: str
    topics: tuple[str, ...]
    last_success_at: datetime | None
    entries_24h: int
    paused: bool
    failing_since: datetime | None
    last_error: str | None


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({format_age(moment, now)})"


# ---------------------------------------------------------------- /feeds


def feed_lines(session: Session, *, now: datetime) -> list[FeedLine]:
    """Every enabled feed with its entries of the last 24 h."""
    counts = dict(
        session.exec(
            select(Entry.feed_id, sa.func.count())
            .where(col(Entry.seen_at) >= now - DAY)
            .group_by(col(Entry.feed_id))
        ).all()
    )
    feeds = session.exec(select(Feed).where(col(Feed.enabled)).order_by(col(Feed.id))).all()
    return [
        FeedLine(
            id=f.id or 0,
            name=f.display_name,
            url=f.url,
            topics=f.topic_slugs,
            last_success_at=f.last_success_at,
            entries_24h=counts.get(f.id or 0, 0),
            paused=f.paused,
            failing_since=f.failing_since,
            last_error=f.last_error,
        )
        for f in feeds
    ]


def _state(line: FeedLine, now: datetime) -> str:
    reason = tghtml.escape(line.last_error or "unknown error")
    since = _when(line.failing_since, now)
    if line.paused:
        return texts.FEED_STATE_PAUSED.format(since=since, reason=reason, id=line.id)
    if line.failing_since is not None:
        return texts.FEED_STATE_FAILING.format(since=since, reason=reason)
    return texts.FEED_STATE_OK


def format_feed_list(lines: Sequence[FeedLine], *, now: datetime) -> list[str]:
    """HTML blocks for /feeds: a header and one block per feed."""
    if not lines:
        return [texts.FEEDS_NONE]
    blocks = [texts.FEEDS_HEADER.format(count=len(lines))]
    for line in lines:
        blocks.append(
            texts.FEED_LINE.format(
                id=line.id,
                name=tghtml.escape(line.name),
                url=tghtml.escape(line.url),
                topics=tghtml.escape(", ".join(line.topics) or "—"),
                last=_when(line.last_success_at, now),
                stories=line.entries_24h,
                state=_state(line, now),
            )
        )
    return blocks


# ---------------------------------------------------------------- /addfeed


def find_feed(session: Session, urls: Sequence[str]) -> Feed | None:
    """The feed stored under any of `urls` (enabled ones first)."""
    rows = session.exec(select(Feed).where(col(Feed.url).in_(list(dict.fromkeys(urls))))).all()
    return min(rows, key=lambda f: (not f.enabled, f.id or 0), default=None)


def _duplicate_text(feed: Feed, url: str) -> str:
    name = tghtml.escape(feed.display_name)
    if feed.url == url:
        return texts.FEED_DUPLICATE.format(id=feed.id, name=name)
    return texts.FEED_DUPLICATE_FINAL.format(final=tghtml.escape(feed.url), id=feed.id, name=name)


def _unusable(url: str, reason: str) -> str:
    return texts.FEED_UNUSABLE.format(url=tghtml.escape(url), reason=tghtml.escape(reason))


async def add_feed(
    *,
    engine: Engine,
    fetcher: Fetcher,
    actor: audit.Actor,
    url: str,
    topics: Sequence[str],
    clock: Callable[[], datetime],
) -> str:
    """Fetch `url` once and add it as a feed if it is one; return the reply."""
    if not is_http_url(url):
        return _unusable(url, "not an http(s) URL")

    def existing(urls: Sequence[str]) -> Feed | None:
        with session_scope(engine) as session:
            feed = find_feed(session, urls)
            return feed if feed is not None and feed.enabled else None

    duplicate = await asyncio.to_thread(existing, [url])
    if duplicate is not None:
        return _duplicate_text(duplicate, url)
    fetch = await fetcher.fetch_feed(url, now=clock())
    if fetch.status is not FetchStatus.OK or fetch.body is None:
        return _unusable(url, fetch.error or "empty response")
    parsed = await parse_feed_async(
        fetch.body, url=fetch.final_url, content_type=fetch.content_type, now=clock()
    )
    if not parsed.is_feed or (not parsed.entries and parsed.error):
        return _unusable(url, parsed.error or "not a feed")

    def store() -> str:
        with session_scope(engine) as session:
            return _store_feed(
                session,
                actor=actor,
                url=url,
                final_url=fetch.final_url,
                title=parsed.title,
                items=len(parsed.entries),
                topics=topics,
                now=clock(),
            )

    return await asyncio.to_thread(store)


def _store_feed(
    session: Session,
    *,
    actor: audit.Actor,
    url: str,
    final_url: str,
    title: str | None,
    items: int,
    topics: Sequence[str],
    now: datetime,
) -> str:
    """Insert the feed (or re-enable a removed one); refuse duplicates after redirects."""
    feed = find_feed(session, [url, final_url])
    if feed is not None and feed.enabled:
        return _duplicate_text(feed, url)
    template = texts.FEED_READDED if feed is not None else texts.FEED_ADDED
    if feed is None:
        feed = Feed(url=url, created_at=now)
    feed.title = (title or feed.title or "")[:300] or None
    feed.topics = " ".join(topics)
    feed.origin, feed.enabled, feed.paused = ADMIN_ORIGIN, True, False
    feed.consecutive_failures, feed.failing_since, feed.next_check_at = 0, None, now
    session.add(feed)
    session.flush()
    audit.record(session, actor, "addfeed", f"#{feed.id} {url}", now=now)
    return template.format(
        id=feed.id,
        title=tghtml.escape(feed.display_name),
        items=items,
        topics=tghtml.escape(", ".join(topics) or "none"),
    )


# ---------------------------------------------------------------- /removefeed /resumefeed


def remove_feed(session: Session, feed_id: int, *, actor: audit.Actor, now: datetime) -> str:
    """Disable a feed (its stories stay); return the reply."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return texts.FEED_NOT_FOUND.format(id=feed_id)
    if not feed.enabled:
        return texts.FEED_ALREADY_REMOVED.format(id=feed_id)
    feed.enabled, feed.lease_until = False, None
    session.add(feed)
    audit.record(session, actor, "removefeed", f"#{feed_id} {feed.url}", now=now)
    reply = texts.FEED_REMOVED.format(id=feed_id, name=tghtml.escape(feed.display_name))
    return reply + (texts.FEED_REMOVED_CONFIG if feed.origin == "config" else "")


def resume_feed(session: Session, feed_id: int, *, actor: audit.Actor, now: datetime) -> str:
    """Take a paused feed back: fetched at the next tick, failure count reset."""
    feed = session.get(Feed, feed_id)
    if feed is None or not feed.enabled:
        return texts.FEED_NOT_FOUND.format(id=feed_id)
    name = tghtml.escape(feed.display_name)
    if not feed.paused:
        return texts.FEED_NOT_PAUSED.format(id=feed_id, name=name)
    feed.paused, feed.consecutive_failures, feed.next_check_at = False, 0, now
    # A new failing streak gets a new failing_since, and so its own pause alert.
    feed.failing_since = None
    session.add(feed)
    audit.record(session, actor, "resumefeed", f"#{feed_id} {feed.url}", now=now)
    return texts.FEED_RESUMED.format(id=feed_id, name=name)


# ---------------------------------------------------------------- pause alerts


def enqueue_pause_alerts(
    session: Session, feed_ids: Sequence[int], admins: Sequence[int], *, now: datetime
) -> int:
    """Tell each admin once that a feed was paused (dedup per failing streak and admin)."""
    messages = []
    for feed_id in feed_ids:
        feed = session.get(Feed, feed_id)
        if feed is None or not feed.paused:
            continue
        since = feed.failing_since or now
        text = texts.FEED_PAUSED_ALERT.format(
            id=feed_id,
            name=tghtml.escape(feed.display_name),
            failures=feed.consecutive_failures,
            since=_when(since, now),
            reason=tghtml.escape(feed.last_error or "unknown error"),
        )
        for admin in admins:
            key = f"pause:{feed_id}:{since.isoformat()}:{admin}"
            messages.append(
                outbox.NewMessage(admin, ALERT_KIND, key, text, priority=ALERT_PRIORITY)
            )
    return outbox.enqueue(session, messages, now=now)
