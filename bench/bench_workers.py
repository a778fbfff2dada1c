"""Several worker processes on PostgreSQL: feed refresh and outbox throughput, 1 vs 3.

    python bench/bench_workers.py [--feeds 5000] [--messages 5000]

Needs PostgreSQL at TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1/test).
Each run gets a fresh schema. Workers are separate processes running the same
use cases as `python -m bot run --role worker` (Refresher.refresh_due and
Sender.deliver_due) until nothing is due. Feeds come from one local HTTP server
process, Telegram is the fake Bot API server with flood limits off.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.settings import FeedConfig, FetchSettings, Settings, Topic
from bot.storage import outbox
from bot.storage.db import open_database, session_scope
from bot.storage.models import Feed, utcnow

BASE = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ITEMS = 10


def feed_body(i: int) -> bytes:
    items = "".join(
        f"<item><guid>f{i}-{j}</guid><title>Council {i} approves budget item {j} for district"
        f" {i * 7 + j}</title><link>https://news{i}.example/{j}</link>"
        f"<pubDate>Wed, 25 Nov 2026 0{j % 10}:00:00 GMT</pubDate></item>"
        for j in range(ITEMS)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {i}</title>'
        f"<link>https://news{i}.example/</link>{items}</channel></rss>"
    ).encode()


def serve_feeds(port_queue: mp.Queue, feeds: int) -> None:  # type: ignore[type-arg]
    from tests.support.feedserver import FeedServer, Reply

    server = FeedServer()
    for i in range(feeds):
        server.route(
            f"/f/{i}.xml", Reply(200, {"Content-Type": "application/rss+xml"}, feed_body(i))
        )
    server.start()
    port_queue.put(server.port)
    while True:
        time.sleep(3600)


def fresh_schema() -> str:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in BASE else "?"
    return f"{BASE}{sep}options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    schema = url.rsplit("%3D", 1)[-1]
    admin = sa.create_engine(BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def settings_for(url: str, feeds: tuple[FeedConfig, ...] = ()) -> Settings:
    return Settings(
        database_url=url,
        fetch=FetchSettings(allow_private_networks=True, timeout_seconds=30, max_concurrency=20),
        topics=(Topic("world", "World"),),
        feeds=feeds,
    )


def refresh_worker(url: str, start: mp.Event) -> None:  # type: ignore[valid-type]
    from bot.cli.fetch import fetch_policy
    from bot.ingest.fetcher import Fetcher
    from bot.ingest.refresh import Refresher

    engine = open_database(url)
    settings = settings_for(url)

    async def main() -> None:
        async with Fetcher(fetch_policy(settings.fetch)) as fetcher:
            refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings)
            start.wait()
            await refresher.refresh_due(batch=50)

    asyncio.run(main())


def send_worker(url: str, base_url: str, token: str, start: mp.Event) -> None:  # type: ignore[valid-type]
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

    asyncio.run(main())


def run_refresh(workers: int, feeds: int, port: int) -> float:
    url = fresh_schema()
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
    start = mp.Event()
    procs = [mp.Process(target=refresh_worker, args=(url, start)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    time.sleep(3.0)  # let every worker import and connect
    began = time.perf_counter()
    start.set()
    for proc in procs:
        proc.join()
    took = time.perf_counter() - began
    with engine.connect() as conn:
        done = conn.execute(sa.text("select count(*) from feed where last_success_at is not null"))
        checked = done.scalar_one()
    engine.dispose()
    drop_schema(url)
    assert checked == feeds, f"only {checked} of {feeds} feeds refreshed"
    return took


def run_send(workers: int, messages: int) -> tuple[float, int]:
    from tests.support.fake_telegram import FakeTelegram

    url = fresh_schema()
    engine = open_database(url)
    with FakeTelegram(flood_limits=False) as tg:
        chats = list(range(1, messages + 1))
        for chat_id in chats:
            tg.add_private_chat(chat_id)
        with session_scope(engine) as session:
            outbox.enqueue(
                session,
                [outbox.NewMessage(c, "broadcast", f"b:{c}", f"Hello {c}") for c in chats],
                now=datetime.now(UTC),
            )
        start = mp.Event()
        procs = [
            mp.Process(target=send_worker, args=(url, tg.base_url, tg.token, start))
            for _ in range(workers)
        ]
        for proc in procs:
            proc.start()
        time.sleep(3.0)
        began = time.perf_counter()
        start.set()
        for proc in procs:
            proc.join()
        took = time.perf_counter() - began
        sent = tg.stats.by_method["sendMessage"]
    engine.dispose()
    drop_schema(url)
    return took, sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    mp.set_start_method("spawn")
    ports: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    server = mp.Process(target=serve_feeds, args=(ports, args.feeds), daemon=True)
    server.start()
    port = ports.get(timeout=30)
    print(f"| workers | refresh {args.feeds} feeds × {ITEMS} items (s) | feeds/s |")
    print("|---|---|---|")
    refresh = {}
    for workers in (1, 3):
        refresh[workers] = run_refresh(workers, args.feeds, port)
        print(f"| {workers} | {refresh[workers]:.1f} | {args.feeds / refresh[workers]:.0f} |")
    print(f"\nrefresh speed-up 3 vs 1: {refresh[1] / refresh[3]:.2f}x\n")
    print(f"| workers | send {args.messages} messages (s) | messages/s | sendMessage calls |")
    print("|---|---|---|---|")
    send = {}
    for workers in (1, 3):
        took, sent = run_send(workers, args.messages)
        send[workers] = took
        print(f"| {workers} | {took:.1f} | {args.messages / took:.0f} | {sent} |")
    print(f"\noutbox speed-up 3 vs 1: {send[1] / send[3]:.2f}x")
    server.terminate()


if __name__ == "__main__":
    main()
