"""Benchmark /latest and full-text latency through the real bot and the fake Bot API.

Run from the repo root: ``python -m bench.bench_latest [--stories 100000 --chats 10000]``.

The database holds 100 k stories (with entries and topics) and 10 k subscribed chats,
seeded with bulk inserts. The real Application polls the fake Bot API in-process
(``FakeTelegram(flood_limits=False)``). Latency runs from queueing the update at the
fake (its long poll hands it out at once) to the moment ``sendMessage`` for that chat
arrives at the fake (a fault hook stamps each call). Requests go one at a time, from
distinct chats (the per-chat /latest limit is 4/min), at most 20 a second (replies are
paced at 30/s as in production). Full text: a tap on a story whose article page is
served from loopback, uncached (fetch + extract + store) and cached (second tap).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram.ext import Application

from bench._common import (
    corpus_headlines,
    md_table,
    median,
    parse_bench_args,
    percentile,
    print_machine,
)
from bot.fulltext.article import extract_article
from bot.render.article import render_article
from bot.services.story_views import story_views
from bot.settings import BriefingSettings, Topic
from bot.storage import chats as chat_store
from bot.storage import stories as story_store
from bot.storage.db import open_database, session_scope
from bot.storage.models import Story, StoryTopic
from tests.support.botharness import ARTICLES, make_settings, running_bot
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply
from tests.support.seed import TopicShare, insert_rows, seed_chats, seed_feeds, seed_story_corpus

TOPICS = (
    Topic("world", "World"),
    Topic("business", "Business"),
    Topic("sport", "Sport"),
    Topic("technology", "Technology"),
    Topic("science", "Science"),
    Topic("space", "Space"),  # rare: /latest space must walk far back
    Topic("local", "Local"),  # the full-text stories
)
SHARES = (
    TopicShare("world", 0.4),
    TopicShare("business", 0.25),
    TopicShare("sport", 0.15),
    TopicShare("technology", 0.12),
    TopicShare("science", 0.0795),
    TopicShare("space", 0.0005),
)
SUBSCRIBABLE = ("world", "business", "sport", "technology", "science")
MIN_GAP = 0.05  # seconds between requests: 20/s, under the 30/s reply pacing
FIRST_CHAT = 1_000_000
ARTICLE_STORIES = 20  # /latest shows at most 20, one tapped per chat


class Stamps:
    """Arrival times at the fake (per chat: sendMessage; per method for the breakdown).

    `hook` runs on the fake's server threads; `dispatched` on the bot's event loop when
    PTB hands an update to the handlers.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_chat: dict[int, list[float]] = defaultdict(list)
        self.calls: dict[tuple[str, str], float] = {}
        self.dispatch: dict[int, list[float]] = defaultdict(list)

    def hook(self, method: str, params: dict[str, Any]) -> None:
        now = time.perf_counter()
        with self._lock:
            if method == "sendMessage":
                self.by_chat[int(params["chat_id"])].append(now)
            elif method == "answerCallbackQuery":
                self.calls.setdefault((method, str(params.get("callback_query_id"))), now)
            elif method == "sendChatAction":
                self.calls.setdefault((method, str(params.get("chat_id"))), now)

    def dispatched(self, chat_id: int) -> None:
        now = time.perf_counter()
        with self._lock:
            self.dispatch[chat_id].append(now)

    def call(self, method: str, key: object) -> float:
        with self._lock:
            return self.calls.get((method, str(key)), float("nan"))

    def dispatch_at(self, chat_id: int, index: int) -> float:
        with self._lock:
            found = self.dispatch.get(chat_id, [])
            return found[index] if index < len(found) else float("nan")

    def count(self, chat_id: int) -> int:
        with self._lock:
            return len(self.by_chat.get(chat_id, ()))

    def at(self, chat_id: int, index: int) -> float:
        with self._lock:
            return self.by_chat[chat_id][index]


async def wait_count(stamps: Stamps, chat_id: int, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while stamps.count(chat_id) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"chat {chat_id}: {stamps.count(chat_id)} of {count} messages")
        await asyncio.sleep(0.0005)


@dataclass
class Series:
    name: str
    latencies: list[float]
    # (step name, seconds from the update being queued) for each request
    steps: list[dict[str, float]] = dataclasses.field(default_factory=list)


def stamp_dispatch(stamps: Stamps) -> None:
    """Stamp each update as PTB hands it to the handlers (instrumentation, bench only)."""
    original = Application.process_update

    async def process_update(self: Application, update: object) -> None:
        chat = getattr(update, "effective_chat", None)
        if chat is not None:
            stamps.dispatched(chat.id)
        await original(self, update)

    Application.process_update = process_update  # type: ignore[method-assign]


async def latest_series(
    tg: FakeTelegram, stamps: Stamps, name: str, chats: Sequence[int], text: str, warmup: int
) -> Series:
    """Send `text` from each chat in turn; return the latencies after the warm-up."""
    latencies: list[float] = []
    steps: list[dict[str, float]] = []
    for n, chat_id in enumerate(chats):
        began = time.perf_counter()
        tg.send_text(chat_id, text)
        await wait_count(stamps, chat_id, 1)
        if n >= warmup:
            latencies.append(stamps.at(chat_id, 0) - began)
            steps.append({"dispatched": stamps.dispatch_at(chat_id, 0) - began})
        await asyncio.sleep(max(0.0, MIN_GAP - (time.perf_counter() - began)))
    return Series(name, latencies, steps)


