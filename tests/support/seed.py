"""Seed a database with stories and chats directly, for delivery and scheduling tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.storage.db import session_scope
from bot.storage.models import Chat, Feed, Story, StoryTopic, Subscription


def seed_stories(engine: Engine, *, now: datetime, count: int = 5, topic: str = "world") -> None:
    with session_scope(engine) as session:
        stamp = f"{now:%Y%m%d%H%M%S%f}"
        feed = Feed(
            url=f"https://seed.example/{topic}-{stamp}.xml", name="Seed News", created_at=now
        )
        session.add(feed)
        session.flush()
        for i in range(count):
            story = Story(
                title=f"{topic.title()} story number {i} <with> & odd text",
                link=f"https://seed.example/{topic}/{stamp}/{i}",
                source_name="Seed News",
                feed_id=feed.id,
                published_at=now - timedelta(minutes=10 * i + 5),
                first_seen_at=now - timedelta(minutes=10 * i + 5),
            )
            session.add(story)
            session.flush()
            session.add(StoryTopic(story_id=story.id, topic=topic))


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
) -> None:
    ids = list(ids)
    with session_scope(engine) as session:
        for chat_id in ids:
            session.add(
                Chat(
                    id=chat_id,
                    type="private" if chat_id > 0 else "group",
                    timezone=zone,
                    briefing_times=times,
                    mode=mode,
                    next_briefing_at=due,
                    instant_since=now - timedelta(hours=1) if mode == "instant" else None,
                    created_at=now,
                    updated_at=now,
                )
            )
        session.flush()
        for chat_id in ids:
            for topic in topics:
                session.add(Subscription(chat_id=chat_id, topic=topic, created_at=now))
