"""Merge one feed's new entries into stories with a handful of statements in all.

The decisions `bot.ingest.dedup.best_match` takes for each entry, made in memory
over rows read once per feed:

1. the stored entries sharing a link with any new entry (first stored wins);
2. the `story_key` rows of every new entry's candidate keys over the span of their
   dedup windows, with their story's publication time;
3. the title and summary of every stored entry of the stories that can be among
   an entry's 16 candidates (and, semantic method, its nearest stored stories);
4. semantic method: those stories' stored vectors (`bot.ingest.semantic.FeedVectors`,
   which also searches the stored vectors, loaded once per feed, up front).

Entries of the same feed see each other as if each were stored before the next
is decided: each decision adds its keys, entry, link and (a new story's, semantic
method) vector to an in-memory overlay that the next decision reads beside the
stored rows. Then stories, keys, topics, entries and vectors are written with
executemany, using statements built once (SQLAlchemy caches their compiled
form); keys and topics a stored story already has are skipped by the database
(`ON CONFLICT DO NOTHING` on their primary keys).

Why candidates read once are enough: a stored story's key count only grows
through this batch when the batch merges an entry into it, and such a story's
rows are read anyway; any other stored story outside an entry's stored-only top
16 stays outside once in-batch counts are added. Every key of a story carries
the story's publication time (this module writes them so), so the keys read in
the windows' span are all of that story's keys among them. The stored stories
nearest an entry do not depend on the batch, so they are searched up front.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from bot.ingest import dedup
from bot.ingest.parser import ParsedEntry
from bot.ingest.semantic import FeedVectors, SemanticDedup
from bot.ingest.topics import TopicMatcher
from bot.storage.models import Entry, Story, StoryKey, StoryTopic, table_of

MAX_CANDIDATES = 16  # the stories sharing the most keys; the rest are weaker matches
_CHUNK = 500  # bound parameters per IN list (SQLite's historical limit is 999)
_PROVISIONAL = 1 << 62  # ids of this batch's new stories until inserted: above any stored id


# Fingerprints are pure and immutable: candidates recur across inserts, so
# remembering recent ones saves re-tokenising the same headlines.
fingerprint = lru_cache(maxsize=20_000)(dedup.fingerprint)  # ~1.4 KB each: ~28 MB at most

_story, _entry = table_of(Story), table_of(Entry)
_key, _topic = table_of(StoryKey), table_of(StoryTopic)

_LINKS = (
    sa.select(_entry.c.link, _entry.c.story_id)
    .where(_entry.c.link.in_(sa.bindparam("links", expanding=True)))
    .order_by(_entry.c.id)
)
# The time comes back as the driver gives it (SQLite: its fixed-width text), compared
# with bounds converted the same way, as the database compared them: no conversion per row.
_KEYS = sa.select(
    _key.c.key, _key.c.story_id, sa.type_coerce(_key.c.published_at, sa.types.NullType())
).where(
    _key.c.key.in_(sa.bindparam("keys", expanding=True)),
    _key.c.published_at >= sa.bindparam("lo"),
    _key.c.published_at <= sa.bindparam("hi"),
)
_ENTRIES = (
    sa.select(_entry.c.story_id, _entry.c.title, _entry.c.summary, _story.c.published_at)
    .join(_story, _story.c.id == _entry.c.story_id)
    .where(_entry.c.story_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_entry.c.story_id, _entry.c.id)
)
_INSERT_STORY = sa.insert(_story).returning(_story.c.id, sort_by_parameter_order=True)
_BUMP_STORY = (
    sa.update(_story)
    .where(_story.c.id == sa.bindparam("b_id"))
    .values(
        entry_count=_story.c.entry_count + sa.bindparam("b_added"),
        image_url=sa.func.coalesce(_story.c.image_url, sa.bindparam("b_image")),
    )
)
_INSERT_ENTRY = sa.insert(_entry)
# About nine key rows per entry: written through the driver, each story's time
# converted once (SQLAlchemy would convert it per row).
_INSERT_KEY = (
    'INSERT INTO story_key ("key", story_id, published_at) VALUES ({0}, {0}, {0}) '
    "ON CONFLICT DO NOTHING"
)
_INSERT_TOPIC = {
    "sqlite": sqlite.insert(_topic).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(_topic).on_conflict_do_nothing(),
}


@dataclass(frozen=True)
class FeedInfo:
    """What the batch needs from the feed row."""

    feed_id: int
    source_name: str
    topics: tuple[str, ...]


@dataclass
class _Story:
    """A story this batch creates or merges into."""

    id: int  # stored id, or provisional (>= _PROVISIONAL) until inserted
    published_at: datetime
    image_url: str | None = None
    added: int = 0  # entries this batch attaches (a new story counts its first)
    first_image: str | None = None  # stored story: the first image a merged entry brings
    keys: set[int] = field(default_factory=set)  # keys it has, stored or added
    new_keys: list[int] = field(default_factory=list)  # keys this batch adds
    topics: set[str] = field(default_factory=set)  # topics this batch adds
    row: dict[str, Any] | None = None  # the insert, for a new story


@dataclass
class _Batch:
    """The rows read once, and this batch's additions on top of them."""

    window: timedelta
    link_story: dict[str, int]
    key_rows: dict[int, list[tuple[int, Any]]]  # key -> (story id, its time as stored)
    entries: dict[int, list[tuple[str, str]]]  # story id -> (title, summary) in id order
    published: dict[int, datetime]  # stored story id -> published_at
    keys_of: dict[int, set[int]]  # stored story id -> its keys among those read
    stored: Callable[[datetime], Any]  # a time as the driver stores it
    stories: dict[int, _Story] = field(default_factory=dict)  # touched, by (provisional) id

    def candidates(self, keys: Iterable[int], published_at: datetime) -> list[int]:
        """The story ids sharing the most keys in the window, as the SQL query ranks them."""
        lo, hi = self.stored(published_at - self.window), self.stored(published_at + self.window)
        shared: dict[int, int] = {}
        count = shared.get
        for key in keys:
            for story_id, stamp in self.key_rows.get(key, ()):
                if lo <= stamp <= hi:
                    shared[story_id] = count(story_id, 0) + 1
        # Most shared keys first, then the highest id (ORDER BY shared DESC, story_id DESC).
        ranked = heapq.nsmallest(MAX_CANDIDATES, [(-n, -sid) for sid, n in shared.items()])
        return [-negative_id for _, negative_id in ranked]

    def find(
        self,
        entry: ParsedEntry,
        fp: dedup.Fingerprint,
        keys: list[int],
        vectors: FeedVectors | None = None,
        index: int = 0,
    ) -> int | None:
        """The story `entry` (number `index` of `vectors`, semantic method) joins, or None."""
        if entry.link and entry.link in self.link_story:
            return self.link_story[entry.link]
        candidates = self.candidates(keys, entry.published_at)
        if vectors is not None:  # its nearest stories join, and the cosines count
            candidates = list(dict.fromkeys([*candidates, *vectors.near(index)]))
        if not candidates:
            return None
        candidates.sort()
        rows = (
            (story_id, fingerprint(title, summary))
            for story_id in candidates
            for title, summary in self.entries.get(story_id, ())
        )
        cosines = vectors.cosines(index, candidates) if vectors is not None else None
        return dedup.best_match(fp, rows, cosines=cosines)

    def add_keys(self, story: _Story, keys: Iterable[int]) -> None:
        for key in sorted(set(keys) - story.keys):
            story.keys.add(key)
            story.new_keys.append(key)
            self.key_rows.setdefault(key, []).append((story.id, self.stored(story.published_at)))


