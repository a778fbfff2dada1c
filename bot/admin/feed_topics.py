"""/feedtopics: show or change the topics a feed files its stories under.

A feed's topics decide which subscribers its stories reach (besides topic
keywords and chats' own keywords). A change applies to what the feed brings
from now on and also refiles the stories it brought within the briefing
lookback, so that a feed added without topics, or under the wrong ones, is
put right for the next briefing and `/latest` too. Only the topics that
changed are touched: a story keeps a topic that another of its sources or its
own words give it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from bot.admin import audit
from bot.admin.results import FeedChange
from bot.ingest.topics import TopicMatcher
from bot.storage.models import Entry, Feed, StoryTopic

REFILE_WINDOW = timedelta(hours=24)  # the briefing lookback (`bot.briefings.grouping`)


def show_feed_topics(session: Session, feed_id: int) -> FeedChange:
    feed = session.get(Feed, feed_id)
    if feed is None or not feed.enabled:
        return FeedChange("not_found", feed_id)
    return FeedChange("topics_shown", feed_id, feed.display_name, feed.url, topics=feed.topic_slugs)


def set_feed_topics(
    session: Session,
    feed_id: int,
    topics: Sequence[str],
    *,
    matcher: TopicMatcher,
    actor: audit.Actor,
    now: datetime,
) -> FeedChange:
    """File the feed under `topics` (none: only keywords place its stories)."""
    feed = session.get(Feed, feed_id)
    wanted = tuple(dict.fromkeys(topics))
    if feed is None:
        return FeedChange("not_found", feed_id)
    if not feed.enabled:  # /addfeed takes it back, with the topics asked for now
        return FeedChange("removed_earlier", feed_id, feed.display_name, feed.url, topics=wanted)
    old = feed.topic_slugs
    if feed.origin == "config":  # the next start would set the config's topics again
        return FeedChange("config_topics", feed_id, feed.display_name, feed.url, topics=old)
    feed.topics = " ".join(wanted)
    session.add(feed)
    session.flush()
    changed = set(old) ^ set(wanted)
    refiled = refile_stories(session, feed_id, matcher, changed, since=now - REFILE_WINDOW)
    before, after = ", ".join(old) or "-", ", ".join(wanted) or "-"
    audit.record(session, actor, "feedtopics", f"#{feed_id} {before} → {after}", now=now)
    return FeedChange(
        "topics_set",
        feed_id,
        feed.display_name,
        feed.url,
        topics=wanted,
        old_topics=old,
        items=refiled,
    )


def refile_stories(
    session: Session,
    feed_id: int,
    matcher: TopicMatcher,
    slugs: set[str],
    *,
    since: datetime,
) -> int:
    """Bring `slugs` on the feed's recent stories in line with their sources; count changes.

    A story has a topic when any of its entries gives it one: the entry's feed is
    filed under it, or the entry's categories, title or summary match it (as at ingest).
    """
    if not slugs:
        return 0
    recent = (
        select(Entry.story_id)
        .where(Entry.feed_id == feed_id, col(Entry.seen_at) >= since)
        .distinct()
    )
    entries = session.exec(select(Entry).where(col(Entry.story_id).in_(recent))).all()
    if not entries:
        return 0
    feeds = session.exec(select(Feed).where(col(Feed.id).in_({e.feed_id for e in entries}))).all()
    feed_topics = {f.id: f.topic_slugs for f in feeds}
    wanted: dict[int, set[str]] = defaultdict(set)
    for entry in entries:
        found = matcher.match(
            feed_topics=feed_topics.get(entry.feed_id, ()),
            categories=[c for c in entry.categories.split(" | ") if c],
            title=entry.title,
            summary=entry.summary,
        )
        wanted[entry.story_id].update(found & slugs)
    rows = session.exec(
        select(StoryTopic).where(
            col(StoryTopic.story_id).in_(list(wanted)), col(StoryTopic.topic).in_(list(slugs))
        )
    ).all()
    have: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        have[row.story_id].add(row.topic)
    changed = 0
    for story_id, want in wanted.items():
        gone, new = have[story_id] - want, want - have[story_id]
        if gone:
            session.exec(
                delete(StoryTopic).where(
                    col(StoryTopic.story_id) == story_id, col(StoryTopic.topic).in_(gone)
                )
            )
        session.add_all(StoryTopic(story_id=story_id, topic=slug) for slug in sorted(new))
        changed += bool(gone or new)
    return changed
