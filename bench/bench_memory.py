"""Resident memory over a long run of refreshes (feedparser #287: RSS creeping up).

    python bench/bench_memory.py [--rounds 60] [--feeds 20] [--items 50]

Each round serves every feed with fresh items (new guids and headlines) from a
loopback server and runs a full refresh into one SQLite database, as the
refresh tick does all day. Prints RSS (VmRSS from /proc) after warm-up and at
the end; a leak shows as steady growth per round.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import Refresher
from bot.settings import FeedConfig, FetchSettings, Settings, Topic
from bot.storage import feeds as feed_store
from bot.storage.db import open_database, session_scope
from bot.storage.models import utcnow
from tests.support.feedserver import FeedServer, Reply

WORDS = [
    "council",
    "vote",
    "budget",
    "storm",
    "river",
    "border",
    "talks",
    "minister",
    "election",
    "court",
    "ruling",
    "trade",
    "tariff",
    "strike",
    "union",
    "bank",
    "rates",
    "inflation",
    "vaccine",
    "trial",
    "climate",
    "summit",
    "rocket",
    "launch",
]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def feed(round_no: int, feed_no: int, items: int) -> bytes:
    body = []
    for j in range(items):
        k = round_no * 7919 + feed_no * 131 + j
        title = " ".join(WORDS[(k * p) % len(WORDS)] for p in (1, 3, 5, 7, 11)) + f" {k}"
        body.append(
            f"<item><guid>r{round_no}-f{feed_no}-{j}</guid><title>{title}</title>"
            f"<link>https://m{feed_no}.example/{round_no}/{j}</link>"
            f"<description>{title} — a longer summary sentence for item {j}.</description></item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>M{feed_no}</title>'
        f"{''.join(body)}</channel></rss>"
    ).encode()


async def run(rounds: int, feeds: int, items: int) -> list[tuple[int, int]]:
    samples = []
    with tempfile.TemporaryDirectory() as tmp, FeedServer() as server:
        engine = open_database(f"sqlite:///{tmp}/mem.sqlite3")
        configs = tuple(FeedConfig(server.url(f"/m{i}.xml"), f"M{i}") for i in range(feeds))
        settings = Settings(
            fetch=FetchSettings(allow_private_networks=True),
            topics=(Topic("world", "World"),),
            feeds=configs,
        )
        with session_scope(engine) as session:
            feed_store.sync_config_feeds(session, configs, now=utcnow())
        async with Fetcher(FetchPolicy(allow_private_networks=True)) as fetcher:
            refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings)
            for r in range(rounds):
                for i in range(feeds):
                    server.route(
                        f"/m{i}.xml",
                        Reply(200, {"Content-Type": "application/rss+xml"}, feed(r, i, items)),
                    )
                await refresher.refresh_all()
                gc.collect()
                samples.append((r + 1, rss_kib()))
        engine.dispose()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    samples = asyncio.run(run(args.rounds, args.feeds, args.items))
    warm = samples[min(9, len(samples) - 1)]
    last = samples[-1]
    entries = args.feeds * args.items * (last[0] - warm[0])
    print("| round | RSS (MiB) |\n|---:|---:|")
    for r, kib in [*samples[:: max(1, len(samples) // 10)], last]:
        print(f"| {r} | {kib / 1024:.1f} |")
    growth = (last[1] - warm[1]) / 1024
    per_entry = (last[1] - warm[1]) * 1024 / max(1, entries)
    print(
        f"\nafter warm-up (round {warm[0]}) to round {last[0]}: {growth:+.1f} MiB"
        f" over {entries:,} more entries ({per_entry:.0f} B/entry)"
    )


if __name__ == "__main__":
    main()
