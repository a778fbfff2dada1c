"""Merge new entries into cross-source stories: dedup, topic matching and inserts.

Candidate stories come from the `story_key` index (a handful of indexed
look-ups per entry), so the cost of an insert does not grow with the number
of stored stories. With the semantic method (`bot.ingest.semantic`) the
stories whose headline embeddings lie nearest join the candidates, and each
candidate's cosine goes with it. The decision itself is
`bot.ingest.dedup.best_match`; the evaluation (bench/dedup_eval.py), the
benchmarks and the tests all run this module, not a copy of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.ingest import dedup, story_batch
from bot.ingest.parser import ParsedEntry, entry_identities
from bot.ingest.semantic import SemanticDedup
from bot.ingest.topics import TopicMatcher
from bot.storage import stories as story_store
from bot.storage.models import Entry, Feed, Story, StoryKey, StoryTopic, StoryVector
from bot.storage.retention import touch_listed

_MAX_CANDIDATES = 16  # the stories sharing the most keys; the rest are weaker matches

# The memoised fingerprint, shared with the batch path (one cache).
fingerprint = story_batch.fingerprint


@dataclass(frozen=True)
class IngestOutcome:
    new_entries: int = 0
    new_stories: int = 0
    merged: int = 0
    story_ids: tuple[int, ...] = ()


def find_story(
    session: Session,
    fp: dedup.Fingerprint,
    *,
    keys: Sequence[int],
    link: str | None,
    published_at: datetime,
    window: timedelta,
    semantic: SemanticDedup | None = None,
    vector: Any = None,
) -> int | None:
    """Return the id of the stored story this entry belongs to, if any.

    `vector` is the entry's embedding when `semantic` is active.
    """
    if link:
        same_link = select(Entry.story_id).where(Entry.link == link).limit(1)
        story_id = session.exec(same_link).first()
        if story_id is not None:
            return story_id
    candidates: list[int] = []
    if keys:
        shared = sa.func.count().label("shared")
        candidates = list(
            session.exec(
                select(StoryKey.story_id)
                .where(col(StoryKey.key).in_(list(keys)))
                .where(col(StoryKey.published_at) >= published_at - window)
                .where(col(StoryKey.published_at) <= published_at + window)
                .group_by(col(StoryKey.story_id))
                .order_by(shared.desc(), col(StoryKey.story_id).desc())
                .limit(_MAX_CANDIDATES)
            ).all()
        )
    cosines: dict[int, float] = {}
    if semantic is not None and vector is not None:
        near = semantic.neighbours(session, vector, published_at=published_at, window=window)
        candidates = list(dict.fromkeys([*candidates, *near]))
        cosines = semantic.cosines(session, vector, candidates)
    if not candidates:
        return None
    rows = session.exec(
        select(Entry.story_id, Entry.title, Entry.summary).where(
            col(Entry.story_id).in_(candidates)
        )
    ).all()
    return dedup.best_match(
        fp, ((sid, fingerprint(title, summary)) for sid, title, summary in rows), cosines=cosines
    )


def _add_keys(
    session: Session, story_id: int, keys: Iterable[int], published_at: datetime, *, new: bool
) -> None:
    unique = set(keys)
    if unique and not new:
        have = select(StoryKey.key).where(
            StoryKey.story_id == story_id, col(StoryKey.key).in_(list(unique))
        )
        unique -= set(session.exec(have).all())
    if unique:
        rows = [{"key": k, "story_id": story_id, "published_at": published_at} for k in unique]
        session.execute(sa.insert(StoryKey), rows)


def _add_topics(session: Session, story_id: int, topics: Iterable[str], *, new: bool) -> None:
    wanted = set(topics)
    if wanted and not new:
        have = select(StoryTopic.topic).where(StoryTopic.story_id == story_id)
        wanted -= set(session.exec(have).all())
    if wanted:
        rows = [{"story_id": story_id, "topic": t} for t in sorted(wanted)]
        session.execute(sa.insert(StoryTopic), rows)


def ingest_entries(
    session: Session,
    *,
    feed: Feed,
    entries: Sequence[ParsedEntry],
    matcher: TopicMatcher,
    now: datetime,
    window: timedelta,
    semantic: SemanticDedup | None = None,
) -> IngestOutcome:
    """Store the entries this feed has not seen and attach each to a story.

    Rows are written with Core inserts (no ORM unit of work per entry): this
    runs for every new entry of every feed.
    """
    assert feed.id is not None
    identities = entry_identities(entries)
    known = story_store.known_identities(session, feed.id, identities)
    # Still listed: keep these entries' identities past the retention period.
    touch_listed(session, feed.id, sorted(known), now=now)
    new_entries = new_stories = merged = 0
    touched: list[int] = []
    fresh: dict[str, ParsedEntry] = {}  # new identities, first occurrence wins
    for entry, identity in zip(entries, identities, strict=True):
        if identity not in known:
            fresh.setdefault(identity, entry)
    if semantic is None:  # the lexical method: the whole feed in a few statements
        info = story_batch.FeedInfo(feed.id, feed.display_name, feed.topic_slugs)
        created, joined, story_ids = story_batch.ingest_fresh(
            session, feed=info, fresh=list(fresh.items()), matcher=matcher, now=now, window=window
        )
        return IngestOutcome(len(fresh), created, joined, story_ids)
    # One batch per feed: the encoder costs about half as much per entry that way.
    vectors = semantic.embed_many(list(fresh.values())) if semantic and fresh else None
    for index, (identity, entry) in enumerate(fresh.items()):
        vector = vectors[index] if vectors is not None else None
        story_id, created = _attach(
            session,
            feed=feed,
            entry=entry,
            now=now,
            window=window,
            semantic=semantic,
            vector=vector,
        )
        topics = matcher.match(
            feed_topics=feed.topic_slugs,
            categories=entry.categories,
            title=entry.title,
            summary=entry.summary,
        )
        _add_topics(session, story_id, topics, new=created)
        session.execute(
            sa.insert(Entry),
            [
                {
                    "feed_id": feed.id,
                    "identity": identity[:600],
                    "guid": (entry.guid or None) and entry.guid[:2048],
                    "link": entry.link,
                    "title": entry.title[:400],
                    "summary": entry.summary[:1200],
                    "categories": " | ".join(entry.categories)[:1000],
                    "published_at": entry.published_at,
                    "seen_at": now,
                    "story_id": story_id,
                }
            ],
        )
        new_entries += 1
        new_stories += created
        merged += not created
        touched.append(story_id)
    return IngestOutcome(new_entries, new_stories, merged, tuple(dict.fromkeys(touched)))


def _attach(
    session: Session,
    *,
    feed: Feed,
    entry: ParsedEntry,
    now: datetime,
    window: timedelta,
    semantic: SemanticDedup | None,
    vector: Any,
) -> tuple[int, bool]:
    """Find or create the story for one entry (`vector`: its embedding, if semantic)."""
    fp = fingerprint(entry.title, entry.summary)
    keys = dedup.candidate_keys(fp)
    story_id = find_story(
        session,
        fp,
        keys=keys,
        link=entry.link,
        published_at=entry.published_at,
        window=window,
        semantic=semantic,
        vector=vector,
    )
    if story_id is not None:
        values: dict[str, Any] = {"entry_count": col(Story.entry_count) + 1}
        if entry.image_url:  # a story without an image takes the first one another outlet has
            values["image_url"] = sa.func.coalesce(col(Story.image_url), entry.image_url)
        bump = (
            sa.update(Story)
            .where(col(Story.id) == story_id)
            .values(**values)
            .returning(col(Story.published_at))
        )
        published_at = session.execute(bump).scalar_one()
        _add_keys(session, story_id, keys, published_at, new=False)
        return story_id, False
    insert = (
        sa.insert(Story)
        .values(
            title=entry.title[:400],
            summary=entry.summary[:1200],
            link=entry.link,
            source_name=feed.display_name[:200],
            feed_id=feed.id,
            published_at=entry.published_at,
            first_seen_at=now,
            entry_count=1,
            image_url=entry.image_url,
        )
        .returning(col(Story.id))
    )
    new_id = int(session.execute(insert).scalar_one())
    _add_keys(session, new_id, keys, entry.published_at, new=True)
    if vector is not None:
        row = {"story_id": new_id, "published_at": entry.published_at}
        session.execute(sa.insert(StoryVector), [{**row, "vector": SemanticDedup.to_bytes(vector)}])
    return new_id, True
