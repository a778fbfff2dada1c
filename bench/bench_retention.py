"""Benchmark retention: 30 simulated days of 1,000 feeds, pruning once a day.

Run from the repo root: ``python -m bench.bench_retention`` (~1–3 min on 2 busy cores).
``--items`` scales the new items per feed per day, ``--feeds``/``--days`` the run.

Each simulated day (a moving clock, no sleeping) writes what a day of the bot
writes, with bulk Core inserts: per feed `--items` new entries, each its own
story with 4 story keys, a topic and 2 deliveries; every feed still lists
yesterday's items (so `touch_listed` runs as in a refresh) and is marked fetched;
one sent outbox row per story delivery, cached article texts for 2% of stories
(4 KB each) and 20 audit rows. Then `bot.services.retention.prune` runs with the
bench's retention days (shorter than the defaults, so the plateau shows within
the run) and the SQLite file is checkpointed and measured. Free pages are
reused, so the file levels off once pruning deletes as much as a day adds.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench._common import md_table, print_machine
from bot.services.retention import prune
from bot.settings import RetentionSettings
from bot.storage import models
from bot.storage.db import open_database, session_scope
from bot.storage.retention import touch_listed
from tests.support.seed import insert_rows, seed_feeds

START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
TABLES = (
    models.Story,
    models.Entry,
    models.StoryKey,
    models.StoryTopic,
    models.Delivery,
    models.Outbox,
    models.ArticleText,
    models.AuditEntry,
)


def simulate_day(engine: Engine, day: int, *, feeds: list[int], items: int, first_id: int) -> int:
    """Write one day's rows; return the next free story id."""
    now = START + timedelta(days=day)
    stories: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    topics: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []
    articles: list[dict[str, Any]] = []
    story_id = first_id
    for n, feed_id in enumerate(feeds):
        for i in range(items):
            at = now + timedelta(seconds=n * items + i)
            title = f"Outlet {feed_id} reports item {story_id} of day {day}"
            stories.append(
                {
                    "id": story_id,
                    "title": title,
                    "summary": title + " with a summary of about this length. " * 3,
                    "link": f"https://outlet{feed_id}.example/{story_id}",
                    "source_name": f"Outlet {feed_id}",
                    "feed_id": feed_id,
                    "published_at": at,
                    "first_seen_at": at,
                    "entry_count": 1,
                }
            )
            entries.append(
                {
                    "feed_id": feed_id,
                    "identity": f"g:{feed_id}:{day}:{i}",
                    "guid": f"{feed_id}:{day}:{i}",
                    "link": f"https://outlet{feed_id}.example/{story_id}",
                    "title": title,
                    "summary": title + " with a summary of about this length. " * 3,
                    "categories": "world",
                    "published_at": at,
                    "seen_at": at,
                    "story_id": story_id,
                }
            )
            keys += [
                {"key": story_id * 8 + k, "story_id": story_id, "published_at": at}
                for k in range(4)
            ]
            topics.append({"story_id": story_id, "topic": "world"})
            for chat in (1, 2):
                deliveries.append({"chat_id": chat, "story_id": story_id, "delivered_at": at})
                sent.append(
                    {
                        "chat_id": chat,
                        "kind": "instant",
                        "dedup_key": f"inst:{chat}:{story_id}",
                        "priority": 10,
                        "text": f"<b>{title}</b>\n" + "x" * 300,
                        "status": "sent",
                        "attempts": 1,
                        "not_before": at,
                        "created_at": at,
                        "sent_at": at,
                        "telegram_message_id": story_id,
                    }
                )
            if story_id % 50 == 0:
                articles.append(
                    {
                        "story_id": story_id,
                        "ok": True,
                        "title": title,
                        "body": "y" * 4096,
                        "fetched_at": at,
                    }
                )
            story_id += 1
    insert_rows(engine, models.Story.__table__, stories)  # type: ignore[attr-defined]
    insert_rows(engine, models.Entry.__table__, entries)  # type: ignore[attr-defined]
    insert_rows(engine, models.StoryKey.__table__, keys)  # type: ignore[attr-defined]
    insert_rows(engine, models.StoryTopic.__table__, topics)  # type: ignore[attr-defined]
    insert_rows(engine, models.Delivery.__table__, deliveries)  # type: ignore[attr-defined]
    insert_rows(engine, models.Outbox.__table__, sent)  # type: ignore[attr-defined]
    insert_rows(engine, models.ArticleText.__table__, articles)  # type: ignore[attr-defined]
    insert_rows(
        engine,
        models.AuditEntry.__table__,  # type: ignore[attr-defined]
        [{"action": "feed.add", "actor": "bench", "detail": "x" * 80, "created_at": now}] * 20,
    )
    # The next refresh: every feed still lists yesterday's items, and answered.
    later = now + timedelta(hours=20)
    with session_scope(engine) as session:
        for feed_id in feeds:
            listed = [f"g:{feed_id}:{day}:{i}" for i in range(items)]
            touch_listed(session, feed_id, listed, now=later)
        session.execute(sa.update(models.Feed).values(last_success_at=later))
    return story_id