def _stored(bind: Any) -> Callable[[datetime], Any]:
    """Convert a time as `story_key.published_at` binds it for this database."""
    dialect = bind.dialect
    convert = _key.c.published_at.type.dialect_impl(dialect).bind_processor(dialect)
    return convert or (lambda value: value)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _read(
    session: Session,
    fresh: Sequence[ParsedEntry],
    keys: Sequence[list[int]],
    window: timedelta,
    near: Iterable[int] = (),
) -> _Batch:
    links = sorted({e.link for e in fresh if e.link})
    link_story: dict[str, int] = {}
    for chunk in _chunks(links):
        for link, story_id in session.execute(_LINKS, {"links": list(chunk)}).all():
            link_story.setdefault(link, story_id)
    every_key = sorted({k for ks in keys for k in ks})
    stamps = [e.published_at for e in fresh]
    lo, hi = min(stamps) - window, max(stamps) + window
    key_rows: dict[int, list[tuple[int, Any]]] = {}
    keys_of: dict[int, set[int]] = {}
    for chunk in _chunks(every_key):
        params = {"keys": list(chunk), "lo": lo, "hi": hi}
        for key, story_id, stamp in session.execute(_KEYS, params).all():
            key_rows.setdefault(key, []).append((story_id, stamp))
            keys_of.setdefault(story_id, set()).add(key)
    batch = _Batch(window, link_story, key_rows, {}, {}, keys_of, _stored(session.get_bind()))
    # The stored stories that can be candidates: each entry's stored-only top 16,
    # and any story an entry joins by its link (its keys may then count).
    wanted = set(link_story.values()) | set(near)
    for entry, entry_keys in zip(fresh, keys, strict=True):
        wanted.update(batch.candidates(entry_keys, entry.published_at))
    for chunk in _chunks(sorted(wanted)):
        for story_id, title, summary, published_at in session.execute(
            _ENTRIES, {"ids": list(chunk)}
        ).all():
            batch.entries.setdefault(story_id, []).append((title, summary))
            batch.published[story_id] = published_at
    return batch