async def fulltext_series(
    tg: FakeTelegram, stamps: Stamps, chats: Sequence[int], parts: int
) -> tuple[Series, Series]:
    """In each chat: /latest local, tap one story (uncached), then tap it again (cached)."""
    cold = Series("full text, first tap (fetch + extract + store)", [])
    warm = Series("full text, second tap (cached)", [])
    for n, chat_id in enumerate(chats):
        tg.send_text(chat_id, f"/latest local {min(20, len(chats))}")
        await wait_count(stamps, chat_id, 1)
        message = tg.messages(chat_id)[0]
        button = message.buttons[n % len(message.buttons)]
        for series, before in ((cold, 1), (warm, 1 + parts)):
            await asyncio.sleep(MIN_GAP)
            began = time.perf_counter()
            query = tg.press_button(chat_id, message.message_id, button["callback_data"])
            await wait_count(stamps, chat_id, before + parts)
            series.latencies.append(stamps.at(chat_id, before + parts - 1) - began)
            series.steps.append(
                {
                    "dispatched": stamps.dispatch_at(chat_id, 1 if series is cold else 2) - began,
                    "answerCallbackQuery": stamps.call("answerCallbackQuery", query) - began,
                }
            )
    return cold, warm


def seed(engine: Engine, args: argparse.Namespace, article_url: str) -> dict[str, float]:
    now = datetime.now(UTC)
    timings: dict[str, float] = {}
    began = time.perf_counter()
    feed_ids = seed_feeds(engine, count=200, now=now)
    entries = seed_story_corpus(
        engine,
        count=args.stories,
        feed_ids=feed_ids,
        topics=SHARES,
        now=now - timedelta(minutes=5),
        span=timedelta(days=14),
        headlines=corpus_headlines,
    )
    seed_chats(
        engine,
        range(FIRST_CHAT, FIRST_CHAT + args.chats),
        topics=SUBSCRIBABLE,
        now=now,
        due=now + timedelta(days=1),
        per_chat=(1, 3),
    )
    first = args.stories + 1
    insert_rows(
        engine,
        Story.__table__,  # type: ignore[attr-defined]
        (
            {
                "id": first + i,
                "title": f"Local council story {i} about the new tram line",
                "summary": "",
                "link": f"{article_url}?story={i}",
                "source_name": "Local News",
                "feed_id": feed_ids[0],
                "published_at": now - timedelta(seconds=i + 1),
                "first_seen_at": now - timedelta(seconds=i + 1),
                "entry_count": 1,
            }
            for i in range(ARTICLE_STORIES)
        ),
    )
    insert_rows(
        engine,
        StoryTopic.__table__,  # type: ignore[attr-defined]
        ({"story_id": first + i, "topic": "local"} for i in range(ARTICLE_STORIES)),
    )
    timings["seed (s)"] = time.perf_counter() - began
    timings["entries"] = entries
    # No ANALYZE: the bot never runs it, so production planners have no statistics either.
    return timings


async def run(
    args: argparse.Namespace,
) -> tuple[list[Series], dict[str, float], list[tuple[str, str, str]]]:
    page = (ARTICLES / "news_article.html").read_bytes()
    parts = len(render_article(_article(page), source_name="Local News"))
    with (
        tempfile.TemporaryDirectory(prefix="bench_latest_") as folder,
        FeedServer() as server,
        FakeTelegram(flood_limits=False) as tg,
    ):
        url = server.route("/article.html", Reply(200, {"Content-Type": "text/html"}, page))
        engine = open_database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        facts = seed(engine, args, url)
        stamps = Stamps()
        tg.set_fault_hook(lambda method, params: stamps.hook(method, params))
        stamp_dispatch(stamps)
        settings = dataclasses.replace(make_settings(tg), topics=TOPICS)
        n = args.requests
        warm = args.warmup
        chats = iter(range(FIRST_CHAT, FIRST_CHAT + args.chats))
        fresh = iter(range(FIRST_CHAT + args.chats, FIRST_CHAT + args.chats + 10 * (n + warm)))
        series: list[Series] = []
        async with running_bot(settings, engine):
            for name, text, source in (
                ("/latest, subscribed chat (1–3 topics, 5 stories)", "/latest", chats),
                ("/latest 20, subscribed chat", "/latest 20", chats),
                ("/latest, new chat, all topics", "/latest", fresh),
                ("/latest world (40 % of stories)", "/latest world", chats),
                ("/latest space (0.05 % of stories)", "/latest space", chats),
            ):
                picked = [next(source) for _ in range(n + warm)]
                series.append(await latest_series(tg, stamps, name, picked, text, warm))
                print(f"done: {name}", flush=True)
            article_chats = [next(fresh) for _ in range(min(args.fulltext, ARTICLE_STORIES))]
            series += await fulltext_series(tg, stamps, article_chats, parts)
            facts["429s"] = tg.stats.rejected_429
            facts["server errors"] = len(tg.server_errors)
        db_rows = db_only(engine)
        engine.dispose()
    facts["article parts"] = parts
    return series, facts, db_rows


