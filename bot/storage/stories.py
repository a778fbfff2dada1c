"""Entries and stories: plain table queries (new entries are merged by `bot.ingest.stories`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.storage.models import Delivery, Entry, Story, StoryTopic

_CHUNK = 500  # stay under SQLite's bound-parameter limit


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def known_entries(
    session: Session, feed_id: int, identities: Sequence[str]
) -> dict[str, tuple[str | None, str]]:
    """Of `identities`, those this feed has stored before, each with its (link, title)."""
    known: dict[str, tuple[str | None, str]] = {}
    for chunk in _chunks(identities):
        query = select(Entry.identity, Entry.link, Entry.title).where(
            Entry.feed_id == feed_id, col(Entry.identity).in_(chunk)
        )
        for identity, link, title in session.exec(query).all():
            known[identity] = (link, title)
    return known


def known_by_content(
    session: Session, feed_id: int, items: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], str]:
    """Of these (link, title, summary) triples, those an entry of this feed already has,
    each with that entry's identity."""
    found: dict[tuple[str, str, str], str] = {}
    wanted = set(items)
    links = sorted({link for link, _, _ in items})
    for chunk in _chunks(links):
        rows = session.exec(
            select(Entry.link, Entry.title, Entry.summary, Entry.identity).where(
                Entry.feed_id == feed_id, col(Entry.link).in_(chunk)
            )
        ).all()
        for link, title, summary, identity in rows:
            if link is not None and (link, title, summary) in wanted:
                found[(link, title, summary)] = identity
    return found


def retitle(session: Session, feed_id: int, edits: Mapping[str, tuple[str, str]]) -> None:
    """Give a feed's stored entries their edited headlines: identity -> (stored, new).

    A story whose headline is the entry's (its feed's, and the same words) takes the new
    one: lists show a corrected headline, not the first one forever. Edits are rare (a
    few a refresh at most), so one entry at a time.
    """
    for identity, (old, new) in edits.items():
        entry = session.exec(
            select(Entry).where(Entry.feed_id == feed_id, Entry.identity == identity)
        ).first()
        if entry is None:
            continue
        entry.title = new
        session.add(entry)
        story = session.get(Story, entry.story_id)
        if story is not None and story.feed_id == feed_id and story.title == old:
            story.title = new
            session.add(story)
    session.flush()  # the batch after this reads entries through the driver


def latest_stories(
    session: Session,
    *,
    topics: Sequence[str] | None,
    limit: int,
    exclude_delivered_to: int | None = None,
    seen_since: datetime | None = None,
    published_since: datetime | None = None,
    offset: int = 0,
) -> list[Story]:
    """Newest stories, optionally only those in `topics`, not yet sent to a chat, or new.

    New: first seen at or after `seen_since`, and published at or after `published_since`.
    """
    query = select(Story)
    if seen_since is not None:
        query = query.where(col(Story.first_seen_at) >= seen_since)
    if published_since is not None:
        query = query.where(col(Story.published_at) >= published_since)
    if topics:
        in_topic = (
            select(StoryTopic.story_id)
            .where(StoryTopic.story_id == Story.id, col(StoryTopic.topic).in_(list(topics)))
            .exists()
        )
        query = query.where(in_topic)
    if exclude_delivered_to is not None:
        delivered = (
            select(Delivery.story_id)
            .where(Delivery.chat_id == exclude_delivered_to, Delivery.story_id == Story.id)
            .exists()
        )
        query = query.where(~delivered)
    query = query.order_by(col(Story.published_at).desc(), col(Story.id).desc()).limit(limit)
    if offset:
        query = query.offset(offset)
    return list(session.exec(query).all())
