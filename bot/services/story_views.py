"""Stories as lists show them: each stored story with its other outlets and topics.

A render-facing query: storage returns rows, render takes `StoryView`s; this
joins the two so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from bot.render.stories import StoryView
from bot.storage.models import Entry, Feed, Story, StoryTopic


def story_views(session: Session, stories: Sequence[Story]) -> list[StoryView]:
    """Attach each story's other outlets and topics, for display."""
    ids = [s.id for s in stories if s.id is not None]
    outlets: dict[int, list[str]] = {i: [] for i in ids}
    topics: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        rows = session.exec(
            select(Entry.story_id, Feed.name, Feed.title, Feed.url)
            .join(Feed, col(Feed.id) == Entry.feed_id)
            .where(col(Entry.story_id).in_(ids))
            .order_by(col(Entry.id))
        ).all()
        for story_id, name, title, url in rows:
            outlets[story_id].append(name or title or url)
        for story_id, topic in session.exec(
            select(StoryTopic.story_id, StoryTopic.topic).where(col(StoryTopic.story_id).in_(ids))
        ).all():
            topics[story_id].append(topic)
    views = []
    for story in stories:
        assert story.id is not None
        others = tuple(dict.fromkeys(o for o in outlets[story.id] if o != story.source_name))
        views.append(
            StoryView(
                id=story.id,
                title=story.title,
                link=story.link,
                source=story.source_name,
                published_at=story.published_at,
                other_sources=others,
                topics=tuple(sorted(topics[story.id])),
            )
        )
    return views
