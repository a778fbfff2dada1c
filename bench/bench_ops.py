"""Benchmark the ops endpoints' database work and `backup` on a large SQLite database.

Run from the repo root: ``python -m bench.bench_ops`` (under a minute on 2 busy cores).

Seeds (bulk Core inserts) `--chats` chats, 1,000 feeds and `--outbox` outbox rows,
half of them unsent; then times what one `/metrics` scrape asks the database
(`shared_gauges` plus the exposition), what one `/readyz` asks
(`database_problems`), and one `python -m bot backup` of the file.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from sqlmodel import Session

from bench._common import md_table, print_machine, spread
from bot.cli.main import main
from bot.ops import metrics
from bot.ops.health import database_problems
from bot.storage import models
from bot.storage.db import open_database
from bot.storage.gauges import shared_gauges


def seed(engine: sa.Engine, *, chats: int, outbox: int) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(models.Feed),
            [
                {
                    "url": f"https://f{i}.example/rss",
                    "topics": "",
                    "origin": "config",
                    "enabled": True,
                    "paused": i % 50 == 0,
                    "consecutive_failures": i % 7 == 0,
                    "etag": None,
                    "body_hash": None,
                    "not_modified_since": None,
                }
                for i in range(1000)
            ],
        )
        conn.execute(
            sa.insert(models.Chat),
            [
                {
                    "id": i,
                    "mode": ("scheduled", "instant", "off")[i % 3],
                    "active": i % 10 != 0,
                    "stopped": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, chats + 1)
            ],
        )
        rows = [
            {
                "chat_id": 1 + i % chats,
                "kind": "briefing",
                "dedup_key": f"k{i}",
                "priority": 10,
                "text": "x" * 400,
                "status": "pending" if i % 2 else "sent",
                "attempts": 0,
                "not_before": now,
                "created_at": now - timedelta(seconds=outbox - i),
            }
            for i in range(outbox)
        ]
        for start in range(0, outbox, 20_000):
            conn.execute(sa.insert(models.Outbox), rows[start : start + 20_000])


def timed(work: object, runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        work()  # type: ignore[operator]
        took.append((time.perf_counter() - began) * 1000)
    return took


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--outbox", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        url = f"sqlite:///{path}"
        engine = open_database(url)
        seed(engine, chats=args.chats, outbox=args.outbox)
        now = datetime.now(UTC)

        def scrape() -> None:
            with Session(engine) as session:
                metrics.exposition(shared_gauges(session, now=now))

        def ready() -> None:
            database_problems(engine, max_outbox_age=3600, now=now)

        scrape_ms = timed(scrape, args.runs)
        ready_ms = timed(ready, args.runs)
        engine.dispose()
        size = path.stat().st_size / 2**20
        backup = Path(tmp) / "copy.sqlite3"
        began = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["backup", str(backup)], {"DATABASE_URL": url}) == 0
        backup_s = time.perf_counter() - began
    print(
        f"\n{args.chats:,} chats, 1,000 feeds, {args.outbox:,} outbox rows (half unsent), "
        f"SQLite file {size:.0f} MiB\n"
    )
    print(
        md_table(
            ["what", "median (min–max, runs)"],
            [
                ["/metrics database work + exposition (ms)", spread(scrape_ms, "{:.1f}")],
                ["/readyz database check (ms)", spread(ready_ms, "{:.1f}")],
                ["`backup`, integrity check included (s)", f"{backup_s:.2f} (1 run)"],
            ],
        )
    )


if __name__ == "__main__":
    main_bench()