def db_only(engine: Engine, repeats: int = 50) -> list[tuple[str, str, str]]:
    """Time the storage calls /latest makes (in-process, no Telegram) and show the plan."""
    cases = (
        ("1 topic (world), 5 stories", ["world"], 5),
        ("3 topics, 20 stories", ["world", "business", "sport"], 20),
        ("all topics, 5 stories", None, 5),
        ("rare topic (space), 5 stories", ["space"], 5),
    )
    rows = []
    with Session(engine) as session:
        for name, topics, count in cases:
            query_times, view_times = [], []
            for _ in range(repeats):
                began = time.perf_counter()
                stories = story_store.latest_stories(session, topics=topics, limit=count)
                middle = time.perf_counter()
                story_views(session, stories)
                query_times.append(middle - began)
                view_times.append(time.perf_counter() - middle)
            rows.append(
                (name, f"{median(query_times) * 1e3:.2f}", f"{median(view_times) * 1e3:.2f}")
            )
    # What `_ensure` does before every /latest: its own transaction, committed.
    defaults = BriefingSettings()
    ensure_times = []
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + repeats):
        began = time.perf_counter()
        with session_scope(engine) as session:
            chat_store.ensure_chat(
                session,
                chat_id,
                chat_type="private",
                title="User",
                defaults=defaults,
                now=datetime.now(UTC),
            )
        ensure_times.append(time.perf_counter() - began)
    ensure_ms = median(ensure_times) * 1e3
    rows.append(("`_ensure`'s own transaction (`ensure_chat` + commit)", "–", f"{ensure_ms:.2f}"))
    return rows


def _article(page: bytes) -> Any:
    article = extract_article(page, url="http://127.0.0.1/article.html")
    assert not hasattr(article, "reason"), article
    return article


def extract_only(repeats: int = 50) -> float:
    """Median seconds for extract_article on the test page, in-process (for the breakdown)."""
    page = (ARTICLES / "news_article.html").read_bytes()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        extract_article(page, url="http://127.0.0.1/article.html")
        times.append(time.perf_counter() - began)
    return median(times)


async def fake_round_trip(count: int = 30) -> float:
    """Median getMe round trip from a plain httpx client to the fake, in seconds."""
    with FakeTelegram(flood_limits=False) as tg:
        async with httpx.AsyncClient() as client:
            times = []
            for _ in range(count):
                began = time.perf_counter()
                (await client.post(f"{tg.base_url}{tg.token}/getMe")).raise_for_status()
                times.append(time.perf_counter() - began)
    return median(times)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="per /latest variant")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--fulltext", type=int, default=20, help="stories tapped (≤ 20)")
    args = parse_bench_args(parser, argv, "the fakes' ~45 ms Nagle stall per response")
    print_machine()
    trip = asyncio.run(fake_round_trip())
    stall = "as is" if args.as_is_fakes else "with TCP_NODELAY"
    print(f"fake Bot API round trip (getMe from httpx, {stall}): {trip * 1e3:.1f} ms\n")
    series, facts, db_rows = asyncio.run(run(args))
    print(
        f"database: {args.stories} stories, {int(facts['entries'])} entries, {args.chats} "
        f"subscribed chats (SQLite file, migrated, seeded in {facts['seed (s)']:.1f} s); "
        f"429s: {int(facts['429s'])}, fake server errors: {int(facts['server errors'])}; "
        f"the article renders as {int(facts['article parts'])} message(s)\n"
    )
    rows = [
        (
            s.name,
            len(s.latencies),
            f"{percentile(s.latencies, 50) * 1e3:.1f}",
            f"{percentile(s.latencies, 90) * 1e3:.1f}",
            f"{percentile(s.latencies, 99) * 1e3:.1f}",
            f"{max(s.latencies) * 1e3:.1f}",
        )
        for s in series
    ]
    print(md_table(("request", "n", "p50 (ms)", "p90 (ms)", "p99 (ms)", "max (ms)"), rows))
    print("\nWhere the time goes (medians, ms from queueing the update):\n")
    split = []
    for s in series:
        dispatched = median([step["dispatched"] for step in s.steps]) * 1e3
        answered = [step.get("answerCallbackQuery", float("nan")) for step in s.steps]
        split.append(
            (
                s.name,
                f"{dispatched:.1f}",
                f"{median(answered) * 1e3:.1f}" if "answerCallbackQuery" in s.steps[0] else "–",
                f"{median(s.latencies) * 1e3:.1f}",
            )
        )
    head = ("request", "PTB dispatches update", "answerCallbackQuery arrives", "last sendMessage")
    print(md_table(head, split))
    print("\nStorage calls alone, in-process on the same database (medians of 50):\n")
    print(md_table(("/latest scope", "`latest_stories` (ms)", "`story_views` (ms)"), db_rows))
    print(f"\n`extract_article` alone on the page, in-process: {extract_only() * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
