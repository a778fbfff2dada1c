"""Store the bench corpus feed by feed in a fixed order and print a digest of the tables.

Proof that a storage change leaves dedup decisions alone: run it on two commits
(copy this file into the other checkout's bench/) and compare the lines. Store only
(`ingest_entries` of pre-parsed feeds into a fresh SQLite file, or the PostgreSQL
database at --url, emptied first), then a fifth of the entries again with new guids
and no links; `story`, `entry`, `story_key` and `story_topic` rows are hashed in id
order. Also prints the store's CPU seconds.

    python -m bench.store_digest --feeds 200 [--group 8] [--prepared]

`--prepared`: the entries arrive prepared as the refresher's parse workers send them
(`bot.ingest.prepare`, through pickle), and the store uses what they bring.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench._corpus import build_corpus, rss
from bench.bench_refresh import CONTENT_TYPE, TOPICS, fresh_database, make_settings
from bot.ingest import headline
from bot.ingest.parser import ParsedEntry, parse_feed
from bot.ingest.prepare import prepare_feed
from bot.ingest.stories import ingest_entries
from bot.ingest.topics import TopicMatcher
from bot.settings import Settings
from bot.storage import feeds as feed_store
from bot.storage.db import open_database, session_scope
from bot.storage.models import Feed

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)  # fixed: the corpus and the stamps repeat
TABLES = (  # table, columns (story_key's in its order before migration 0009), order
    ("story", "*", "id"),
    ("entry", "*", "id"),
    ("story_key", "key, story_id, published_at", "story_id, key"),
    ("story_topic", "*", "story_id, topic"),
)


def _engine(folder: Path, settings: Settings, url: str | None) -> Engine:
    if url is None:
        return fresh_database(folder, settings)
    engine = open_database(url)
    with engine.begin() as conn:
        for table in ("story_topic", "story_key", "entry", "story_vector", "story", "feed"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=NOW)
    return engine


def digest(engine: Engine) -> str:
    """Count and hash each table's rows in a fixed order."""
    out = []
    with engine.connect() as conn:
        for table, columns, order in TABLES:
            query = sa.text(f"SELECT {columns} FROM {table} ORDER BY {order}")
            rows = [tuple(r) for r in conn.execute(query)]
            out.append(f"{table}={len(rows)}:{hashlib.sha1(repr(rows).encode()).hexdigest()[:12]}")
    return " ".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--url", default=None, help="a PostgreSQL URL (emptied!); default SQLite")
    parser.add_argument(
        "--group", type=int, default=1, help="feeds per transaction (the refresher's groups)"
    )
    parser.add_argument(
        "--prepared", action="store_true", help="entries prepared as the parse workers do"
    )
    args = parser.parse_args(argv)
    corpus = build_corpus(feeds=args.feeds, items=50, now=NOW)
    urls = [f"http://127.0.0.1:1/feeds/{n}.xml" for n in range(args.feeds)]
    matcher = TopicMatcher.from_topics(TOPICS)
    feeds = [
        parse_feed(rss(n, items), url=url, content_type=CONTENT_TYPE, now=NOW)
        for n, (items, url) in enumerate(zip(corpus.feeds, urls, strict=True))
    ]
    if args.prepared:  # as a worker sends them
        feeds = [pickle.loads(pickle.dumps(prepare_feed(f, matcher))) for f in feeds]
        headline.fold.cache_clear()  # warm here, not in the writer's process
        headline._word.cache_clear()
    parsed = [feed.entries for feed in feeds]
    again = [
        [replace(e, guid="again-" + (e.guid or e.title), link=None) for e in feed[::5]]
        for feed in parsed
    ]
    with tempfile.TemporaryDirectory() as folder:
        engine = _engine(Path(folder), make_settings(urls, per_host=None), args.url)
        with engine.connect() as conn:
            ids = list(conn.execute(sa.text("SELECT id FROM feed ORDER BY id")).scalars())
        began = time.process_time()
        for round_ in (parsed, again):
            _store(engine, ids, round_, matcher, group=args.group)
        cpu = time.process_time() - began
        print(digest(engine), f"store CPU {cpu:.1f} s")
        engine.dispose()


def _store(
    engine: Engine,
    ids: Sequence[int],
    feeds: Sequence[list[ParsedEntry]],
    matcher: TopicMatcher,
    *,
    group: int = 1,
) -> None:
    """Store feed by feed, `group` feeds per transaction (one after the other in it)."""
    numbered = list(enumerate(zip(ids, feeds, strict=True)))
    for start in range(0, len(numbered), group):
        with session_scope(engine) as session:
            for n, (feed_id, entries) in numbered[start : start + group]:
                ingest_entries(
                    session,
                    feed=session.get(Feed, feed_id),
                    entries=entries,
                    matcher=matcher,
                    now=NOW + timedelta(minutes=n),
                    window=timedelta(hours=48),
                )


if __name__ == "__main__":
    main()
