"""Stories as lists show them: each stored story with its other outlets and topics.

A render-facing query: storage returns rows, render takes `StoryView`s; this
joins the two so neither imports the other. Outlets are named as their feeds
are named now (`Feed.display_name`), so a story stored before its feed's title
was known shows the title once it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from bot.render.stories import StoryView
from bot.storage.models import Entry, Feed, Story, StoryTopic


def story_views(session: Session, stories: Sequence[Story]) -> list[StoryView]:
    """Attach each story's outlet, its other outlets (once each) and its topics."""
    ids = [s.id for s in stories if s.id is not None]
    feeds_of: dict[int, list[int]] = {i: [] for i in ids}
    topics: dict[int, list[str]] = {i: [] for i in ids}
    names: dict[int, str] = {}
    if ids:
        rows = session.exec(
            select(Entry.story_id, Entry.feed_id)
            .where(col(Entry.story_id).in_(ids))
            .order_by(col(Entry.id))
        ).all()
        for story_id, feed_id in rows:
            feeds_of[story_id].append(feed_id)
        feed_ids = {f for fs in feeds_of.values() for f in fs}
        feed_ids |= {s.feed_id for s in stories if s.feed_id is not None}
        for feed in session.exec(select(Feed).where(col(Feed.id).in_(feed_ids))).all():
            assert feed.id is not None
            names[feed.id] = feed.display_name
        for story_id, topic in session.exec(
            select(StoryTopic.story_id, StoryTopic.topic).where(col(StoryTopic.story_id).in_(ids))
        ).all():
            topics[story_id].append(topic)
    views = []
    for story in stories:
        assert story.id is not None
        source = names.get(story.feed_id or -1) or story.source_name
        others = (names[f] for f in feeds_of[story.id] if f != story.feed_id and f in names)
        views.append(
            StoryView(
                id=story.id,
                title=story.title,
                link=story.link,
                source=source,
                published_at=story.published_at,
                other_sources=tuple(dict.fromkeys(o for o in others if o != source)),
                topics=tuple(sorted(topics[story.id])),
                summary=story.summary,
                image_url=story.image_url,
            )
        )
    return views