def ingest_fresh(
    session: Session,
    *,
    feed: FeedInfo,
    fresh: Sequence[tuple[str, ParsedEntry]],
    matcher: TopicMatcher,
    now: datetime,
    window: timedelta,
    semantic: SemanticDedup | None = None,
) -> tuple[int, int, tuple[int, ...]]:
    """Store `fresh` (identity, entry) pairs; return (new stories, merged, touched story ids).

    With `semantic`, the entries are embedded and their nearest stories join the candidates.
    """
    if not fresh:
        return 0, 0, ()
    entries = [entry for _, entry in fresh]
    fps = [fingerprint(e.title, e.summary) for e in entries]
    keys = [dedup.candidate_keys(fp) for fp in fps]
    vectors = FeedVectors(session, semantic, entries, window) if semantic else None
    batch = _read(session, entries, keys, window, vectors.near_ids() if vectors else ())
    if vectors is not None:
        vectors.read(session, batch.entries)
    entry_rows: list[dict[str, Any]] = []
    touched: list[int] = []
    new_stories = merged = 0
    for index, ((identity, entry), fp, entry_keys) in enumerate(zip(fresh, fps, keys, strict=True)):
        story_id = batch.find(entry, fp, entry_keys, vectors, index)
        if story_id is None:
            story = _new_story(batch, feed, entry, now)
            new_stories += 1
            if vectors is not None:
                vectors.add(index, story.id)
        else:
            story = _merge(batch, story_id, entry)
            merged += 1
        batch.add_keys(story, entry_keys)
        story.topics.update(
            matcher.match(
                feed_topics=feed.topics,
                categories=entry.categories,
                title=entry.title,
                summary=entry.summary,
            )
        )
        title, summary = entry.title[:400], entry.summary[:1200]
        batch.entries.setdefault(story.id, []).append((title, summary))
        if entry.link:
            batch.link_story.setdefault(entry.link, story.id)
        touched.append(story.id)
        entry_rows.append(
            {
                "feed_id": feed.feed_id,
                "identity": identity[:600],
                "guid": (entry.guid or None) and entry.guid[:2048],
                "link": entry.link,
                "title": title,
                "summary": summary,
                "categories": " | ".join(entry.categories)[:1000],
                "published_at": entry.published_at,
                "seen_at": now,
                "story_id": story.id,
            }
        )
    real = _write(session, batch, entry_rows)
    if vectors is not None:
        vectors.write(session, real)
    return new_stories, merged, tuple(dict.fromkeys(real.get(s, s) for s in touched))


def _new_story(batch: _Batch, feed: FeedInfo, entry: ParsedEntry, now: datetime) -> _Story:
    story_id = _PROVISIONAL + len(batch.stories)
    row = {
        "title": entry.title[:400],
        "summary": entry.summary[:1200],
        "link": entry.link,
        "source_name": feed.source_name[:200],
        "feed_id": feed.feed_id,
        "published_at": entry.published_at,
        "first_seen_at": now,
    }
    story = _Story(story_id, entry.published_at, image_url=entry.image_url, added=1, row=row)
    batch.stories[story_id] = story
    return story


def _merge(batch: _Batch, story_id: int, entry: ParsedEntry) -> _Story:
    story = batch.stories.get(story_id)
    if story is None:  # a stored story, first merged into by this batch
        story = _Story(story_id, batch.published[story_id])
        story.keys = set(batch.keys_of.get(story_id, ()))
        batch.stories[story_id] = story
    story.added += 1
    if entry.image_url:  # a story without an image takes the first one another outlet has
        if story.row is not None:
            story.image_url = story.image_url if story.image_url is not None else entry.image_url
        elif story.first_image is None:
            story.first_image = entry.image_url
    return story


def _write(session: Session, batch: _Batch, entry_rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert and update what the batch decided; return provisional -> stored story ids."""
    created = [s for s in batch.stories.values() if s.row is not None]
    real: dict[int, int] = {}
    if created:
        rows = [
            {**s.row, "entry_count": s.added, "image_url": s.image_url}
            for s in created
            if s.row is not None
        ]
        ids = session.execute(_INSERT_STORY, rows).scalars().all()
        real = {s.id: int(i) for s, i in zip(created, ids, strict=True)}
    bumps = [
        {"b_id": s.id, "b_added": s.added, "b_image": s.first_image}
        for s in batch.stories.values()
        if s.row is None
    ]
    if bumps:
        session.execute(_BUMP_STORY, bumps)
    dialect = session.get_bind().dialect
    _insert_keys(session, dialect, batch.stories.values(), real)
    topic_rows = [
        {"story_id": real.get(s.id, s.id), "topic": t}
        for s in batch.stories.values()
        for t in sorted(s.topics)
    ]
    if topic_rows:
        session.execute(_INSERT_TOPIC[dialect.name], topic_rows)
    for row in entry_rows:
        row["story_id"] = real.get(row["story_id"], row["story_id"])
    session.execute(_INSERT_ENTRY, entry_rows)
    return real


def _insert_keys(
    session: Session, dialect: Dialect, stories: Iterable[_Story], real: dict[int, int]
) -> None:
    stamp_type = _key.c.published_at.type.dialect_impl(dialect)
    convert = stamp_type.bind_processor(dialect) or (lambda value: value)
    rows = [
        (key, real.get(s.id, s.id), stamp)
        for s in stories
        if s.new_keys
        for stamp in (convert(s.published_at),)
        for key in s.new_keys
    ]
    if rows:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        session.connection().exec_driver_sql(_INSERT_KEY.format(mark), rows)
