"""Peak resident memory of a first refresh: 1,000 feeds × 50 items into a fresh SQLite file.

    python -m bench.bench_peak_rss [--feeds 1000] [--items 50] [--path all|due]
        [--method lexical|semantic]

A host's first refresh finds every feed new: fetch and parse (two worker processes)
outrun the one writer, so parsed feeds wait for it. This measures what that costs in
memory: the bot's process and its parse workers, polled every 0.1 s from a thread
(`bench._common.RssSampler`), and, polled in the event loop, the most feeds that were
at once fetched but not yet parsed, and parsed but not yet stored.

``--path all`` is ``Refresher.refresh_all()`` (``python -m bot fetch``: every feed
at once); ``due`` is ``refresh_due()``, the refresh tick's call (claimed in batches).
The feeds are served from a child process (`bench/_feed_process.py`), not counted.
One path per run (a process's freed memory is not all given back, so a second
refresh in the same process would not start from the same place). Prints one line:
``peak: all, 1000 feeds × 50 items, ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    RssSampler,
    children_rss_mib,
    parse_bench_args,
    print_machine,
    rss_mib,
)
from bench._corpus import build_corpus, rss
from bench._feed_process import FeedProcess
from bench.bench_refresh import fresh_database, make_fetcher, make_settings
from bot.ingest import parse_workers
from bot.ingest.refresh import Refresher
from bot.settings import Settings


def parse_queue() -> int:
    """Fetched bodies waiting for a parse worker (the pool's thread queue)."""
    pool = parse_workers._pool
    return pool.threads._work_queue.qsize() if pool is not None else 0


async def refresh(path: str, folder: Path, settings: Settings) -> tuple[float, int, int, int]:
    engine = fresh_database(folder, settings)
    backlog = {"store": 0, "parse": 0}
    async with make_fetcher(settings) as fetcher:
        refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings)

        async def watch() -> None:
            while True:
                waiting = len(getattr(refresher, "_to_store", ()))
                backlog["store"] = max(backlog["store"], waiting)
                backlog["parse"] = max(backlog["parse"], parse_queue())
                await asyncio.sleep(0.1)

        watcher = asyncio.create_task(watch())
        began = time.perf_counter()
        if path == "all":
            reports = await refresher.refresh_all()
        else:
            reports = await refresher.refresh_due()
        wall = time.perf_counter() - began
        watcher.cancel()
    engine.dispose()
    failed = [r.error for r in reports if r.error]
    if failed or len(reports) != len(settings.feeds):
        raise SystemExit(f"{len(reports)} reports, {len(failed)} failed: {failed[:3]}")
    return wall, backlog["store"], backlog["parse"], len(reports)


def main(argv: list[str] | None = None) -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--feeds", type=int, default=1000)
    cli.add_argument("--items", type=int, default=50)
    cli.add_argument("--path", choices=("all", "due"), default="all")
    cli.add_argument("--method", choices=("lexical", "semantic"), default="lexical")
    args = parse_bench_args(cli, argv, "the loopback fakes' Nagle stall")
    print_machine()
    corpus = build_corpus(feeds=args.feeds, items=args.items, now=datetime.now(UTC))
    bodies = [rss(n, items) for n, items in enumerate(corpus.feeds)]
    size = sum(map(len, bodies)) / len(bodies) / 1024
    del corpus
    with FeedProcess(bodies) as server:
        del bodies
        gc.collect()
        settings = make_settings(server.urls, per_host=None, method=args.method)
        with tempfile.TemporaryDirectory(prefix="bench_") as folder:
            before, workers_before = rss_mib(), children_rss_mib()
            with RssSampler() as peak:
                wall, stored, parsed, n = asyncio.run(refresh(args.path, Path(folder), settings))
        print(
            f"peak: {args.path}, {n} feeds × {args.items} items ({size:.0f} KiB a body),"
            f" {args.method}: bot {before:.0f} → peak {peak.peak_main:.0f} MiB, parse workers"
            f" {workers_before:.0f} → peak {peak.peak_children:.0f} MiB, together peak"
            f" {peak.peak_total:.0f} MiB; most feeds waiting: {stored} for the writer,"
            f" {parsed} for a parse; {wall:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
