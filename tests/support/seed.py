"""Seed a migrated database directly: feeds, stories, entries, topics, chats and outbox rows.

One module for the tests and the benchmarks. Rows go in with SQLAlchemy core `executemany`
in chunks (the columns' own defaults fill what a row leaves out), so 100 k stories and 10 k
chats take seconds, not the minutes the ORM needs one object at a time.
- Tests: `seed_stories` (a handful of stories in one topic, from a feed of their own) and
  `seed_chats` (chats subscribed to the given topics).
- Benchmarks: `seed_feeds`, `seed_story_corpus` (realistic volume and topic mix),
  `seed_chats(..., per_chat=(1, 3))`, `seed_outbox`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.storage.models import (
    Chat,
    Entry,
    Feed,
    Outbox,
    Story,
    StoryTopic,
    Subscription,
    table_of,
)

CHUNK = 5_000
# Given the run's random generator, returns a function from publication time to headline.
HeadlineMaker = Callable[[random.Random], Callable[[datetime], str]]


def _chunks(rows: Iterable[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(engine: Engine, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows in chunks in one transaction; return how many."""
    count = 0
    with engine.begin() as conn:
        for batch in _chunks(rows):
            conn.execute(sa.insert(table), batch)
            count += len(batch)
    return count


@dataclass(frozen=True)
class TopicShare:
    """A topic and the share of stories filed under it."""

    slug: str
    share: float


def seed_feeds(engine: Engine, *, count: int, now: datetime, first_id: int = 1) -> list[int]:
    """Feeds that are never due (so nothing refreshes them)."""
    ids = list(range(first_id, first_id + count))
    rows = (
        {
            "id": i,
            "url": f"https://outlet{i:04d}.example/feed.xml",
            "name": f"Outlet {i:04d}",
            "origin": "config",
            "next_check_at": now + timedelta(days=365),
            "created_at": now,
        }
        for i in ids
    )
    insert_rows(engine, table_of(Feed), rows)
    return ids


def seed_stories(engine: Engine, *, now: datetime, count: int = 5, topic: str = "world") -> None:
    """`count` stories in `topic` from a new feed, 10 minutes apart, the newest 5 minutes old.

    Titles carry HTML-special characters, so every rendering of them is an escaping test.
    """
    stamp = f"{now:%Y%m%d%H%M%S%f}"
    stories = [
        (
            f"{topic.title()} story number {i} <with> & odd text",
            f"https://seed.example/{topic}/{stamp}/{i}",
            now - timedelta(minutes=10 * i + 5),
        )
        for i in range(count)
    ]
    feed_url = f"https://seed.example/{topic}-{stamp}.xml"
    _seed(engine, now=now, feed_url=feed_url, source="Seed News", topic=topic, stories=stories)


def seed_headlines(
    engine: Engine, titles: Sequence[str], *, now: datetime, topic: str = "world"
) -> list[int]:
    """Stories with these headlines in `topic`, the first the newest (1 minute apart)."""
    stamp = f"{now:%Y%m%d%H%M%S%f}-{topic}"
    stories = [
        (title, f"https://seed.example/h/{stamp}/{i}", now - timedelta(minutes=i + 1))
        for i, title in enumerate(titles)
    ]
    feed_url = f"https://seed.example/h-{stamp}.xml"
    return _seed(engine, now=now, feed_url=feed_url, source="Seed", topic=topic, stories=stories)


def _seed(
    engine: Engine,
    *,
    now: datetime,
    feed_url: str,
    source: str,
    topic: str,
    stories: Sequence[tuple[str, str, datetime]],
) -> list[int]:
    """A new feed named `source` and its stories (title, link, first seen) in `topic`: their ids."""
    ids = []
    with engine.begin() as conn:
        feed_id = _insert_one(conn, Feed, url=feed_url, name=source, created_at=now)
        for title, link, seen in stories:
            story_id = _insert_one(
                conn,
                Story,
                title=title,
                link=link,
                source_name=source,
                feed_id=feed_id,
                published_at=seen,
                first_seen_at=seen,
            )
            conn.execute(sa.insert(table_of(StoryTopic)).values(story_id=story_id, topic=topic))
            ids.append(story_id)
    return ids


