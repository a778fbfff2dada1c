"""Resident memory over a long run of refreshes (feedparser #287: RSS creeping up).

    python bench/bench_memory.py [--rounds 200] [--feeds 20] [--items 20]
        [--db sqlite|postgres] [--method lexical|semantic] [--trace 15]

Each round serves every feed with fresh items (new guids, headlines from the
synthetic news vocabulary, a fifth of them retold by another feed) from a
loopback FeedServer and runs `Refresher.refresh_all()` into one database (a
SQLite file, or a fresh schema in TEST_DATABASE_URL), as the refresh tick does
all day. The refresher's clock moves `--minutes` per round and items are dated
within the round, so the 48 h dedup window slides as it would in production.
VmRSS is read after every round (after gc.collect()), of this process and of
the parse worker processes (summed); a leak shows as steady growth after the
warm-up. `--trace N` also prints the N call sites whose
allocations grew most between the end of the warm-up and the last round
(tracemalloc; slows the run and adds its own memory to RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    children_rss_mib,
    md_table,
    parse_bench_args,
    pg_drop_schema,
    pg_fresh_schema,
    print_machine,
    rss_mib,
)
from bench._corpus import CATEGORIES, Item, Vocabulary, render_headline, render_summary, rss
from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import Refresher
from bot.ingest.stories import fingerprint
from bot.settings import DedupSettings, FeedConfig, FetchSettings, Settings, Topic
from bot.storage import feeds as feed_store
from bot.storage.db import open_database, session_scope
from bot.storage.models import utcnow
from tests.support.feedserver import FeedServer, Reply

RETOLD = 0.2  # share of items that retell an event another feed carries this round


def round_feeds(
    rng: random.Random, vocab: Vocabulary, r: int, feeds: int, items: int, now: datetime
) -> list[bytes]:
    """Every feed's body for round `r`: `items` new items each, dated within the round."""
    slots: list[list[Item]] = [[] for _ in range(feeds)]
    events = []
    for f in range(feeds):
        for n in range(items):
            published = now - timedelta(minutes=rng.randint(0, 14))
            retell = events and rng.random() < RETOLD
            event = rng.choice(events) if retell else vocab.event(rng, published)
            events.append(event)
            title = render_headline(event, rng, variant=1 if retell else 0)
            slug = f"r{r}-f{f}-{n}"
            slots[f].append(
                Item(
                    guid=slug,
                    link=f"https://outlet{f:04d}.example/news/{slug}",
                    title=title,
                    summary_html=render_summary(event, rng, title),
                    published_at=published,
                    category=CATEGORIES[n % len(CATEGORIES)],
                    event_id=len(events),
                )
            )
    return [rss(f, tuple(slot)) for f, slot in enumerate(slots)]


