"""Merge one feed's new entries into stories with a handful of statements in all.

The decisions `bot.ingest.dedup.best_match` takes for each entry, made in memory
over rows read once per feed:

1. the stored entries sharing a link with any new entry (first stored wins);
2. for each new entry, how many of its candidate keys each stored story has within
   the entry's dedup window (counted by the database: one grouped join per feed);
3. the title and summary of every stored entry of the stories that can be among
   an entry's 16 candidates (and, semantic method, its nearest stored stories);
   of the feed's own entries among them, also link and time: a story that holds an
   earlier issue of the entry's recurring headline is no candidate, and a link the
   feed gives to other items joins nothing by itself (`bot.ingest.recurring`);
4. semantic method: those stories' stored vectors (`bot.ingest.semantic.FeedVectors`,
   which also searches the stored vectors, loaded once per feed, up front).

Entries of the same feed see each other as if each were stored before the next
is decided: each decision adds its keys, entry, link and (a new story's, semantic
method) vector to an in-memory overlay that the next decision reads beside the
stored rows. The keys each entry shares with stored stories are counted once, up
front; a decision adds the overlay's to them. The keys a stored story already has
are read only for the stories the batch merges into. Then `bot.ingest.story_write` writes
stories, keys, topics and entries with executemany (vectors: `FeedVectors.write`).

Why candidates read once are enough: a stored story's key count only grows
through this batch when the batch merges an entry into it, and such a story's
rows are read anyway; any other stored story outside an entry's stored-only top
16 stays outside once in-batch counts are added. Every key of a story carries
the story's publication time (this module writes them so), so a story's keys in
an entry's window are all of its keys or none. The stored stories
nearest an entry do not depend on the batch, so they are searched up front.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bot.ingest import dedup, story_write
from bot.ingest.parser import ParsedEntry
from bot.ingest.prepared import Prepared
from bot.ingest.recurring import Issue, link_reused, runs_again
from bot.ingest.semantic import FeedVectors, SemanticDedup
from bot.ingest.story_write import Lead, PendingStory
from bot.ingest.topics import TopicMatcher
from bot.storage.models import Entry, Story, StoryKey, table_of

MAX_CANDIDATES = 16  # the stories sharing the most keys; the rest are weaker matches
_CHUNK = 500  # bound parameters per IN list (SQLite's historical limit is 999)
_PROVISIONAL = 1 << 62  # ids of this batch's new stories until inserted: above any stored id


# Fingerprints handed over ready-made (`bot.ingest.prepare`), taken by the next
# computation of the same (title, summary): one that arrives with its entry goes into
# the cache below as if computed here (any two fingerprints of a text are equal).
_handed: dict[tuple[str, str], dedup.Fingerprint] = {}


def _fingerprint(title: str, summary: str = "") -> dedup.Fingerprint:
    handed = _handed.pop((title, summary), None)
    return handed if handed is not None else dedup.fingerprint(title, summary)


# Fingerprints are pure and immutable: candidates recur across inserts, so
# remembering recent ones saves re-tokenising the same headlines. ~1.3 KB each
# (~26 MB at most), ~1.2 KB more for one whose summary a full score has read.
fingerprint = lru_cache(maxsize=20_000)(_fingerprint)


def _prepared(entry: ParsedEntry) -> Prepared | None:
    """What the entry brings from its parse worker, if it was worked out from it."""
    prepared = entry.prepared
    return prepared if prepared is not None and prepared.fits(entry) else None


def _own_fingerprint(entry: ParsedEntry, prepared: Prepared | None) -> dedup.Fingerprint:
    """The entry's fingerprint through the cache, the one it brings if it has one."""
    if prepared is None:
        return fingerprint(entry.title, entry.summary)
    text = (entry.title, entry.summary)
    _handed[text] = prepared.fingerprint
    try:
        return fingerprint(*text)
    finally:
        _handed.pop(text, None)  # the cache held one already


_story, _entry = table_of(Story), table_of(Entry)
_key = table_of(StoryKey)

