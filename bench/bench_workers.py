"""Several worker processes on PostgreSQL: feed refresh and outbox throughput, 1 vs 3.

    python bench/bench_workers.py [--feeds 5000] [--messages 5000] [--items 10] [--method lexical]

Needs PostgreSQL at TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1/test).
Each run gets a fresh schema. Workers are separate processes running the same
use cases as `python -m bot run --role worker` (Refresher.refresh_due and
Sender.deliver_due) until nothing is due. Feeds (`--items` each, headlines from the
synthetic news corpus, a fifth retold by several feeds) come from one loopback
FeedServer in its own process; Telegram is the fake Bot API server with flood
limits off. Exactly-once is checked, not assumed: the feed server counts one
request per feed, the workers' reports add up to one refresh per feed, every
entry is stored once; every chat receives exactly one message.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import md_table, pg_drop_schema, pg_fresh_schema, print_machine
from bot.settings import DedupSettings, FetchSettings, Settings, Topic
from bot.storage import outbox
from bot.storage.db import open_database, session_scope
from bot.storage.models import Feed, utcnow


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def serve_feeds(commands: Any, replies: Any, feeds: int, items: int) -> None:
    """Serve `feeds` corpus feeds; answer "hits" with the per-path request counts (and reset)."""
    from bench._common import fix_loopback_fakes
    from bench._corpus import build_corpus, rss
    from tests.support.feedserver import FeedServer, Reply

    fix_loopback_fakes()
    corpus = build_corpus(feeds=feeds, items=items, now=utcnow())
    server = FeedServer()
    for i, items in enumerate(corpus.feeds):
        server.route(
            f"/f/{i}.xml", Reply(200, {"Content-Type": "application/rss+xml"}, rss(i, items))
        )
    server.start()
    replies.put(server.port)
    while commands.get() == "hits":
        with server._lock:
            replies.put(dict(server.hits))
            server.hits.clear()
            server.requests.clear()
    server.stop()


def settings_for(url: str, method: str) -> Settings:
    return Settings(
        database_url=url,
        fetch=FetchSettings(allow_private_networks=True, timeout_seconds=60, max_concurrency=20),
        dedup=DedupSettings(method=method),  # type: ignore[arg-type]
        topics=(Topic("world", "World"),),
    )


def refresh_worker(url: str, method: str, start: Any, results: Any) -> None:
    from bot.cli.fetch import fetch_policy
    from bot.ingest.fetcher import Fetcher
    from bot.ingest.refresh import Refresher

    engine = open_database(url)
    settings = settings_for(url, method)

    async def main() -> list[int]:
        async with Fetcher(fetch_policy(settings.fetch)) as fetcher:
            refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings)
            start.wait()
            reports = await refresher.refresh_due(batch=50)
            return [r.feed_id for r in reports if r.error is None]

    began = time.process_time()
    done = asyncio.run(main())
    results.put((done, time.process_time() - began))
    engine.dispose()


def send_worker(url: str, base_url: str, token: str, start: Any, results: Any) -> None:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.delivery.pacing import Pacer
    from bot.delivery.sender import Sender

    engine = open_database(url)

    async def main() -> None:
        request = HTTPXRequest(connection_pool_size=128)
        async with Bot(token, base_url=base_url, request=request) as bot:
            sender = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=1e9), batch_size=200)
            start.wait()
            while True:
                await sender.deliver_due(budget_seconds=60)
                with session_scope(engine) as session:
                    if outbox.pending_count(session) == 0:
                        return

    began = time.process_time()
    asyncio.run(main())
    results.put(([], time.process_time() - began))
    engine.dispose()


def start_workers(workers: int, target: Any, args: tuple[Any, ...]) -> tuple[float, list[Any]]:
    """Start `workers` processes, release them together, wait; (wall seconds, their results)."""
    start, results = mp.Event(), mp.Queue()
    procs = [mp.Process(target=target, args=(*args, start, results)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    time.sleep(5.0)  # let every worker import and connect
    began = time.perf_counter()
    start.set()
    got = [results.get() for _ in procs]  # before join: a full queue would block the child
    took = time.perf_counter() - began
    for proc in procs:
        proc.join()
        assert proc.exitcode == 0, f"worker exited with {proc.exitcode}"
    return took, got


def run_refresh(
    workers: int, feeds: int, items: int, port: int, method: str, server: tuple[Any, Any]
) -> tuple[float, float]:
    url = pg_fresh_schema()
    engine = open_database(url)
    now = utcnow()
    with session_scope(engine) as session:
        session.execute(
            sa.insert(Feed),
            [
                {
                    "url": f"http://127.0.0.1:{port}/f/{i}.xml",
                    "name": f"Feed {i}",
                    "topics": "world",
                    "origin": "config",
                    "enabled": True,
                    "paused": False,
                    "consecutive_failures": 0,
                    "created_at": now,
                }
                for i in range(feeds)
            ],
        )
    server[0].put("hits")
    server[1].get()  # reset the counts
    took, got = start_workers(workers, refresh_worker, (url, method))
    server[0].put("hits")
    hits: dict[str, int] = server[1].get()
    refreshed = Counter(feed_id for done, _ in got for feed_id in done)
    with engine.connect() as conn:
        ok = conn.execute(sa.text("select count(*) from feed where last_success_at is not null"))
        checked = ok.scalar_one()
        entries = conn.execute(sa.text("select count(*) from entry")).scalar_one()
    engine.dispose()
    pg_drop_schema(url)
    assert checked == feeds, f"only {checked} of {feeds} feeds refreshed"
    assert len(hits) == feeds and set(hits.values()) == {1}, f"requests: {Counter(hits.values())}"
    assert len(refreshed) == feeds and set(refreshed.values()) == {1}, "a feed refreshed twice"
    assert entries == feeds * items, f"{entries} entries stored for {feeds * items} items"
    return took, sum(cpu for _, cpu in got)


def run_send(workers: int, messages: int) -> tuple[float, float, int]:
    from tests.support.fake_telegram import FakeTelegram
    from tests.support.outboxkit import enqueue_messages

    url = pg_fresh_schema()
    engine = open_database(url)
    with FakeTelegram(flood_limits=False) as tg:
        chats = list(range(1, messages + 1))
        for chat_id in chats:
            tg.add_private_chat(chat_id)
        enqueue_messages(engine, chats, kind="broadcast", key="b", text="Hello {chat}")
        took, got = start_workers(workers, send_worker, (url, tg.base_url, tg.token))
        sent = tg.stats.by_method["sendMessage"]
        per_chat = Counter(len(tg.messages(c)) for c in chats)
    engine.dispose()
    pg_drop_schema(url)
    assert per_chat == {1: messages}, f"messages per chat: {dict(per_chat)}"
    return took, sum(cpu for _, cpu in got), sent


def main() -> None:
    from bench._common import fix_loopback_fakes

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--method", choices=("lexical", "semantic"), default="lexical")
    parser.add_argument("--part", choices=("both", "refresh", "send"), default="both")
    args = parser.parse_args()
    fix_loopback_fakes()
    mp.set_start_method("spawn")
    print_machine()
    summary = [f"workers on PostgreSQL ({args.method})"]
    if args.part in ("both", "refresh"):
        commands, replies = mp.Queue(), mp.Queue()
        server = mp.Process(
            target=serve_feeds, args=(commands, replies, args.feeds, args.items), daemon=True
        )
        server.start()
        port = replies.get(timeout=300)
        refresh, rows = {}, []
        for workers in (1, 3):
            before = load()
            took, cpu = run_refresh(
                workers, args.feeds, args.items, port, args.method, (commands, replies)
            )
            refresh[workers] = took
            rows.append(
                (
                    workers,
                    f"{took:.1f}",
                    f"{args.feeds / took:.0f}",
                    f"{cpu:.0f}",
                    f"{before}/{load()}",
                )
            )
        commands.put("stop")
        server.join(timeout=10)
        head = f"refresh {args.feeds:,} feeds × {args.items} items (s)"
        print(
            md_table(("workers", head, "feeds/s", "workers' CPU (s)", "load 1-min start/end"), rows)
        )
        print()
        summary.append(
            f"refresh {args.feeds:,} feeds 3 vs 1: {refresh[1] / refresh[3]:.2f}×"
            f" ({refresh[1]:.0f} s → {refresh[3]:.0f} s, each feed fetched and stored once)"
        )
    if args.part in ("both", "send"):
        send, rows = {}, []
        for workers in (1, 3):
            before = load()
            took, cpu, sent = run_send(workers, args.messages)
            send[workers] = took
            rows.append(
                (
                    workers,
                    f"{took:.1f}",
                    f"{args.messages / took:.0f}",
                    sent,
                    f"{cpu:.0f}",
                    f"{before}/{load()}",
                )
            )
        head = f"send {args.messages:,} messages (s)"
        cols = ("workers", head, "messages/s", "sendMessage calls", "workers' CPU (s)", "load")
        print(md_table(cols, rows))
        print()
        summary.append(
            f"send {args.messages:,} messages 3 vs 1: {send[1] / send[3]:.2f}×"
            f" ({send[1]:.1f} s → {send[3]:.1f} s, one message per chat)"
        )
    print("; ".join(summary))


if __name__ == "__main__":
    main()
