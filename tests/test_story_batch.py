"""One feed's entries stored in one batch give the stories they give one at a time.

`bot.ingest.story_batch` decides a whole feed in memory over rows read once; with
a single entry per call there is nothing in the batch to see, so ingesting the same
entries one per call is the reference the batch must reproduce row for row:
in-feed merges, same-link merges, merges into stored stories, first image, topics.
With the semantic method too (headline embeddings as extra candidates, their
cosines in the score, new stories' vectors in `story_vector`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench._corpus import build_corpus, rss
from bot.ingest.parser import ParsedEntry, parse_feed
from bot.ingest.semantic import SemanticDedup
from bot.ingest.stories import ingest_entries
from bot.ingest.topics import TopicMatcher
from bot.settings import Topic
from bot.storage.db import open_database, session_scope
from bot.storage.models import Feed
from tests.support.dedupkit import semantic_or_skip

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONTENT_TYPE = "application/rss+xml; charset=utf-8"
MATCHER = TopicMatcher.from_topics(
    [Topic("science", "Science", ("earthquake",)), Topic("business", "Business", ("rates",))]
)


def entry(
    guid: str, title: str, *, link: str | None, image: str | None = None, minutes: int = 0
) -> ParsedEntry:
    return ParsedEntry(
        guid=guid,
        link=link,
        title=title,
        summary="",
        published_at=T0 + timedelta(minutes=minutes),
        categories=("Business",) if "bank" in title.lower() else (),
        author=None,
        image_url=image,
    )


STORED = [  # another outlet, stored first
    entry("s1", "Apple unveils new iPhone with satellite messaging", link="https://b/1"),
    entry("s2", "Floods close roads across northern Italy", link="https://b/2", image="i-b2"),
]
BATCH = [
    entry("a1", "Earthquake of magnitude 6.1 strikes central Chile", link="https://a/1"),
    entry("a2", "Magnitude 6.1 earthquake strikes central Chile", link="https://a/2", image="i2"),
    entry("a3", "Central bank raises interest rates to 5 percent", link="https://a/3"),
    entry("a4", "Chile quake: officials count damage", link="https://a/1", minutes=5),
    entry("a5", "Apple unveils iPhone with satellite messaging", link=None, image="i5"),
    entry("a6", "Floods close roads in northern Italy", link="https://a/6", image="i6"),
    entry("a7", "Parliament passes budget after late-night vote", link="https://a/7"),
]


# Semantic: pairs that share no candidate key (only their embeddings can merge them),
# a stored story's paraphrase, and paraphrases of each other within the batch.
SEMANTIC_STORED = [
    entry("s1", "Netflix raises subscription prices", link="https://b/1"),
    entry("s2", "Floods displace thousands in Bangladesh", link="https://b/2"),
]
SEMANTIC_BATCH = [
    entry("a1", "Netflix hikes monthly fees", link="https://a/1"),
    entry("a2", "Spotify raises subscription prices", link="https://a/2"),
    entry("a3", "Thousands flee flooding in Bangladesh", link="https://a/3", image="i3"),
    entry("a4", "Central bank raises interest rates to 5 percent", link="https://a/4"),
    entry("a5", "Spotify hikes monthly fees", link="https://a/5", minutes=5),
    entry("a6", "Egypt court orders Mubarak release", link=None, minutes=9),
    entry("a7", "Central bank lifts rates to 5%", link="https://a/7", minutes=9),
]


def stored(
    tmp_path: Path,
    name: str,
    *,
    one_at_a_time: bool,
    semantic: SemanticDedup | None = None,
    entries: tuple[list[ParsedEntry], list[ParsedEntry]] = (STORED, BATCH),
) -> tuple[list[Any], ...]:
    engine = open_database(f"sqlite:///{tmp_path / name}")
    with session_scope(engine) as session:
        session.add_all([Feed(url="https://a/rss", name="A"), Feed(url="https://b/rss", name="B")])
    first, batch = entries
    ingest(engine, 2, [first], semantic)
    ingest(engine, 1, [[e] for e in batch] if one_at_a_time else [batch], semantic)
    tables = stored_tables(engine, with_vectors=True)
    engine.dispose()
    return tables


def stored_tables(engine: Engine, *, with_vectors: bool = False) -> tuple[list[Any], ...]:
    """Every row ingest writes, in a fixed order: equal tuples mean equal decisions."""
    orders = {
        "story": "id",
        "entry": "id",
        "story_key": "story_id, key",
        "story_topic": "story_id, topic",
    }
    if with_vectors:
        orders["story_vector"] = "story_id"
    with engine.connect() as conn:
        return tuple(
            list(conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY {order}")))
            for table, order in orders.items()
        )


def ingest(
    engine: Engine,
    feed_id: int,
    calls: list[list[ParsedEntry]],
    semantic: SemanticDedup | None = None,
) -> None:
    for entries in calls:
        with session_scope(engine) as session:
            feed = session.get(Feed, feed_id)
            assert feed is not None
            ingest_entries(
                session,
                feed=feed,
                entries=entries,
                matcher=MATCHER,
                now=T0 + timedelta(hours=1),
                window=timedelta(hours=48),
                semantic=semantic,
            )


def test_a_batch_stores_what_one_entry_at_a_time_stores(tmp_path: Path) -> None:
    batch = stored(tmp_path, "batch.sqlite3", one_at_a_time=False)
    single = stored(tmp_path, "single.sqlite3", one_at_a_time=True)
    assert batch == single
    stories, entries, _, topics, _ = batch
    assert len(entries) == len(STORED) + len(BATCH)
    counts = {row.title: (row.entry_count, row.image_url) for row in stories}
    # The in-feed rewording and the same-link item join the first; it takes the first image.
    assert counts["Earthquake of magnitude 6.1 strikes central Chile"] == (3, "i2")
    assert counts["Apple unveils new iPhone with satellite messaging"] == (2, "i5")
    assert counts["Floods close roads across northern Italy"] == (2, "i-b2")  # keeps its own
    assert {row.topic for row in topics} == {"science", "business"}


def test_a_semantic_batch_stores_what_one_entry_at_a_time_stores(tmp_path: Path) -> None:
    # One process-wide method per database, as a refresh builds it.
    encoder = semantic_or_skip().encoder
    runs = [
        stored(
            tmp_path,
            f"{name}.sqlite3",
            one_at_a_time=single,
            semantic=SemanticDedup(encoder),
            entries=(SEMANTIC_STORED, SEMANTIC_BATCH),
        )
        for name, single in (("batch", False), ("single", True))
    ]
    assert runs[0] == runs[1]
    stories, entries, _, _, vectors = runs[0]
    assert len(entries) == len(SEMANTIC_STORED) + len(SEMANTIC_BATCH)
    assert [row.story_id for row in vectors] == [row.id for row in stories]  # one each
    joined = {row.title: row.story_id for row in entries}
    # Merged by the embeddings alone (no shared candidate key): into a stored story,
    # and into a story the batch itself created a few entries earlier.
    assert joined["Netflix hikes monthly fees"] == joined["Netflix raises subscription prices"]
    assert joined["Spotify hikes monthly fees"] == joined["Spotify raises subscription prices"]
    assert joined["Spotify hikes monthly fees"] != joined["Netflix hikes monthly fees"]
    assert joined["Central bank lifts rates to 5%"] == joined[SEMANTIC_BATCH[3].title]
    assert joined[SEMANTIC_BATCH[2].title] == joined["Floods displace thousands in Bangladesh"]
    assert len(stories) == 5  # Netflix, floods, Spotify, the bank, Egypt


def test_semantic_decisions_on_postgresql_read_the_stored_vectors_back(
    request: pytest.FixtureRequest,
) -> None:
    # A second method (another worker, or the bot after a restart) loads the stored
    # vectors through a server-side cursor, a step at a time, and merges as on SQLite.
    encoder = semantic_or_skip().encoder
    engine = open_database(request.getfixturevalue("pg_url"))
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE feed RESTART IDENTITY CASCADE"))
    with session_scope(engine) as session:
        session.add_all([Feed(url="https://a/rss", name="A"), Feed(url="https://b/rss", name="B")])
    ingest(engine, 2, [SEMANTIC_STORED], SemanticDedup(encoder))
    ingest(engine, 1, [SEMANTIC_BATCH], SemanticDedup(encoder))
    stories, entries, _, _, vectors = stored_tables(engine, with_vectors=True)
    engine.dispose()
    assert [row.story_id for row in vectors] == [row.id for row in stories]
    joined = {row.title: row.story_id for row in entries}
    assert joined["Netflix hikes monthly fees"] == joined["Netflix raises subscription prices"]
    assert joined["Spotify hikes monthly fees"] != joined["Netflix hikes monthly fees"]
    assert joined[SEMANTIC_BATCH[2].title] == joined["Floods displace thousands in Bangladesh"]
    assert len(stories) == 5


def corpus_feeds(feeds: int, items: int) -> list[list[ParsedEntry]]:
    """The bench corpus (deterministic): headlines sharing names, places and words."""
    corpus = build_corpus(feeds=feeds, items=items, now=T0)
    return [
        parse_feed(rss(n, feed), url=f"https://o{n}/rss", content_type=CONTENT_TYPE, now=T0).entries
        for n, feed in enumerate(corpus.feeds)
    ]


def dense_tables(engine: Engine, feeds: list[list[ParsedEntry]], *, one_at_a_time: bool) -> Any:
    with session_scope(engine) as session:
        session.add_all([Feed(url=f"https://o{n}/rss", name=f"O{n}") for n in range(len(feeds))])
    for feed_id, entries in enumerate(feeds, start=1):
        ingest(engine, feed_id, [[e] for e in entries] if one_at_a_time else [entries])
    return stored_tables(engine)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_dense_corpus_stores_alike_in_batches_and_one_at_a_time(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Many stored stories share a key with each new headline (more than the 16 scored),
    # so the stored counts taken once plus the batch's own rows must rank as one query.
    feeds = corpus_feeds(24, 25)
    runs = []
    for single in (False, True):
        if backend == "sqlite":
            engine = open_database(f"sqlite:///{tmp_path / f'dense-{single}.sqlite3'}")
        else:
            engine = open_database(request.getfixturevalue("pg_url"))
            with engine.begin() as conn:  # the second run starts from empty tables and ids
                conn.execute(sa.text("TRUNCATE feed RESTART IDENTITY CASCADE"))
        runs.append(dense_tables(engine, feeds, one_at_a_time=single))
        engine.dispose()
    assert runs[0] == runs[1]
    stories, entries, _, _ = runs[0]
    assert len(entries) == 24 * 25
    assert len(stories) < len(entries) - 40  # wire stories merged across outlets
