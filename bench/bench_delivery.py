"""Benchmark delivery: sender throughput, the 30/s paced rate, and composing 100 k briefings.

Run from the repo root: ``python -m bench.bench_delivery [--part a|b|c ...]``; all three
parts take ~17 min here ((a) ~8, (b) ~2, (c) ~8: composing 100 k briefings takes that long).

(a) ``Sender.deliver_due`` against the fake Bot API with limits off
    (``Pacer(per_second=1e9)``, ``FakeTelegram(flood_limits=False)``): 5,000 queued
    briefings to 5,000 chats. The fake runs in-process (as the tests run it) and in a
    child process (so its CPU does not share our GIL); the fake's own ceiling is
    measured with a bare httpx client and with bare PTB ``Bot.send_message`` calls.
(b) ``Pacer(per_second=30)`` against ``FakeTelegram(flood_limits=True)``: 3,000
    messages to 3,000 chats; rate as the fake saw it and its count of 429s.
(c) ``compose_scheduled`` for 100 k due chats (a few hundred stories in a few topics),
    in a child process: seconds and peak RSS; one call (``--compose-ticks``: also in
    the tick's batches).

What-if flags change only this process (never ``bot/``): ``--what-if-sniffio`` makes
``import sniffio`` succeed, ``--what-if-batch``/``--what-if-pool`` size the sender.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import math
import multiprocessing as mp
import pstats
import resource
import sys
import tempfile
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from telegram import Bot
from telegram.request import HTTPXRequest

from bench._common import (
    corpus_headlines,
    ensure_repo_on_path,
    md_table,
    parse_bench_args,
    print_machine,
    rss_mib,
    spread,
)
from bench._fakeproc import FakeProcess
from bench._stubapi import StubProcess
from bot.delivery.message import markup_json
from bot.delivery.pacing import Pacer
from bot.delivery.sender import DeliveryStats, Sender
from bot.render.stories import StoryView, compose_story_list
from bot.settings import BriefingSettings, Settings, TelegramSettings, Topic
from bot.storage import outbox
from bot.storage.db import open_database
from handlers import jobs
from handlers.app import sender_bot
from handlers.jobs import COMPOSE_EVERY
from tests.support.fake_telegram import FakeTelegram
from tests.support.seed import TopicShare, seed_chats, seed_feeds, seed_outbox, seed_story_corpus

FIRST_CHAT = 2_000_000
STORIES = 300  # for (c): a day of stories in a few topics
NODELAY = {"on": True}  # TCP_NODELAY on the fakes (see bench/_common.py)
POOL: dict[str, int | None] = {"size": None}  # what-if: the sender bot's connection pool
BATCH: dict[str, int] = {"size": Sender.batch_size}  # what-if: rows claimed (and sent) at once


def make_sender_bot(base_url: str, token: str) -> Bot:
    """The production sender bot, or (what-if) one with another connection pool size."""
    settings = Settings(telegram=TelegramSettings(token=token, api_base_url=base_url))
    if POOL["size"] is None:
        return sender_bot(settings)
    request = HTTPXRequest(connection_pool_size=POOL["size"], pool_timeout=30.0)
    return Bot(token, base_url=base_url, request=request)


def pretend_sniffio_installed() -> None:
    """What-if: make `import sniffio` succeed, as installing it would.

    httpcore 1.0.9 runs `import sniffio` on every lock and semaphore it creates;
    anyio >= 4.11 no longer installs sniffio, and a failed import is not cached,
    so each request walks sys.path (encode/httpcore PR #1103).
    """
    module = types.ModuleType("sniffio")
    module.current_async_library = lambda: "asyncio"  # type: ignore[attr-defined]
    sys.modules["sniffio"] = module


def briefing_message() -> tuple[str, str | None]:
    """A realistic briefing: 10 linked headlines with outlets and ages, 10 buttons."""
    now = datetime.now(UTC)
    views = [
        StoryView(
            id=1000 + i,
            title=f"Minister backs pension reform plan number {i} amid protests in Paris",
            link=f"https://outlet{i:04d}.example/news/pension-reform-{i}",
            source=f"Outlet {i:04d}",
            published_at=now - timedelta(minutes=7 * i + 3),
            other_sources=("Outlet 0042", "Outlet 0077") if i % 3 == 0 else (),
        )
        for i in range(10)
    ]
    [message] = compose_story_list(views, header_html="<b>Your briefing · World</b>", now=now)
    return message.html, markup_json(message)


def fresh_outbox(folder: Path, chats: range, text: str, markup: str | None) -> Engine:
    engine = open_database(f"sqlite:///{folder / 'bench.sqlite3'}")
    seed_outbox(engine, chats, now=datetime.now(UTC), text=text)
    if markup:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE outbox SET reply_markup = :m"), {"m": markup})
    return engine


def pending(engine: Engine) -> int:
    from sqlmodel import Session

    with Session(engine) as session:
        return outbox.pending_count(session)


async def drain(
    engine: Engine, base_url: str, token: str, per_second: float
) -> tuple[float, DeliveryStats]:
    """Send every pending row with a production sender bot; return (seconds, stats)."""
    bot = make_sender_bot(base_url, token)
    async with bot:
        sender = Sender(
            engine=engine, bot=bot, pacer=Pacer(per_second=per_second), batch_size=BATCH["size"]
        )
        return await deliver_all(engine, sender)


async def deliver_all(engine: Engine, sender: Sender) -> tuple[float, DeliveryStats]:
    """Deliver until no row is pending (retries included); return (seconds, stats)."""
    total = DeliveryStats()
    began = time.perf_counter()
    while True:
        total += await sender.deliver_due(budget_seconds=600)
        if not await asyncio.to_thread(pending, engine):
            break
        await asyncio.sleep(0.05)  # rows waiting for a retry
    return time.perf_counter() - began, total


# --- (a) throughput with limits off ------------------------------------------------------------


@dataclass
class Throughput:
    rate: float
    sent: int
    delivered: int
    rejected_429: int
    cpu_ms: float = float("nan")  # CPU of the sender's process per message (all threads)


def sender_in_process(n: int, text: str, markup: str | None) -> Throughput:
    chats = range(FIRST_CHAT, FIRST_CHAT + n)
    with (
        tempfile.TemporaryDirectory(prefix="bench_delivery_") as folder,
        FakeTelegram(flood_limits=False) as tg,
    ):
        for chat_id in chats:
            tg.add_private_chat(chat_id)
        engine = fresh_outbox(Path(folder), chats, text, markup)
        elapsed, stats = asyncio.run(drain(engine, tg.base_url, tg.token, 1e9))
        delivered = sum(len(tg.messages(c)) for c in chats)
        engine.dispose()
        return Throughput(n / elapsed, stats.sent, delivered, tg.stats.rejected_429)


def sender_child(
    n: int,
    text: str,
    markup: str | None,
    *,
    stub: bool,
    profile: cProfile.Profile | None = None,
) -> Throughput:
    """The sender against the fake (or the minimal stub) running in a child process."""
    chats = range(FIRST_CHAT, FIRST_CHAT + n)
    target = StubProcess() if stub else FakeProcess(chats=chats, nodelay=NODELAY["on"])
    with tempfile.TemporaryDirectory(prefix="bench_delivery_") as folder, target as server:
        engine = fresh_outbox(Path(folder), chats, text, markup)
        if profile is not None:
            profile.enable()
        cpu = time.process_time()
        elapsed, stats = asyncio.run(drain(engine, server.base_url, server.token, 1e9))
        cpu = time.process_time() - cpu
        if profile is not None:
            profile.disable()
        if isinstance(server, StubProcess):
            delivered, rejected = server.counts()[1], 0
        else:
            report = server.report()
            delivered, rejected = report.messages, report.rejected_429
        engine.dispose()
        return Throughput(n / elapsed, stats.sent, delivered, rejected, cpu / n * 1e3)


async def bare_httpx(
    base_url: str, token: str, chats: range, concurrency: int, text: str, markup: str | None
) -> float:
    """sendMessage as PTB encodes it (form fields), from a plain httpx client; msgs/s."""
    url = f"{base_url}{token}/sendMessage"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    queue = list(chats)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            while queue:
                chat_id = queue.pop()
                data = {
                    "chat_id": str(chat_id),
                    "text": text,
                    "parse_mode": "HTML",
                    "link_preview_options": json.dumps({"is_disabled": True}),
                }
                if markup:
                    data["reply_markup"] = markup
                response = await client.post(url, data=data)
                response.raise_for_status()

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(chats) / (time.perf_counter() - began)


async def bare_ptb(
    base_url: str, token: str, chats: range, concurrency: int, text: str, markup: str | None
) -> float:
    """Bot.send_message from the production sender bot, no database; msgs/s."""
    from telegram import InlineKeyboardMarkup, LinkPreviewOptions

    bot = make_sender_bot(base_url, token)
    queue = list(chats)
    async with bot:
        keyboard = InlineKeyboardMarkup.de_json(json.loads(markup), bot) if markup else None

        async def worker() -> None:
            while queue:
                await bot.send_message(
                    queue.pop(),
                    text,
                    parse_mode="HTML",
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_markup=keyboard,
                )

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(chats) / (time.perf_counter() - began)


def ceilings(n: int, text: str, markup: str | None) -> list[tuple[str, float]]:
    """What the servers take from clients that do nothing else (msgs/s)."""
    rows = []
    chats = range(FIRST_CHAT, FIRST_CHAT + n)

    def httpx_rate(base_url: str, token: str, concurrency: int) -> float:
        return asyncio.run(bare_httpx(base_url, token, chats, concurrency, text, markup))

    with FakeTelegram(flood_limits=False) as tg:
        for chat_id in chats:
            tg.add_private_chat(chat_id)
        for concurrency in (1, 16, 128):
            rows.append(
                (
                    f"bare httpx → fake in-process, {concurrency} connection(s)",
                    httpx_rate(tg.base_url, tg.token, concurrency),
                )
            )
    servers = (
        ("fake in a child process", lambda: FakeProcess(chats=chats, nodelay=NODELAY["on"])),
        ("minimal stub", StubProcess),
    )
    for name, start in servers:
        with start() as server:
            for concurrency in (1, 16, 128):
                rows.append(
                    (
                        f"bare httpx → {name}, {concurrency} connection(s)",
                        httpx_rate(server.base_url, server.token, concurrency),
                    )
                )
            rate = asyncio.run(bare_ptb(server.base_url, server.token, chats, 128, text, markup))
            rows.append((f"bare PTB `Bot.send_message` → {name}, 128 at once", rate))
    return rows


def part_a(args: argparse.Namespace) -> None:
    text, markup = briefing_message()
    n = args.messages
    print(f"### (a) Sender throughput, limits off: {n} briefings to {n} chats\n", flush=True)
    print(f"Each message: {len(text)} characters of HTML with a 10-button keyboard.\n")
    targets = {
        "inproc": (
            "`Sender.deliver_due` → fake in-process (as the tests run it)",
            lambda: sender_in_process(n, text, markup),
        ),
        "child": (
            "`Sender.deliver_due` → fake in a child process",
            lambda: sender_child(n, text, markup, stub=False),
        ),
        "stub": (
            "`Sender.deliver_due` → minimal stub in a child process (our ceiling)",
            lambda: sender_child(n, text, markup, stub=True),
        ),
    }
    results = {
        label: [run() for _ in range(args.runs)]
        for key, (label, run) in targets.items()
        if key in args.targets.split(",")
    }
    for label, runs in results.items():
        bad = [r for r in runs if r.delivered != n or r.rejected_429 or r.sent != n]
        if bad:
            print(f"WARNING {label}: {bad}")
    rows = [
        (
            label,
            spread([r.rate for r in runs], "{:.0f}"),
            spread([r.cpu_ms for r in runs], "{:.2f}") if not math.isnan(runs[0].cpu_ms) else "–",
        )
        for label, runs in results.items()
    ]
    if not args.skip_ceilings:
        rows += [(name, f"{rate:.0f}", "") for name, rate in ceilings(n, text, markup)]
    head = ("sender → server", "messages/s: median (min–max, n)", "sender CPU ms/message")
    print(md_table(head, rows))
    if args.profile:
        profile = cProfile.Profile()
        sender_child(n, text, markup, stub=True, profile=profile)
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("tottime").print_stats(20)
        stats.sort_stats("cumulative").print_stats(r"(/bot/|telegram/_bot|httpx/_client)", 15)
        lines = [line for line in out.getvalue().splitlines() if line.strip()]
        print("\ncProfile of the event-loop thread, sender against the minimal stub:\n")
        print("```\n" + "\n".join(lines) + "\n```")


# --- (b) the 30/s limit ----------------------------------------------------------------------


def part_b(args: argparse.Namespace) -> None:
    n = args.paced
    text, markup = briefing_message()
    print(f"\n### (b) Paced at 30/s against flood limits: {n} messages to {n} chats\n", flush=True)
    chats = range(FIRST_CHAT, FIRST_CHAT + n)
    with (
        tempfile.TemporaryDirectory(prefix="bench_paced_") as folder,
        FakeProcess(chats=chats, flood_limits=True, nodelay=NODELAY["on"]) as fake,
    ):
        engine = fresh_outbox(Path(folder), chats, text, markup)
        elapsed, stats = asyncio.run(drain(engine, fake.base_url, fake.token, 30.0))
        report = fake.report()
        engine.dispose()
    times = sorted(report.send_times)
    span = times[-1] - times[0]
    window_max = max_in_window(times, 1.0)
    rows = [
        ("messages delivered (fake's count)", f"{report.messages} of {n}"),
        ("wall time, first claim to last mark (s)", f"{elapsed:.1f}"),
        (
            "rate as the fake saw it, (n − 1) / (last − first arrival)",
            f"{(len(times) - 1) / span:.2f} /s",
        ),
        ("rate over the sender's wall time", f"{n / elapsed:.2f} /s"),
        ("most sendMessage arrivals in any 1-s window", f"{window_max}"),
        ("429 answers", f"{report.rejected_429}"),
        ("sender stats", f"sent {stats.sent}, retried {stats.retried}, failed {stats.failed}"),
    ]
    print(md_table(("measure", "value"), rows))


def max_in_window(times: Sequence[float], width: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - width:
            start += 1
        best = max(best, end - start + 1)
    return best


# --- (c) composing briefings for 100 k chats ------------------------------------------------


COMPOSE_TOPICS = (
    Topic("world", "World"),
    Topic("business", "Business"),
    Topic("sport", "Sport"),
    Topic("technology", "Technology"),
)


def compose_settings() -> Settings:
    return Settings(
        topics=COMPOSE_TOPICS,
        briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=10),
    )


def _compose_child(conn: Connection, url: str, limit: int, chats: int) -> None:
    ensure_repo_on_path()
    from bot.briefings.compose import compose_scheduled
    from bot.storage.db import make_engine

    engine = make_engine(url)
    settings = compose_settings()
    now = datetime.fromisoformat(conn.recv())
    baseline = rss_mib()
    began = time.perf_counter()
    ticks = briefings = messages = 0
    while briefings < chats:
        stats = compose_scheduled(engine, settings, now=now, limit=limit)
        ticks += 1
        briefings += stats.briefings + stats.empty
        messages += stats.messages
        if not stats.briefings and not stats.empty:
            break
    elapsed = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send((elapsed, ticks, briefings, messages, baseline, peak))


def seed_compose(folder: Path, chats: int, now: datetime) -> str:
    url = f"sqlite:///{folder / 'compose.sqlite3'}"
    engine = open_database(url)
    feeds = seed_feeds(engine, count=50, now=now)
    shares = [TopicShare(t.slug, 1.0) for t in COMPOSE_TOPICS]
    seed_story_corpus(
        engine,
        count=STORIES,
        feed_ids=feeds,
        topics=shares,
        now=now,
        span=timedelta(hours=20),
        headlines=corpus_headlines,
    )
    seed_chats(
        engine,
        range(FIRST_CHAT, FIRST_CHAT + chats),
        topics=[t.slug for t in COMPOSE_TOPICS],
        now=now - timedelta(days=1),
        due=now - timedelta(minutes=1),
        per_chat=(1, 3),
    )
    engine.dispose()
    return url


def compose_in_child(url: str, limit: int, chats: int, now: datetime) -> tuple:
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_compose_child, args=(child, url, limit, chats))
    process.start()
    parent.send(now.isoformat())
    result = parent.recv()
    process.join()
    return result


def part_c(args: argparse.Namespace) -> None:
    chats = args.compose_chats
    print(
        f"\n### (c) compose_scheduled for {chats} due chats, {STORIES} stories in "
        f"{len(COMPOSE_TOPICS)} topics\n",
        flush=True,
    )
    rows = []
    runs = [(f"one call, limit={chats}", chats)]
    if args.compose_ticks:
        batch = getattr(jobs, "COMPOSE_BATCH", 200)
        runs.append((f"calls of limit={batch} (the tick's batch), back to back", batch))
    per_chat = float("nan")
    for label, limit in runs:
        with tempfile.TemporaryDirectory(prefix="bench_compose_") as folder:
            now = datetime.now(UTC)
            began = time.perf_counter()
            url = seed_compose(Path(folder), chats, now)
            seeded = time.perf_counter() - began
            result = compose_in_child(url, limit, chats, now)
            elapsed, ticks, briefings, messages, baseline, peak = result
            size = sum(p.stat().st_size for p in Path(folder).iterdir()) / 2**20
        per_chat = elapsed / chats
        rows.append(
            (
                label,
                f"{elapsed:.1f}",
                f"{per_chat * 1e3:.2f}",
                f"{chats / elapsed:.0f}",
                f"{ticks}",
                f"{briefings} / {messages}",
                f"{baseline:.0f} → {peak:.0f}",
                f"{size:.0f}",
            )
        )
        print(f"done: {label} (seeded in {seeded:.1f} s)", flush=True)
    head = (
        "run",
        "s",
        "ms/chat",
        "chats/s",
        "calls",
        "briefings / messages",
        "RSS MiB: before → peak",
        "DB MiB after",
    )
    print(md_table(head, rows))
    batch = getattr(jobs, "COMPOSE_BATCH", None)
    print(
        f"\nAt {per_chat * 1e3:.2f} ms per chat, composing {chats} due briefings is "
        f"{chats * per_chat / 60:.1f} min of work; sending them at 30/s takes "
        f"{chats / 30 / 3600:.1f} h. With one 200-chat call per {COMPOSE_EVERY:.0f}-s tick "
        f"(`compose_tick` before commit 1362331) it took {chats / 200 * COMPOSE_EVERY / 3600:.1f} h"
        + (f"; the tick now loops {batch}-chat batches until none is due." if batch else ".")
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", action="append", choices=("a", "b", "c"))
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--paced", type=int, default=3000)
    parser.add_argument("--compose-chats", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--targets", default="inproc,child,stub", help="(a): servers the sender is timed against"
    )
    parser.add_argument("--skip-ceilings", action="store_true", help="(a): skip bare clients")
    parser.add_argument(
        "--compose-ticks", action="store_true", help="(c): also run 200-chat ticks back to back"
    )
    parser.add_argument(
        "--what-if-sniffio", action="store_true", help="pretend sniffio is installed"
    )
    parser.add_argument(
        "--what-if-pool", type=int, default=None, help="sender bot connection pool size"
    )
    parser.add_argument(
        "--what-if-batch", type=int, default=None, help="Sender.batch_size (rows sent at once)"
    )
    args = parse_bench_args(parser, argv, "the fake's ~45 ms Nagle stall per request")
    NODELAY["on"] = not args.as_is_fakes
    POOL["size"] = args.what_if_pool
    if args.what_if_sniffio:
        pretend_sniffio_installed()
        print("**What-if run: `import sniffio` succeeds (a stub module).**\n")
    if args.what_if_pool:
        print(f"**What-if run: sender bot pool of {args.what_if_pool} connections.**\n")
    if args.what_if_batch:
        BATCH["size"] = args.what_if_batch
        print(f"**What-if run: Sender.batch_size = {args.what_if_batch}.**\n")
    print_machine()
    parts = args.part or ["a", "b", "c"]
    if "a" in parts:
        part_a(args)
    if "b" in parts:
        part_b(args)
    if "c" in parts:
        part_c(args)


if __name__ == "__main__":
    main()