_LINKS = (
    sa.select(_entry.c.link, _entry.c.story_id)
    .where(_entry.c.link.in_(sa.bindparam("links", expanding=True)))
    .order_by(_entry.c.id)
)
# How many of each entry's keys (entry number, key, window bounds as story_key stores
# times) every stored story has within that entry's window: one row per (entry, story)
# instead of one per key row, each a range of story_key's primary key.
_SHARED_PAIRS = 240  # (entry, key) pairs per SQLite statement: 4 bound values each
_SHARED_SQLITE = (
    "WITH e(i, k, lo, hi) AS (VALUES {rows}) "
    'SELECT e.i, s.story_id, count(*) FROM e CROSS JOIN story_key AS s ON s."key" = e.k'
    " AND s.published_at >= e.lo AND s.published_at <= e.hi GROUP BY e.i, s.story_id"
)
_SHARED_POSTGRESQL = (
    "SELECT e.i, s.story_id, count(*) FROM unnest(%s::integer[], %s::bigint[],"
    " %s::timestamptz[], %s::timestamptz[]) AS e(i, k, lo, hi) JOIN story_key AS s"
    ' ON s."key" = e.k AND s.published_at >= e.lo AND s.published_at <= e.hi'
    " GROUP BY e.i, s.story_id"
)
# The keys a stored story has within the batch's span (read for stories merged into).
_STORY_KEYS = (
    'SELECT story_key."key" FROM story_key WHERE story_key.story_id = {0}'
    " AND story_key.published_at >= {0} AND story_key.published_at <= {0}"
)
# Every stored entry of the stories that can be candidates (~750 rows a feed at 1,000
# feeds), through the driver: SQLAlchemy's rows cost more than the read. The story's
# time comes as the driver gives it (converted only for a story merged into).
_ENTRIES = (
    "SELECT entry.story_id, entry.title, entry.summary, story.published_at,"
    " entry.feed_id, entry.link, entry.published_at FROM entry"
    " JOIN story ON story.id = entry.story_id WHERE entry.story_id {0}"
    " ORDER BY entry.story_id, entry.id"
)


def _entries_sql(dialect: str, count: int) -> str:
    if dialect == "postgresql":
        return _ENTRIES.format("= ANY(%s::bigint[])")
    return _ENTRIES.format(f"IN ({', '.join(['?'] * count)})")


@dataclass(frozen=True)
class FeedInfo:
    """What the batch needs from the feed row."""

    feed_id: int
    source_name: str
    topics: tuple[str, ...]