def _insert_one(conn: sa.Connection, model: type[Any], **values: Any) -> int:
    """Insert one row and return its new integer primary key."""
    key = conn.execute(sa.insert(table_of(model)).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def numbered_headlines(rng: random.Random) -> Callable[[datetime], str]:
    """Plain, distinct headlines (the benchmarks pass a realistic maker instead)."""
    numbers = iter(range(1, 1 << 62))
    return lambda published: f"Story {next(numbers)} filed at {published:%Y-%m-%d %H:%M}"


def seed_story_corpus(
    engine: Engine,
    *,
    count: int,
    feed_ids: Sequence[int],
    topics: Sequence[TopicShare],
    now: datetime,
    span: timedelta,
    headlines: HeadlineMaker = numbered_headlines,
    extra_entry_share: float = 0.2,
    seed: int = 5,
) -> int:
    """Stories (ids 1..count) published over `span` before `now`, each with 1–4 entries and a
    topic or two drawn by share. Returns the number of entries written.
    """
    rng = random.Random(seed)
    headline = headlines(rng)
    slugs = [t.slug for t in topics]
    weights = [t.share for t in topics]
    stories: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    story_topics: list[dict[str, Any]] = []
    step = span / max(count, 1)
    for story_id in range(1, count + 1):
        published = now - step * (count - story_id) - timedelta(seconds=30)
        title = headline(published)
        feed_id = rng.choice(feed_ids)
        link = f"https://outlet{feed_id:04d}.example/news/{story_id}"
        summary = f"{title} on {published:%A}. Officials declined to comment."
        outlets = [feed_id]
        if rng.random() < extra_entry_share:
            outlets += rng.sample(list(feed_ids), rng.randint(1, 3))
        stories.append(
            {
                "id": story_id,
                "title": title,
                "summary": summary,
                "link": link,
                "source_name": f"Outlet {feed_id:04d}",
                "feed_id": feed_id,
                "published_at": published,
                "first_seen_at": published,
                "entry_count": len(outlets),
            }
        )
        for n, outlet in enumerate(dict.fromkeys(outlets)):
            entries.append(
                {
                    "feed_id": outlet,
                    "identity": f"g:{story_id}-{n}",
                    "guid": f"{story_id}-{n}",
                    "link": link if n == 0 else f"https://outlet{outlet:04d}.example/n/{story_id}",
                    "title": title,
                    "summary": summary,
                    "categories": "",
                    "published_at": published,
                    "seen_at": published,
                    "story_id": story_id,
                }
            )
        chosen = {rng.choices(slugs, weights)[0] for _ in range(rng.choice([1, 1, 1, 2]))}
        story_topics += [{"story_id": story_id, "topic": slug} for slug in sorted(chosen)]
    insert_rows(engine, table_of(Story), stories)
    insert_rows(engine, table_of(Entry), entries)
    insert_rows(engine, table_of(StoryTopic), story_topics)
    return len(entries)


def seed_chats(
    engine: Engine,
    ids: Iterable[int],
    *,
    now: datetime,
    due: datetime | None,
    zone: str = "UTC",
    times: str = "08:00",
    topics: Iterable[str] = ("world",),
    mode: str = "scheduled",
    per_chat: tuple[int, int] | None = None,
    seed: int = 9,
) -> int:
    """Chats (private for positive ids, groups for negative) and their subscriptions.

    Each chat takes every topic, or with `per_chat=(low, high)` a random low..high of them.
    Returns the number of subscriptions written.
    """
    ids = list(ids)
    topics = list(topics)
    rng = random.Random(seed)
    rows = (
        {
            "id": chat_id,
            "type": "private" if chat_id > 0 else "group",
            "timezone": zone,
            "briefing_times": times,
            "mode": mode,
            "next_briefing_at": due,
            "instant_since": now - timedelta(hours=1) if mode == "instant" else None,
            "created_at": now,
            "updated_at": now,
        }
        for chat_id in ids
    )
    insert_rows(engine, table_of(Chat), rows)
    subscriptions = [
        {"chat_id": chat_id, "topic": topic, "created_at": now}
        for chat_id in ids
        for topic in (topics if per_chat is None else rng.sample(topics, rng.randint(*per_chat)))
    ]
    return insert_rows(engine, table_of(Subscription), subscriptions)


def seed_outbox(engine: Engine, chat_ids: Sequence[int], *, now: datetime, text: str) -> int:
    """One pending briefing-like message per chat."""
    rows = (
        {
            "chat_id": chat_id,
            "kind": "briefing",
            "dedup_key": f"bench:{chat_id}",
            "priority": 10,
            "text": text,
            "status": "pending",
            "not_before": now - timedelta(seconds=1),
            "created_at": now,
        }
        for chat_id in chat_ids
    )
    return insert_rows(engine, table_of(Outbox), rows)
