"""Bulk-seed a migrated database with feeds, stories, entries, topics, chats and outbox rows.

SQLAlchemy core `executemany` inserts in chunks, with explicit ids: 100 k stories and
10 k chats take seconds, not the minutes the ORM needs one object at a time.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench._corpus import Vocabulary, render_headline
from bot.storage.models import Chat, Entry, Feed, Outbox, Story, StoryTopic, Subscription

CHUNK = 5_000


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
    """Feeds that are never due (the benches here do not refresh)."""
    ids = list(range(first_id, first_id + count))
    insert_rows(
        engine,
        Feed.__table__,  # type: ignore[attr-defined]
        (
            {
                "id": i,
                "url": f"https://outlet{i:04d}.example/feed.xml",
                "name": f"Outlet {i:04d}",
                "topics": "",
                "origin": "config",
                "enabled": True,
                "paused": False,
                "consecutive_failures": 0,
                "next_check_at": now + timedelta(days=365),
                "created_at": now,
            }
            for i in ids
        ),
    )
    return ids


def seed_stories(
    engine: Engine,
    *,
    count: int,
    feed_ids: Sequence[int],
    topics: Sequence[TopicShare],
    now: datetime,
    span: timedelta,
    extra_entry_share: float = 0.2,
    seed: int = 5,
) -> int:
    """Stories published over `span` before `now`, each with 1–4 entries and a topic or two.

    Returns the number of entries written.
    """
    rng = random.Random(seed)
    vocab = Vocabulary(rng)
    slugs = [t.slug for t in topics]
    weights = [t.share for t in topics]
    stories: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    story_topics: list[dict[str, Any]] = []
    step = span / max(count, 1)
    for story_id in range(1, count + 1):
        published = now - step * (count - story_id) - timedelta(seconds=30)
        event = vocab.event(rng, published)
        title = render_headline(event, rng, variant=0)
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
    insert_rows(engine, Story.__table__, stories)  # type: ignore[attr-defined]
    insert_rows(engine, Entry.__table__, entries)  # type: ignore[attr-defined]
    insert_rows(engine, StoryTopic.__table__, story_topics)  # type: ignore[attr-defined]
    return len(entries)


def seed_chats(
    engine: Engine,
    ids: Sequence[int],
    *,
    topics: Sequence[str],
    now: datetime,
    due: datetime | None,
    per_chat: tuple[int, int] = (1, 3),
    seed: int = 9,
) -> int:
    """Scheduled-mode private chats, each subscribed to a few topics; return subscriptions."""
    rng = random.Random(seed)
    insert_rows(
        engine,
        Chat.__table__,  # type: ignore[attr-defined]
        (
            {
                "id": chat_id,
                "type": "private",
                "title": None,
                "active": True,
                "stopped": False,
                "timezone": "UTC",
                "briefing_times": "08:00",
                "mode": "scheduled",
                "next_briefing_at": due,
                "created_at": now,
                "updated_at": now,
            }
            for chat_id in ids
        ),
    )
    subscriptions = [
        {"chat_id": chat_id, "topic": topic, "created_at": now}
        for chat_id in ids
        for topic in rng.sample(list(topics), rng.randint(*per_chat))
    ]
    return insert_rows(engine, Subscription.__table__, subscriptions)  # type: ignore[attr-defined]


def seed_outbox(engine: Engine, chat_ids: Sequence[int], *, now: datetime, text: str) -> int:
    """One pending briefing-like message per chat."""
    return insert_rows(
        engine,
        Outbox.__table__,  # type: ignore[attr-defined]
        (
            {
                "chat_id": chat_id,
                "kind": "briefing",
                "dedup_key": f"bench:{chat_id}",
                "priority": 10,
                "text": text,
                "reply_markup": None,
                "status": "pending",
                "attempts": 0,
                "not_before": now - timedelta(seconds=1),
                "created_at": now,
            }
            for chat_id in chat_ids
        ),
    )