@dataclass
class _Batch:
    """The rows read once, and this batch's additions on top of them."""

    window: timedelta
    link_story: dict[str, int]
    stored_keys: Callable[[int], frozenset[int]]  # a stored story's keys in the batch's span
    entries: dict[int, list[tuple[str, str]]]  # story id -> (title, summary) in id order
    published: dict[int, Any]  # stored story id -> published_at as the driver gives it
    stored: Callable[[datetime], Any]  # a time as the driver stores it
    loaded: Callable[[Any], datetime]  # a story's time as the driver gives it, as a datetime
    stories: dict[int, PendingStory] = field(default_factory=dict)  # touched, by (provisional) id
    shared: list[dict[int, int]] = field(default_factory=list)  # per entry: stored story ->
    # how many of the entry's keys it has in the entry's window
    top: list[list[int]] = field(default_factory=list)  # per entry: `_top` of its `shared`
    windows: list[tuple[Any, Any]] = field(default_factory=list)  # per entry: `bounds`
    added_rows: dict[int, list[tuple[int, Any]]] = field(default_factory=dict)  # this batch's
    # story id -> (story id, fingerprint) of each of its entries, once per batch: a story
    # is a candidate of several of the feed's entries (~1.8 lookups a story at 1,000 feeds)
    fingerprints: dict[int, list[tuple[int, dedup.Fingerprint]]] = field(default_factory=dict)
    own: dict[int, list[Issue]] = field(default_factory=dict)  # story id -> this feed's
    # entries in it (stored and this batch's), for `bot.ingest.recurring`
    shared_links: frozenset[str] = frozenset()  # links of several anchors of one page in
    # the fetch: such a link joins nothing by itself (`bot.ingest.stories._shared_links`)

    def count(
        self,
        rows: dict[int, list[tuple[int, Any]]],
        keys: Iterable[int],
        lo: Any,
        hi: Any,
        into: dict[int, int],
    ) -> dict[int, int]:
        """Add to `into` how many of `keys` each story has among `rows` within [lo, hi]."""
        count = into.get
        for key in keys:
            for story_id, stamp in rows.get(key, ()):
                if lo <= stamp <= hi:
                    into[story_id] = count(story_id, 0) + 1
        return into

    def bounds(self, published_at: datetime) -> tuple[Any, Any]:
        return self.stored(published_at - self.window), self.stored(published_at + self.window)

    def candidates(self, index: int, keys: Iterable[int]) -> list[int]:
        """The story ids sharing the most keys in the window, as the SQL query ranks them.

        The stored rows were counted once (`_read`); this batch's rows are added on top.
        """
        lo, hi = self.windows[index]  # `bounds(published_at)`, converted once in `_read`
        added = self.count(self.added_rows, keys, lo, hi, {})
        if not added:
            return list(self.top[index])
        # A stored story outside the stored-only top 16 that the batch added no key to
        # stays behind those 16 (their counts only grow): rank the rest alone.
        stored = self.shared[index]
        counts = {story_id: stored[story_id] for story_id in self.top[index]}
        for story_id, n in added.items():
            counts[story_id] = stored.get(story_id, 0) + n
        return _top(counts)

    def find(
        self,
        entry: ParsedEntry,
        fp: dedup.Fingerprint,
        keys: list[int],
        vectors: FeedVectors | None = None,
        index: int = 0,
    ) -> int | None:
        """The story entry number `index` joins, or None (semantic method: with `vectors`)."""
        if entry.link and entry.link in self.link_story and entry.link not in self.shared_links:
            by_link = self.link_story[entry.link]
            if not self.reused_link(by_link, entry, fp):
                return by_link
        candidates = self.candidates(index, keys)
        if vectors is not None:  # its nearest stories join, and the cosines count
            candidates = list(dict.fromkeys([*candidates, *vectors.near(index)]))
        own = self.own
        if any(c in own for c in candidates):  # the feed's own entries in a candidate
            issue = _issue(entry)
            candidates = [c for c in candidates if c not in own or not runs_again(issue, own[c])]
        if not candidates:
            return None
        candidates.sort()
        rows = [row for story_id in candidates for row in self.fingerprints_of(story_id)]
        cosines = vectors.cosines(index, candidates) if vectors is not None else None
        return dedup.best_match(fp, rows, cosines=cosines)

    def reused_link(self, story_id: int, entry: ParsedEntry, fp: dedup.Fingerprint) -> bool:
        """Whether the feed reuses `entry`'s link for other items (`recurring.link_reused`).

        Only this feed's entries under the link count: another outlet's entry with the
        link still joins by it.
        """
        earlier = (
            (fingerprint(i.title, i.summary), i.published_at)
            for i in self.own.get(story_id, ())
            if i.link == entry.link
        )
        return link_reused(fp, entry.published_at, earlier)

    def fingerprints_of(self, story_id: int) -> list[tuple[int, dedup.Fingerprint]]:
        """(story id, fingerprint) of each of the story's entries, in id order."""
        found = self.fingerprints.get(story_id)
        if found is None:
            texts = self.entries.get(story_id, ())
            found = [(story_id, fingerprint(title, summary)) for title, summary in texts]
            self.fingerprints[story_id] = found
        return found

    def add_entry(self, story_id: int, title: str, summary: str) -> None:
        """Add an entry this batch attaches to a story: later decisions score it too."""
        self.entries.setdefault(story_id, []).append((title, summary))
        if story_id in self.fingerprints:
            self.fingerprints[story_id].append((story_id, fingerprint(title, summary)))

    def add_own(self, story_id: int, entry: ParsedEntry) -> None:
        """Record an entry of this feed that the batch attaches to a story."""
        self.own.setdefault(story_id, []).append(_issue(entry))

    def add_keys(self, story: PendingStory, keys: Iterable[int]) -> None:
        stamp = self.stored(story.published_at)
        stored = self.stored_keys(story.id) if story.row is None else frozenset()
        for key in sorted(set(keys) - story.keys):
            story.keys.add(key)
            if key in stored:
                continue  # a stored story's key (its rows in the span count already)
            story.new_keys.append(key)
            self.added_rows.setdefault(key, []).append((story.id, stamp))


