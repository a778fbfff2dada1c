"""Feed management for admins: list, add (after one trial fetch), remove, resume, alerts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.admin import audit
from bot.admin.results import FeedChange, FeedLine
from bot.ingest.discovery import feed_links
from bot.ingest.fetcher import Fetcher, FetchResult, FetchStatus
from bot.ingest.parse_workers import parse_feed_async
from bot.ingest.parser import ParsedFeed
from bot.ingest.urls import feed_key
from bot.storage.db import session_scope
from bot.storage.models import Entry, Feed

logger = logging.getLogger(__name__)

ADMIN_ORIGIN = "admin"
ALERT_KIND = "alert"
ALERT_PRIORITY = 1  # after broadcasts, before briefings
DAY = timedelta(hours=24)
MAX_URL_LENGTH = 2048  # the feed URL column (PostgreSQL refuses a longer value)


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


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


# ---------------------------------------------------------------- /addfeed


def find_feed(session: Session, urls: Sequence[str]) -> Feed | None:
    """The feed stored under any of `urls`, or another spelling of one (enabled ones first).

    Spellings: see `feed_key` (scheme, host case, trailing slash ...). Adding a feed is
    rare, so reading every feed's address for them is cheap enough.
    """
    rows = session.exec(select(Feed).where(col(Feed.url).in_(list(dict.fromkeys(urls))))).all()
    if not rows:
        keys = {feed_key(url) for url in urls}
        rows = [f for f in session.exec(select(Feed)).all() if feed_key(f.url) in keys]
    return min(rows, key=lambda f: (not f.enabled, f.id or 0), default=None)


def _duplicate(feed: Feed, url: str, topics: Sequence[str]) -> FeedChange:
    """ "Already there"; with the topics asked for and the feed's own (see /feedtopics)."""
    kind: Literal["duplicate", "duplicate_final"] = (
        "duplicate" if feed_key(feed.url) == feed_key(url) else "duplicate_final"
    )
    shown = url if kind == "duplicate" else feed.url
    return FeedChange(
        kind,
        feed.id,
        feed.display_name,
        shown,
        topics=tuple(topics),
        old_topics=feed.topic_slugs,
    )


def _unusable(url: str, reason: str) -> FeedChange:
    return FeedChange("unusable", url=url, reason=reason)


@dataclass(frozen=True)
class _Trial:
    """A trial fetch that found a feed; `page` is the page that named it, if any."""

    url: str
    fetch: FetchResult
    parsed: ParsedFeed
    page: str = ""


async def _try_feed(
    fetcher: Fetcher, url: str, clock: Callable[[], datetime], *, discover: bool
) -> _Trial | FeedChange:
    """Fetch and parse `url`; a web page may name its feed (`discover`: try the first)."""
    fetch = await fetcher.fetch_feed(url, now=clock())
    if fetch.status is not FetchStatus.OK or fetch.body is None:
        refusal = _unusable(url, fetch.error or "empty response")
    else:
        parsed = await parse_feed_async(
            fetch.body, url=fetch.final_url, content_type=fetch.content_type, now=clock()
        )
        if parsed.is_feed and (parsed.entries or not parsed.error):
            return _Trial(url, fetch, parsed)
        refusal = _unusable(url, parsed.error or "not a feed")
        if parsed.is_feed:  # a broken feed: no page around it to look at
            return refusal
    links = await _named_feeds(fetcher, fetch, clock) if discover else []
    if not links:
        return refusal
    found = await _try_feed(fetcher, links[0], clock, discover=False)
    return replace(found, page=url) if isinstance(found, _Trial) else found


async def _named_feeds(
    fetcher: Fetcher, fetch: FetchResult, clock: Callable[[], datetime]
) -> list[str]:
    """The feeds the page a feed fetch got names in its <link rel="alternate"> tags."""
    if fetch.http_status is None or not 200 <= fetch.http_status < 300:
        return []
    page = fetch
    if fetch.body is None:  # the feed fetch keeps no HTML page: fetch it as a page
        page = await fetcher.fetch_page(fetch.final_url, now=clock())
    if page.status is not FetchStatus.OK or page.body is None:
        return []
    links = await asyncio.to_thread(feed_links, page.body, page.final_url)
    return [link for link in links if len(link) <= MAX_URL_LENGTH]


