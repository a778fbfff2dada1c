"""First 📖 taps on heavy pages while other chats use the bot: what extraction costs them.

Run from the repo root: ``python -m bench.bench_taps [--taps 40] [--gap 0.05]``.

The real Application polls tests/support/fake_telegram (flood limits off) over a small
SQLite database; the pages are Readability's test pages (../shared/data/
readability-test-pages/*/source.html) served over HTTP on 127.0.0.1, one story each.

1. One tap right after the start, and one once the bot has been up a few seconds;
   with a worker pool, also a tap on a pool stopped just before (a worker started on
   demand: what a lazily started worker costs).
2. Quiet: bystanders send /latest (a new chat each time, every ``--gap`` seconds).
3. Burst: ``--taps`` first taps at once, each from its own chat on its own page (the
   largest pages), while the bystanders go on at the
   same pace until every tap has all its messages.

Latency runs from queueing the update at the fake to the arrival of the reply's (for a
tap: its last) sendMessage. Every tap's messages are checked against the same
extraction done in-process first: the pool must not change what a tap sends.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import ensure_repo_on_path, md_table, median, percentile, print_machine

ensure_repo_on_path()

import bot  # noqa: E402
from bench._common import corpus_headlines, parse_bench_args  # noqa: E402
from bot.fulltext.article import extract_article  # noqa: E402
from bot.render.stories import fulltext_callback  # noqa: E402
from bot.services import articles  # noqa: E402
from bot.settings import DeliverySettings, Topic  # noqa: E402
from bot.storage.db import open_database  # noqa: E402
from bot.storage.models import Story, StoryTopic  # noqa: E402
from tests.support.botharness import make_settings, running_bot  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402
from tests.support.feedserver import FeedServer, Reply  # noqa: E402
from tests.support.forged import push_forged_tap  # noqa: E402
from tests.support.seed import TopicShare, insert_rows, seed_feeds, seed_story_corpus  # noqa: E402

PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "readability-test-pages"
TOPICS = (Topic("world", "World"), Topic("local", "Local"))
TAPPER, BYSTANDER = 2_000_000, 3_000_000
FIRST_PAGE_STORY = 100_000
FAILED = "Couldn't get the article's text"  # texts.FULLTEXT_FAILED, in English
# One message of text a tap (then "Read on"): the extraction is measured, not Telegram's
# pace of one message a second per chat.
MAX_MESSAGES = 1


class Stamps:
    """sendMessage arrivals per chat (the fake's server threads call `hook`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_chat: dict[int, list[float]] = defaultdict(list)

    def hook(self, method: str, params: dict[str, Any]) -> None:
        if method == "sendMessage":
            with self._lock:
                self.by_chat[int(params["chat_id"])].append(time.perf_counter())

    def count(self, chat_id: int) -> int:
        with self._lock:
            return len(self.by_chat.get(chat_id, ()))

    def last(self, chat_id: int) -> float:
        with self._lock:
            return self.by_chat[chat_id][-1]


@dataclasses.dataclass
class Page:
    name: str
    body: bytes
    seconds: float  # extract_article in-process
    story_id: int = 0
    messages: list[str] = dataclasses.field(default_factory=list)  # what a first tap sends


def load_pages() -> list[Page]:
    pages = []
    for path in sorted(PAGES.glob("*/source.html")):
        body = path.read_bytes()
        began = time.perf_counter()
        extract_article(body, url="http://127.0.0.1/x")
        pages.append(Page(path.parent.name, body, time.perf_counter() - began))
    return pages


def seed(engine: Any, pages: Sequence[Page], base: str, now: datetime) -> None:
    feed_ids = seed_feeds(engine, count=20, now=now)
    seed_story_corpus(
        engine,
        count=2000,
        feed_ids=feed_ids,
        topics=(TopicShare("world", 1.0),),
        now=now - timedelta(minutes=5),
        span=timedelta(days=2),
        headlines=corpus_headlines,
    )
    rows = []
    for i, page in enumerate(pages):
        page.story_id = FIRST_PAGE_STORY + i
        rows.append(
            {
                "id": page.story_id,
                "title": f"Page {page.name}",
                "summary": "",
                "link": f"{base}/p/{page.name}.html",
                "source_name": "Pages",
                "feed_id": None,
                "published_at": now - timedelta(seconds=i + 1),
                "first_seen_at": now - timedelta(seconds=i + 1),
                "entry_count": 1,
            }
        )
    insert_rows(engine, Story.__table__, rows)  # type: ignore[attr-defined]
    insert_rows(
        engine,
        StoryTopic.__table__,  # type: ignore[attr-defined]
        ({"story_id": p.story_id, "topic": "local"} for p in pages),
    )


def expected_messages(page: Page, settings: Any, base: str, now: datetime) -> list[str]:
    link = f"{base}/p/{page.name}.html"
    ref = articles.StoryRef(page.story_id, f"Page {page.name}", link, "Pages")
    result = extract_article(page.body, url=ref.link or "")
    return articles.first_tap_messages(ref, result, settings.fulltext, now=now)


class Bench:
    def __init__(self, tg: FakeTelegram, stamps: Stamps, gap: float) -> None:
        self.tg, self.stamps, self.gap = tg, stamps, gap
        self.chats = iter(range(TAPPER, TAPPER + 10_000))
        self.bystanders = iter(range(BYSTANDER, BYSTANDER + 100_000))

    async def wait(self, chat_id: int, count: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stamps.count(chat_id) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"chat {chat_id}: {self.stamps.count(chat_id)} of {count}")
            await asyncio.sleep(0.001)

    async def wait_tap(self, chat_id: int, page: Page, timeout: float = 120.0) -> bool:
        """Wait for a tap's messages: True, or False when it was answered with a failure."""
        deadline = time.monotonic() + timeout
        while (count := self.stamps.count(chat_id)) < len(page.messages):
            if count and self.failed(chat_id, page):
                return False
            if time.monotonic() > deadline:
                raise TimeoutError(f"chat {chat_id}: {count} of {len(page.messages)}")
            await asyncio.sleep(0.001)
        return not self.failed(chat_id, page)

    def failed(self, chat_id: int, page: Page) -> bool:
        """The tap was answered with a failure where the extraction in-process gave text."""
        said = self.tg.messages(chat_id)[0].text
        return FAILED in said and FAILED not in page.messages[0]

    def tap(self, page: Page) -> tuple[int, float]:
        chat_id = next(self.chats)
        self.tg.add_private_chat(chat_id)
        began = time.perf_counter()
        push_forged_tap(self.tg, chat_id, 1, fulltext_callback(page.story_id), user_id=chat_id)
        return chat_id, began

    async def one_tap(self, page: Page) -> float:
        chat_id, began = self.tap(page)
        assert await self.wait_tap(chat_id, page), f"{page.name}: {self.tg.messages(chat_id)}"
        self.check(chat_id, page)
        return self.stamps.last(chat_id) - began

    def check(self, chat_id: int, page: Page) -> None:
        sent = [m.html for m in self.tg.messages(chat_id)]
        assert sent == page.messages, f"{page.name}: the bot sent other messages"

    async def bystanders_until(self, done: asyncio.Event, latencies: list[float]) -> None:
        while not done.is_set():
            chat_id = next(self.bystanders)
            self.tg.add_private_chat(chat_id)
            began = time.perf_counter()
            self.tg.send_text(chat_id, "/latest")
            await self.wait(chat_id, 1)
            latencies.append(self.stamps.last(chat_id) - began)
            await asyncio.sleep(max(0.0, self.gap - (time.perf_counter() - began)))

    async def quiet(self, count: int) -> list[float]:
        latencies: list[float] = []
        done = asyncio.Event()
        task = asyncio.ensure_future(self.bystanders_until(done, latencies))
        while len(latencies) < count:
            await asyncio.sleep(0.01)
        done.set()
        await task
        return latencies

    async def burst(self, pages: Sequence[Page]) -> Burst:
        latencies: list[float] = []
        done = asyncio.Event()
        task = asyncio.ensure_future(self.bystanders_until(done, latencies))
        await asyncio.sleep(0.5)  # the bystanders are under way
        taps = [(page, *self.tap(page)) for page in pages]
        first = taps[0][2]
        answered = [await self.wait_tap(chat_id, page) for page, chat_id, _ in taps]
        done.set()
        await task
        for (page, chat_id, _), ok in zip(taps, answered, strict=True):
            if ok:
                self.check(chat_id, page)
        tap_latencies = [self.stamps.last(c) - began for _, c, began in taps]
        last = max(self.stamps.last(c) for _, c, _ in taps)
        return Burst(latencies, tap_latencies, last - first, answered.count(False))


@dataclasses.dataclass
class Burst:
    bystanders: list[float]
    taps: list[float]
    span: float  # seconds from the first tap to the last reply
    failed: int  # taps answered with a failure (the time limit), not the text


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def extraction_worker_pids() -> list[int]:
    pool = getattr(articles, "_extraction", None)  # absent before the worker pool
    return pool.worker_pids() if pool is not None else []


async def run(args: argparse.Namespace) -> None:
    pages = load_pages()
    # Chosen by size, not by the (noisy) timing: the same pages in every run.
    by_size = sorted(pages, key=lambda p: (len(p.body), p.name))
    heavy = by_size[::-1][: args.taps]
    middle = by_size[len(pages) // 2 :]
    print(
        f"{len(pages)} pages; the {len(heavy)} tapped in the burst take "
        f"{sum(p.seconds for p in heavy):.2f} s to extract in-process "
        f"(median {median([p.seconds for p in heavy]) * 1e3:.0f} ms, "
        f"max {max(p.seconds for p in heavy) * 1e3:.0f} ms)\n"
    )
    now = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="bench_taps_") as folder,
        FeedServer() as server,
        FakeTelegram(flood_limits=False) as tg,
    ):
        for page in pages:
            server.route(
                f"/p/{page.name}.html", Reply(200, {"Content-Type": "text/html"}, page.body)
            )
        engine = open_database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        seed(engine, pages, server.base_url, now)
        base = make_settings(tg)
        settings = dataclasses.replace(
            base,
            topics=TOPICS,
            delivery=DeliverySettings(messages_per_second=1000.0),
            limits=dataclasses.replace(base.limits, fulltext_per_minute=100),
            fulltext=dataclasses.replace(base.fulltext, max_messages=MAX_MESSAGES),
        )
        for page in [*heavy, *middle[:20]]:
            page.messages = expected_messages(page, settings, server.base_url, now)
        # Single taps: median pages whose text is one message (Telegram paces a chat's
        # messages a second apart: a second message would time the pace).
        light = [p for p in middle[:20] if len(p.messages) == 1][:6]
        stamps = Stamps()
        tg.set_fault_hook(stamps.hook)
        bench = Bench(tg, stamps, args.gap)
        rows: list[tuple[str, str]] = []
        async with running_bot(settings, engine):
            rows.append(("tap right after the start", f"{await bench.one_tap(light[0]) * 1e3:.0f}"))
            await asyncio.sleep(3)
            warm = [await bench.one_tap(page) for page in light[1:4]]
            rows.append(("taps once the bot is up 3 s (median of 3)", f"{median(warm) * 1e3:.0f}"))
            pool = getattr(articles, "_extraction", None)
            if pool is not None:
                pool.shutdown()
                cold = await bench.one_tap(light[4])
                rows.append(("tap on a worker started on demand", f"{cold * 1e3:.0f}"))
                rows.append(("the next tap", f"{await bench.one_tap(light[5]) * 1e3:.0f}"))
            quiet = await bench.quiet(args.quiet)
            burst = await bench.burst(heavy)
            main_rss = rss_mib(os.getpid())
            workers = [rss_mib(pid) for pid in extraction_worker_pids()]
        engine.dispose()
    print(md_table(("single taps (light pages)", "ms"), rows))
    print()
    head = ("bystanders' /latest", "n", "p50 (ms)", "p90 (ms)", "p99 (ms)", "max (ms)")
    during = _row(f"during {len(heavy)} taps", burst.bystanders)
    print(md_table(head, [_row("quiet", quiet), during]))
    print()
    taps, span = burst.taps, burst.span
    print(
        f"burst: {len(heavy)} first taps in {span:.2f} s = {len(heavy) / span:.1f} pages/s; "
        f"tap latency p50 {percentile(taps, 50):.2f} s, last tap {max(taps):.2f} s; "
        f"{burst.failed} answered 'took too long' instead of the text"
    )
    print(
        f"RSS after the burst: bench+bot process {main_rss:.0f} MiB; extraction workers "
        + (", ".join(f"{w:.0f}" for w in workers) + " MiB" if workers else "none")
    )


def _row(name: str, values: Sequence[float]) -> tuple[object, ...]:
    return (
        name,
        len(values),
        *(f"{percentile(values, q) * 1e3:.1f}" for q in (50, 90, 99)),
        f"{max(values) * 1e3:.1f}",
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=40, help="first taps in the burst")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between bystanders")
    parser.add_argument("--quiet", type=int, default=60, help="bystanders before the burst")
    parser.add_argument("--nice", type=int, help="extraction workers' niceness (worker pool)")
    args = parse_bench_args(parser, argv, "the fakes' ~45 ms Nagle stall per response")
    logging.getLogger("trafilatura").setLevel(logging.ERROR)  # its notes on odd pages
    print_machine()
    if args.nice is not None:
        articles.EXTRACT_NICENESS = args.nice  # read when the pool is made, at the start
    nice = getattr(articles, "EXTRACT_NICENESS", None)
    print(f"bot package: {Path(bot.__file__).parent}; extraction workers' niceness: {nice}\n")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