def _issue(entry: ParsedEntry) -> Issue:
    return Issue(entry.published_at, entry.link, entry.title[:400], entry.summary[:1200])


def _top(shared: dict[int, int]) -> list[int]:
    """Most shared keys first, then the highest id (ORDER BY shared DESC, story_id DESC)."""
    # A full sort in C beats heapq.nsmallest's Python loop at these sizes (~60 stories
    # share a key with an entry at 1,000 feeds: 20 against 54 µs an entry).
    ranked = sorted([(-n, -sid) for sid, n in shared.items()])[:MAX_CANDIDATES]
    return [-negative_id for _, negative_id in ranked]


def _stored(bind: Any) -> Callable[[datetime], Any]:
    """Convert a time as `story_key.published_at` binds it for this database."""
    dialect = bind.dialect
    convert = _key.c.published_at.type.dialect_impl(dialect).bind_processor(dialect)
    return convert or (lambda value: value)


def _loaded(bind: Any) -> Callable[[Any], datetime]:
    """Convert `story.published_at` as the driver returns it to an aware datetime."""
    dialect, column = bind.dialect, _story.c.published_at
    processor = column.type.dialect_impl(dialect).result_processor(dialect, None)

    def convert(value: Any) -> datetime:
        result = processor(value) if processor else value
        assert isinstance(result, datetime)
        return result

    return convert


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _read(
    session: Session,
    feed_id: int,
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
    bind = session.get_bind()
    stamps = [e.published_at for e in fresh]
    span = (min(stamps) - window, max(stamps) + window)
    stored = _stored(bind)
    span = (stored(span[0]), stored(span[1]))
    batch = _Batch(window, link_story, _keys_of(session, span), {}, {}, stored, _loaded(bind))
    batch.windows = [batch.bounds(e.published_at) for e in fresh]
    batch.shared = _shared(session, batch.windows, keys)
    # The stored stories that can be candidates: each entry's stored-only top 16,
    # and any story an entry joins by its link (its keys may then count).
    wanted = set(link_story.values()) | set(near)
    batch.top = [_top(shared) for shared in batch.shared]
    for top in batch.top:
        wanted.update(top)
    connection = session.connection()
    dialect = connection.dialect.name
    for chunk in _chunks(sorted(wanted)):
        params = (list(chunk),) if dialect == "postgresql" else tuple(chunk)
        rows = _fetch(connection, _entries_sql(dialect, len(chunk)), params)
        for story_id, title, summary, published_at, of_feed, link, entry_at in rows:
            batch.entries.setdefault(story_id, []).append((title, summary))
            batch.published[story_id] = published_at
            if of_feed == feed_id:
                issue = Issue(batch.loaded(entry_at), link, title, summary)
                batch.own.setdefault(story_id, []).append(issue)
    return batch


def _shared(
    session: Session, bounds: Sequence[tuple[Any, Any]], keys: Sequence[list[int]]
) -> list[dict[int, int]]:
    """Per entry: how many of its keys each stored story has within its window."""
    shared: list[dict[int, int]] = [{} for _ in bounds]
    pairs = [(i, key, *bounds[i]) for i, entry_keys in enumerate(keys) for key in entry_keys]
    if not pairs:
        return shared
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        results = []
        for start in range(0, len(pairs), _SHARED_PAIRS):
            chunk = pairs[start : start + _SHARED_PAIRS]
            sql = _SHARED_SQLITE.format(rows=", ".join(["(?, ?, ?, ?)"] * len(chunk)))
            flat = [value for pair in chunk for value in pair]
            results.append(_fetch(connection, sql, tuple(flat)))
    else:
        columns = tuple(list(column) for column in zip(*pairs, strict=True))
        results = [_fetch(connection, _SHARED_POSTGRESQL, columns)]
    for rows in results:  # an entry's keys may span two chunks: add up
        for i, story_id, count in rows:
            into = shared[i]
            into[story_id] = into.get(story_id, 0) + count
    return shared


def _fetch(connection: sa.Connection, sql: str, params: Any) -> list[Any]:
    """Run `sql` through the driver and return its rows as the driver's tuples.

    One (entry, story, count) row per pair sharing a key: SQLAlchemy's Row objects
    cost more than SQLite's join itself (cProfile, 1,000 feeds).
    """
    result = connection.exec_driver_sql(sql, params)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _keys_of(session: Session, span: tuple[Any, Any]) -> Callable[[int], frozenset[int]]:
    """A reader of a stored story's keys within `span` (times as the driver stores
    them), each story read once."""
    read: dict[int, frozenset[int]] = {}
    connection = session.connection()
    sql = _STORY_KEYS.format("?" if connection.dialect.paramstyle == "qmark" else "%s")

    def keys_of(story_id: int) -> frozenset[int]:
        if story_id not in read:
            rows = _fetch(connection, sql, (story_id, *span))
            read[story_id] = frozenset(key for (key,) in rows)
        return read[story_id]

    return keys_of


def ingest_fresh(
    session: Session,
    *,
    feed: FeedInfo,
    fresh: Sequence[tuple[str, ParsedEntry]],
    matcher: TopicMatcher,
    now: datetime,
    window: timedelta,
    semantic: SemanticDedup | None = None,
    shared_links: frozenset[str] = frozenset(),
) -> tuple[int, int, tuple[int, ...]]:
    """Store `fresh` (identity, entry) pairs; return (new stories, merged, touched story ids).

    With `semantic`, the entries are embedded and their nearest stories join the candidates.
    A link in `shared_links` (a page whose anchors several items link to) joins nothing
    by itself.
    """
    if not fresh:
        return 0, 0, ()
    entries = [entry for _, entry in fresh]
    brought = [_prepared(e) for e in entries]
    fps = [_own_fingerprint(e, p) for e, p in zip(entries, brought, strict=True)]
    keys = [
        list(p.keys) if p is not None else dedup.candidate_keys(fp)
        for p, fp in zip(brought, fps, strict=True)
    ]
    feed_topics, signature = matcher.feed_topics(feed.topics), matcher.signature
    vectors = FeedVectors(session, semantic, entries, window) if semantic else None
    near = vectors.near_ids() if vectors else ()
    batch = _read(session, feed.feed_id, entries, keys, window, near)
    batch.shared_links = shared_links
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
            story = _merge(batch, story_id, entry, feed)
            merged += 1
        batch.add_keys(story, entry_keys)
        prepared = brought[index]
        if prepared is not None and prepared.topics_of == signature:
            story.topics.update(prepared.topics)
        else:
            story.topics.update(
                matcher.entry_topics(
                    categories=entry.categories, title=entry.title, summary=entry.summary
                )
            )
        story.topics.update(feed_topics)
        title, summary = entry.title[:400], entry.summary[:1200]
        batch.add_entry(story.id, title, summary)
        batch.add_own(story.id, entry)
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
    real = story_write.write_batch(session, batch.stories.values(), entry_rows)
    if vectors is not None:
        vectors.write(session, real)
    return new_stories, merged, tuple(dict.fromkeys(real.get(s, s) for s in touched))


def _new_story(batch: _Batch, feed: FeedInfo, entry: ParsedEntry, now: datetime) -> PendingStory:
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
    story = PendingStory(story_id, entry.published_at, image_url=entry.image_url, added=1, row=row)
    batch.stories[story_id] = story
    return story


def _merge(batch: _Batch, story_id: int, entry: ParsedEntry, feed: FeedInfo) -> PendingStory:
    story = batch.stories.get(story_id)
    if story is None:  # a stored story, first merged into by this batch
        story = PendingStory(story_id, batch.loaded(batch.published[story_id]))
        batch.stories[story_id] = story
    story.added += 1
    if entry.link:  # a story without a link becomes the first entry with one
        lead = Lead(
            entry.link,
            feed.feed_id,
            feed.source_name[:200],
            entry.title[:400],
            entry.summary[:1200],
        )
        if story.row is not None:  # this batch's story: of this feed already
            if story.row["link"] is None:
                story.row.update(link=lead.link, title=lead.title, summary=lead.summary)
        elif story.first_link is None:
            story.first_link = lead
    if entry.image_url:  # a story without an image takes the first one another outlet has
        if story.row is not None:
            story.image_url = story.image_url if story.image_url is not None else entry.image_url
        elif story.first_image is None:
            story.first_image = entry.image_url
    return story
