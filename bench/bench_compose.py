"""Compose 100,000 due briefings: time and peak memory, on SQLite and on PostgreSQL.

Run from the repo root: ``python -m bench.bench_compose`` (SQLite), add
``--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test_perf`` for
PostgreSQL (a throwaway schema, dropped afterwards). ``--chats`` scales it;
``--history`` first records 0–4 of the window's stories as already delivered
to each chat (as a mid-day briefing would), so chats of one topic set no longer
share their stories.

The database holds 300 stories from the last 20 h in 4 topics (1–4 entries
each, 50 feeds) and the chats, due a minute ago, subscribed to 1–3 topics
each; `max_items` = 10. `compose_scheduled` runs in a fresh child process
(spawned, so its peak RSS is its own) in calls of `handlers.jobs.COMPOSE_BATCH`
chats, as `compose_tick` does. Prints one summary line:
``compose: 100000 chats in 57.1 s, 0.57 ms/chat, peak 240 MiB (sqlite)``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import sqlalchemy as sa

from bench._common import corpus_headlines, ensure_repo_on_path, print_machine, rss_mib
from bot.settings import BriefingSettings, Settings, Topic
from bot.storage.db import open_database
from bot.storage.models import Delivery, Story
from tests.support.seed import TopicShare, insert_rows, seed_chats, seed_feeds, seed_story_corpus

TOPICS = (
    Topic("world", "World"),
    Topic("business", "Business"),
    Topic("sport", "Sport"),
    Topic("technology", "Technology"),
)
STORIES = 300
FIRST_CHAT = 2_000_000


def settings() -> Settings:
    return Settings(
        topics=TOPICS,
        briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=10),
    )


@contextmanager
def database_url(url: str | None) -> Iterator[str]:
    """The URL of a fresh, migrated database (SQLite file or PostgreSQL schema)."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="bench_compose_") as tmp:
            path = f"sqlite:///{Path(tmp) / 'compose.sqlite3'}"
            open_database(path).dispose()
            yield path
        return
    schema = f"bench_compose_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    scoped = f"{url}{sep}options=-csearch_path%3D{schema}"
    try:
        open_database(scoped).dispose()
        yield scoped
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(url: str, chats: int, now: datetime, *, history: bool) -> None:
    engine = open_database(url)
    feeds = seed_feeds(engine, count=50, now=now)
    seed_story_corpus(
        engine,
        count=STORIES,
        feed_ids=feeds,
        topics=[TopicShare(t.slug, 1.0) for t in TOPICS],
        now=now,
        span=timedelta(hours=20),
        headlines=corpus_headlines,
    )
    ids = range(FIRST_CHAT, FIRST_CHAT + chats)
    seed_chats(
        engine,
        ids,
        topics=[t.slug for t in TOPICS],
        now=now - timedelta(days=1),
        due=now - timedelta(minutes=1),
        per_chat=(1, 3),
    )
    if history:
        with engine.connect() as conn:
            story_ids = list(conn.execute(sa.select(Story.id)).scalars())  # type: ignore[call-overload]
        rng = random.Random(5)
        rows = (
            {"chat_id": c, "story_id": s, "delivered_at": now - timedelta(hours=4)}
            for c in ids
            for s in rng.sample(story_ids, rng.randint(0, 4))
        )
        insert_rows(engine, Delivery.__table__, rows)  # type: ignore[attr-defined]
    engine.dispose()


def _child(conn: Connection, url: str, chats: int) -> None:
    ensure_repo_on_path()
    from bot.briefings.compose import compose_scheduled
    from bot.storage.db import make_engine
    from handlers.jobs import COMPOSE_BATCH

    engine = make_engine(url)
    now = datetime.fromisoformat(conn.recv())
    baseline = rss_mib()
    began = time.perf_counter()
    calls = briefings = messages = looked = 0
    while True:
        stats = compose_scheduled(engine, settings(), now=now, limit=COMPOSE_BATCH)
        calls += 1
        looked += stats.chats
        briefings += stats.briefings
        messages += stats.messages
        if stats.chats < COMPOSE_BATCH:
            break
    elapsed = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    conn.send((elapsed, calls, looked, briefings, messages, baseline, peak))


def run(url: str, chats: int, now: datetime) -> tuple:
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_child, args=(child, url, chats))
    process.start()
    parent.send(now.isoformat())
    result = parent.recv()
    process.join()
    return result


def count_rows(url: str) -> tuple[int, int]:
    """Outbox and delivery rows (a (chat, story) pair is the delivery table's key)."""
    engine = open_database(url)
    with engine.connect() as conn:
        outbox = conn.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
        deliveries = conn.execute(sa.text("SELECT count(*) FROM delivery")).scalar_one()
    engine.dispose()
    return outbox, deliveries


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--history", action="store_true", help="0-4 stories already delivered")
    args = parser.parse_args(argv)
    print_machine()
    backend = "postgresql" if args.database_url else "sqlite"
    with database_url(args.database_url) as url:
        now = datetime.now(UTC)
        began = time.perf_counter()
        seed(url, args.chats, now, history=args.history)
        print(f"seeded {args.chats} chats in {time.perf_counter() - began:.1f} s", flush=True)
        elapsed, calls, looked, briefings, messages, baseline, peak = run(url, args.chats, now)
        outbox, deliveries = count_rows(url)
    print(
        f"calls {calls}, chats looked at {looked}, briefings {briefings}, messages {messages}, "
        f"outbox rows {outbox}, delivery rows {deliveries} (each pair once: the table's key), "
        f"RSS {baseline:.0f} MiB before composing"
    )
    history = ", with history" if args.history else ""
    per_chat = elapsed / args.chats * 1e3
    print(
        f"compose: {args.chats} chats in {elapsed:.1f} s, {per_chat:.2f} ms/chat, "
        f"peak {peak:.0f} MiB ({backend}{history})"
    )


if __name__ == "__main__":
    main()