async def add_feed(
    *,
    engine: Engine,
    fetcher: Fetcher,
    actor: audit.Actor,
    url: str,
    topics: Sequence[str],
    clock: Callable[[], datetime],
) -> FeedChange:
    """Fetch `url` once and add it as a feed if it is one, or the feed its page names."""
    if not is_http_url(url):
        return _unusable(url, "not an http(s) URL")
    if len(url) > MAX_URL_LENGTH:
        return _unusable(url, f"longer than {MAX_URL_LENGTH} characters")

    def existing(urls: Sequence[str]) -> Feed | None:
        with session_scope(engine) as session:
            feed = find_feed(session, urls)
            return feed if feed is not None and feed.enabled else None

    duplicate = await asyncio.to_thread(existing, [url])
    if duplicate is not None:
        return _duplicate(duplicate, url, topics)
    trial = await _try_feed(fetcher, url, clock, discover=True)
    if isinstance(trial, FeedChange):
        return trial

    def store() -> FeedChange:
        with session_scope(engine) as session:
            return _store_feed(
                session, actor=actor, asked=url, trial=trial, topics=topics, now=clock()
            )

    def store_once() -> FeedChange:
        try:
            return store()
        except IntegrityError:
            # Another admin stored the same URL meanwhile (PostgreSQL shows it only once
            # committed): a second look finds it and answers "already there".
            return store()

    return await asyncio.to_thread(store_once)


def _store_feed(
    session: Session,
    *,
    actor: audit.Actor,
    asked: str,
    trial: _Trial,
    topics: Sequence[str],
    now: datetime,
) -> FeedChange:
    """Insert the feed (or re-enable a removed one); refuse duplicates after redirects."""
    # A permanent redirect (301, 308) names the feed's address from now on: stored
    # under the old one, the same feed could be added again under the new one. One
    # too long for the column keeps the address asked for (as a refresh's move does).
    moved = trial.fetch.moved_to
    address = moved if moved and len(moved) <= MAX_URL_LENGTH else trial.url
    feed = find_feed(session, [asked, trial.url, trial.fetch.final_url, address])
    if feed is not None and feed.enabled:
        return _duplicate(feed, asked, topics)
    kind: Literal["added", "readded"] = "readded" if feed is not None else "added"
    if feed is None:
        feed = Feed(url=address, created_at=now)
    feed.title = (trial.parsed.title or feed.title or "")[:300] or None
    feed.topics = " ".join(topics)
    feed.origin, feed.enabled, feed.paused = ADMIN_ORIGIN, True, False
    feed.consecutive_failures, feed.failing_since, feed.next_check_at = 0, None, now
    session.add(feed)
    session.flush()
    audit.record(session, actor, "addfeed", f"#{feed.id} {feed.url}", now=now)
    items = len(trial.parsed.entries)
    return FeedChange(
        kind,
        feed.id,
        feed.display_name,
        feed.url,
        items=items,
        topics=tuple(topics),
        found_on=trial.page,
    )


# ---------------------------------------------------------------- /removefeed /resumefeed


def remove_feed(session: Session, feed_id: int, *, actor: audit.Actor, now: datetime) -> FeedChange:
    """Disable a feed (its stories stay)."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return FeedChange("not_found", feed_id)
    if not feed.enabled:
        return FeedChange("already_removed", feed_id)
    feed.enabled, feed.lease_until = False, None
    session.add(feed)
    audit.record(session, actor, "removefeed", f"#{feed_id} {feed.url}", now=now)
    return FeedChange(
        "removed", feed_id, feed.display_name, feed.url, from_config=feed.origin == "config"
    )


def resume_feed(session: Session, feed_id: int, *, actor: audit.Actor, now: datetime) -> FeedChange:
    """Take a paused feed back: fetched at the next tick, failure count reset."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return FeedChange("not_found", feed_id)
    if not feed.enabled:  # /addfeed takes a removed feed back, with the topics it names
        return FeedChange(
            "removed_earlier", feed_id, feed.display_name, feed.url, topics=feed.topic_slugs
        )
    if not feed.paused:
        return FeedChange("not_paused", feed_id, feed.display_name, feed.url)
    feed.paused, feed.consecutive_failures, feed.next_check_at = False, 0, now
    # A new failing streak gets a new failing_since, and so its own pause alert.
    feed.failing_since = None
    session.add(feed)
    audit.record(session, actor, "resumefeed", f"#{feed_id} {feed.url}", now=now)
    return FeedChange("resumed", feed_id, feed.display_name, feed.url)