async def run(
    args: argparse.Namespace, url: str
) -> tuple[list[tuple[int, float, float, int]], float, str]:
    samples: list[tuple[int, float, float, int]] = []
    rng = random.Random(1)
    vocab = Vocabulary(rng)
    clock = [utcnow()]
    trace_report = ""
    with FeedServer() as server:
        engine = open_database(url)
        configs = tuple(FeedConfig(server.url(f"/m{i}.xml"), f"M{i}") for i in range(args.feeds))
        settings = Settings(
            database_url=url,
            # generous: a loaded machine (or tracemalloc) must not turn a parse into a timeout
            fetch=FetchSettings(allow_private_networks=True, parse_timeout_seconds=600),
            dedup=DedupSettings(method=args.method),
            topics=(Topic("world", "World"),),
            feeds=configs,
        )
        with session_scope(engine) as session:
            feed_store.sync_config_feeds(session, configs, now=clock[0])
        async with Fetcher(FetchPolicy(allow_private_networks=True)) as fetcher:
            refresher = Refresher(
                engine=engine, fetcher=fetcher, settings=settings, clock=lambda: clock[0]
            )
            cpu = 0.0
            before: tracemalloc.Snapshot | None = None
            for r in range(1, args.rounds + 1):
                bodies = round_feeds(rng, vocab, r, args.feeds, args.items, clock[0])
                for i, body in enumerate(bodies):
                    server.route(
                        f"/m{i}.xml", Reply(200, {"Content-Type": "application/rss+xml"}, body)
                    )
                del bodies
                server.requests.clear()  # the fake's own log, not the bot's memory
                server.hits.clear()
                began = time.process_time()
                reports = await refresher.refresh_all()
                cpu += time.process_time() - began
                failed = [rep.error for rep in reports if rep.error]
                assert not failed, f"round {r}: {failed[:3]}"
                del reports
                clock[0] += timedelta(minutes=args.minutes)
                gc.collect()
                cached = fingerprint.cache_info().currsize
                samples.append((r, rss_mib(), children_rss_mib(), cached))
                if r % 20 == 0:
                    print(
                        f"round {r}: {samples[-1][1]:.1f} MiB + workers {samples[-1][2]:.1f} MiB",
                        file=sys.stderr,
                        flush=True,
                    )
                if args.trace and r == args.warmup:
                    tracemalloc.start(4)
                    before = tracemalloc.take_snapshot()
            if before is not None:
                after = tracemalloc.take_snapshot()
                top = after.compare_to(before, "traceback")[: args.trace]
                lines = []
                for stat in top:
                    frames = " < ".join(
                        f"{Path(fr.filename).name}:{fr.lineno}" for fr in stat.traceback[:4]
                    )
                    lines.append(
                        f"{stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+7d}  {frames}"
                    )
                trace_report = "\n".join(lines)
                tracemalloc.stop()
        engine.dispose()
    return samples, cpu, trace_report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=60, help="rounds before the baseline")
    parser.add_argument("--minutes", type=int, default=15, help="clock step per round")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--method", choices=("lexical", "semantic"), default="lexical")
    parser.add_argument("--trace", type=int, default=0, help="print the N biggest growers")
    args = parse_bench_args(parser, argv, "the loopback fakes' Nagle stall")
    args.warmup = min(args.warmup, args.rounds)
    print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        url = pg_fresh_schema() if args.db == "postgres" else f"sqlite:///{tmp}/mem.sqlite3"
        try:
            samples, cpu, trace_report = asyncio.run(run(args, url))
        finally:
            if args.db == "postgres":
                pg_drop_schema(url)
    warm, last = samples[args.warmup - 1][1], samples[-1][1]
    peak = max(mib for _, mib, _, _ in samples[args.warmup - 1 :])
    warm_all = samples[args.warmup - 1][1] + samples[args.warmup - 1][2]
    last_all = samples[-1][1] + samples[-1][2]
    peak_all = max(mib + kids for _, mib, kids, _ in samples[args.warmup - 1 :])
    step = max(1, len(samples) // 10)
    rows = [
        (r, f"{mib:.1f}", f"{kids:.1f}", f"{mib + kids:.1f}", f"{fps:,}")
        for r, mib, kids, fps in samples[step - 1 :: step]
    ]
    head = ("round", "RSS (MiB)", "parse workers (MiB)", "total (MiB)", "fingerprint cache")
    print(md_table(head, rows))
    if trace_report:
        print(f"\ntracemalloc, round {args.warmup} → {args.rounds} (size, count, where):")
        print(trace_report)
    entries = args.feeds * args.items * len(samples)
    print(
        f"\nmemory: {len(samples)} refreshes, RSS after warm-up {warm:.1f} MiB → {last:.1f} MiB"
        f" ({(last - warm) / warm * 100:+.1f} %; peak {peak:.1f}); with parse workers"
        f" {warm_all:.1f} → {last_all:.1f} MiB ({(last_all - warm_all) / warm_all * 100:+.1f} %;"
        f" peak {peak_all:.1f}) — {args.db}, {args.method},"
        f" {args.feeds} feeds × {args.items} new items/round ({entries:,} entries),"
        f" {cpu / len(samples):.2f} s CPU/round, fingerprint cache {samples[-1][3]:,}"
        f"/{fingerprint.cache_info().maxsize:,}"
    )


if __name__ == "__main__":
    main()