def measure(engine: Engine, path: Path) -> tuple[float, float, int]:
    """(file MiB, MiB in use, stories) after a checkpoint that empties the WAL."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        stories = conn.execute(sa.select(sa.func.count()).select_from(models.Story)).scalar_one()
    mib = 1024 * 1024
    return path.stat().st_size / mib, (pages - free) * page / mib, int(stories)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=3, help="new items per feed per day")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--stories-days", type=int, default=10)
    parser.add_argument("--outbox-days", type=int, default=5)
    parser.add_argument("--articles-days", type=int, default=3)
    parser.add_argument("--audit-days", type=int, default=20)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    keep = RetentionSettings(
        outbox_days=args.outbox_days,
        stories_days=args.stories_days,
        articles_days=args.articles_days,
        audit_days=args.audit_days,
    )
    print("# bench_retention\n")
    print_machine()
    print(
        f"{args.feeds} feeds × {args.items} new items/day for {args.days} days; retention "
        f"days: outbox {keep.outbox_days}, stories {keep.stories_days}, "
        f"articles {keep.articles_days}, audit {keep.audit_days}; SQLite, pruned daily\n"
    )
    rows: list[list[object]] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "retention.sqlite3"
        engine = open_database(f"sqlite:///{path}")
        feeds = seed_feeds(engine, count=args.feeds, now=START)
        next_id = 1
        for day in range(args.days):
            t0 = time.perf_counter()
            next_id = simulate_day(engine, day, feeds=feeds, items=args.items, first_id=next_id)
            t1 = time.perf_counter()
            clock = START + timedelta(days=day + 1)
            report = prune(engine, keep, now=clock)
            t2 = time.perf_counter()
            size, used, stories = measure(engine, path)
            rows.append(
                [
                    day + 1,
                    f"{size:.1f}",
                    f"{used:.1f}",
                    stories,
                    report.stories,
                    report.outbox,
                    f"{t1 - t0:.1f}",
                    f"{t2 - t1:.1f}",
                ]
            )
            print(
                f"day {day + 1:2d}: file {size:7.1f} MiB, in use {used:7.1f} MiB, "
                f"stories {stories:7d}, pruned stories {report.stories:6d} "
                f"outbox {report.outbox:6d} (write {t1 - t0:.1f} s, prune {t2 - t1:.1f} s)",
                flush=True,
            )
        engine.dispose()
    print()
    print(
        md_table(
            [
                "day",
                "file MiB",
                "in use MiB",
                "stories",
                "pruned stories",
                "pruned outbox",
                "write s",
                "prune s",
            ],
            rows,
        )
    )
    last_week = [float(str(r[1])) for r in rows[-7:]]
    plateau_from = keep.stories_days + 1
    at_plateau = float(str(rows[min(plateau_from, len(rows)) - 1][1]))
    print(
        f"\nsummary: file {at_plateau:.1f} MiB on day {min(plateau_from, len(rows))}, "
        f"{min(last_week):.1f}–{max(last_week):.1f} MiB over the last 7 days, "
        f"{float(str(rows[-1][1])):.1f} MiB on day {len(rows)} "
        f"(growth over the last 7 days: {max(last_week) - min(last_week):.1f} MiB); "
        f"total {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
