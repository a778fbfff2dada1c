"""Benchmark a full refresh: 1,000 feeds × 50 items from loopback into a fresh SQLite file.

Run from the repo root: ``python -m bench.bench_refresh`` (one run, ~5 min here);
``--runs 3`` for medians, ``--breakdown`` to time each stage alone, ``--attribute`` to
time storage's functions, ``--feeds/--items`` to scale down.

Per run: a fresh migrated database, ``Refresher.refresh_all()`` over every feed (timed),
then a second ``refresh_all()`` where every feed answers 304 to its ETag, then a third
where the server ignores ETags and resends the same bytes (unchanged-body hash path).
The per-entry cost is compared with bare ``feedparser.parse`` on the same bodies. The
breakdown times fetch only, our parser only and storage only (``ingest_entries``) apart.

``--part steady`` (~1 min) times only the 304 round: one refresh of ``--steady-items``
items per feed to store every ETag, then ``--rounds`` rounds of the bot's own
``refresh_due()`` (claimed in batches, as the refresh tick runs it; a clock moved past
each feed's next check), each followed by a ``refresh_all()`` round, every feed
answering 304. Each round gets a fresh ``Fetcher``, as the bot's rounds 15 minutes
apart find every pooled connection expired. It ends with one ``steady:`` line.
``--origins N`` spreads the feeds over N servers; ``--resolve`` puts them on host names
resolved with the SSRF guard on, as the bot runs (a real getaddrinfo per lookup, see
``resolve_locally``), instead of 127.0.0.1 with private networks allowed.

The feed server runs in a child process (``bench/_feed_process.py``), as real feeds are
on other machines: in this process its threads would share the GIL with the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import inspect
import io
import os
import pstats
import resource
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser
import httpcore
import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bench._common import md_table, median, parse_bench_args, print_machine, spread
from bench._corpus import build_corpus, rss
from bench._feed_process import CONTENT_TYPE, FeedProcess
from bot.cli.fetch import fetch_policy
from bot.ingest import dedup, parse_workers, semantic, story_batch, story_write
from bot.ingest import stories as story_store
from bot.ingest.fetcher import Fetcher, FetchStatus
from bot.ingest.netguard import PinnedTransport
from bot.ingest.parser import ParsedFeed, parse_feed
from bot.ingest.refresh import FeedReport, Refresher
from bot.ingest.resolver import ThreadedResolver
from bot.ingest.stories import ingest_entries
from bot.ingest.topics import TopicMatcher
from bot.settings import DedupSettings, FeedConfig, FetchSettings, Settings, Topic
from bot.storage import feeds as feed_store
from bot.storage.db import open_database, session_scope
from bot.storage.models import Entry, Feed

TOPICS = (
    Topic("world", "World", ("election", "ceasefire", "sanctions")),
    Topic("business", "Business", ("shares", "stock", "tariffs")),
    Topic("sport", "Sport"),
    Topic("technology", "Technology", ("AI", "chip", "satellite")),
    Topic("science", "Science", ("climate", "space mission")),
)


def make_settings(
    urls: Sequence[str], *, per_host: int | None, method: str = "lexical", guard: bool = False
) -> Settings:
    fetch = FetchSettings(allow_private_networks=not guard)
    if per_host is not None:
        fetch = replace(fetch, max_per_host=per_host)
    feeds = tuple(FeedConfig(url, f"Outlet {n:04d}", ()) for n, url in enumerate(urls))
    dedup = DedupSettings(method=method)  # type: ignore[arg-type]
    return Settings(fetch=fetch, topics=TOPICS, feeds=feeds, dedup=dedup)


def fresh_database(folder: Path, settings: Settings) -> Engine:
    engine = open_database(f"sqlite:///{folder / 'bench.sqlite3'}")
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=datetime.now(UTC))
    return engine


# --resolve: feed hosts are names, resolved with the SSRF guard on, as the bot runs. The
# lookup is real (getaddrinfo of "localhost" on lookup threads of the bot's own kind,
# `ThreadedResolver`), its answer stood in by a public address the guard lets through, and
# connections to that address go to 127.0.0.1.
STAND_IN = "93.184.215.14"
_LOOKUPS = ThreadedResolver(20)  # fetch.max_concurrency's default


async def resolve_locally(host: str, port: int) -> list[str]:
    await _LOOKUPS("localhost", port)
    return [STAND_IN]


class LoopbackBackend(httpcore.AnyIOBackend):
    """Connects to the stand-in public address on 127.0.0.1 (nothing else is reachable)."""

    async def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        if host != STAND_IN:
            raise httpcore.ConnectError(f"bench network: {host} is not the stand-in address")
        return await super().connect_tcp("127.0.0.1", port, *args, **kwargs)


def make_fetcher(settings: Settings) -> Fetcher:
    """The bot's fetcher; with the guard on, over names resolved as `resolve_locally` does."""
    policy = fetch_policy(settings.fetch)
    if policy.allow_private_networks:
        return Fetcher(policy)
    # Older code sized one pool for all origins; this code has a pool per origin.
    per_origin = "per_origin" in inspect.signature(PinnedTransport).parameters
    size = (
        {"per_origin": policy.max_per_host}
        if per_origin
        else {"max_connections": policy.max_concurrency}
    )
    transport = PinnedTransport(guard=True, network_backend=LoopbackBackend(), **size)
    return Fetcher(policy, transport=transport, resolver=resolve_locally)


def named(urls: Sequence[str]) -> list[str]:
    """Each server's 127.0.0.1 as a host name of its own (origin-<port>.bench.test)."""
    return [
        url.replace("127.0.0.1:", f"origin-{httpx.URL(url).port}.bench.test:", 1) for url in urls
    ]


def cpu_seconds() -> float:
    """CPU seconds of this process (every thread) and of its child processes (the parse
    workers): live children read from /proc, finished ones from getrusage."""
    total = time.process_time()
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    total += done.ru_utime + done.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    pids = getattr(parse_workers._pool, "worker_pids", list)  # parse workers, if any
    for pid in pids():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


async def timed_refresh(
    engine: Engine, settings: Settings
) -> tuple[float, float, list[FeedReport]]:
    """Wall and CPU seconds (this process, every thread: the feed server's too, and the
    parse workers) of a refresh."""
    async with make_fetcher(settings) as fetcher:
        refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings)
        began, cpu = time.perf_counter(), cpu_seconds()
        reports = await refresher.refresh_all()
        return time.perf_counter() - began, cpu_seconds() - cpu, reports


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("entry", "story", "story_key", "story_topic")
        }


def check(reports: Sequence[FeedReport], *, expect_not_modified: bool) -> None:
    errors = [r.error for r in reports if r.error]
    if errors:
        raise SystemExit(f"{len(errors)} feeds failed, e.g. {errors[:3]}")
    if expect_not_modified and not all(r.not_modified for r in reports):
        raise SystemExit("second refresh: not every feed came back not-modified")


@dataclass
class RunResult:
    first: float
    first_cpu: float
    feedparser: float  # bare feedparser over the same bodies, right before this run
    feedparser_cpu: float
    download: float  # bare httpx GET + feedparser of the same feeds, right before this run
    download_cpu: float
    etag: float
    hash: float
    entries: int
    stories: int
    merged: int


def one_run(
    settings: Settings, server: FeedProcess, bodies: Sequence[bytes], urls: Sequence[str]
) -> RunResult:
    cpu = cpu_seconds()
    fp = time_feedparser(bodies)
    fp_cpu = cpu_seconds() - cpu
    cpu = cpu_seconds()
    down = asyncio.run(time_download_parse(urls, settings.fetch.max_per_host, len(bodies)))
    down_cpu = cpu_seconds() - cpu
    clear_fingerprint_cache()
    with tempfile.TemporaryDirectory(prefix="bench_refresh_") as folder:
        engine = fresh_database(Path(folder), settings)
        server.honour_etag(True)
        first, first_cpu, reports = asyncio.run(timed_refresh(engine, settings))
        check(reports, expect_not_modified=False)
        etag, _, again = asyncio.run(timed_refresh(engine, settings))
        check(again, expect_not_modified=True)
        server.honour_etag(False)
        hashed, _, same = asyncio.run(timed_refresh(engine, settings))
        check(same, expect_not_modified=True)
        server.honour_etag(True)
        stored = counts(engine)
        engine.dispose()
    return RunResult(
        first,
        first_cpu,
        fp,
        fp_cpu,
        down,
        down_cpu,
        etag,
        hashed,
        entries=sum(r.new_entries for r in reports),
        stories=stored["story"],
        merged=sum(r.merged for r in reports),
    )


# --- breakdown: each stage alone -------------------------------------------------------------


def time_feedparser(bodies: Sequence[bytes]) -> float:
    began = time.perf_counter()
    for body in bodies:
        feedparser.parse(body)
    return time.perf_counter() - began


async def time_download_parse(urls: Sequence[str], concurrency: int, expect: int) -> float:
    """The issue's baseline: GET each feed from the same loopback server and feedparse it.

    Plain httpx, `concurrency` requests at once over as many keep-alive connections (the
    refresh's own limit here: every feed is on one host, `fetch.max_per_host` of them at
    once); each body is parsed as it arrives, in the event loop's thread.
    """
    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    parsed = [0]

    async def one(client: httpx.AsyncClient, url: str) -> None:
        async with slots:
            response = await client.get(url)
        response.raise_for_status()
        parsed[0] += bool(feedparser.parse(response.content).entries)

    async with httpx.AsyncClient(limits=limits) as client:
        began = time.perf_counter()
        await asyncio.gather(*(one(client, url) for url in urls))
        elapsed = time.perf_counter() - began
    if parsed[0] != expect:
        raise SystemExit(f"download+parse: {parsed[0]} of {expect} feeds had entries")
    return elapsed


def time_our_parser(bodies: Sequence[bytes], urls: Sequence[str]) -> tuple[float, list[ParsedFeed]]:
    now = datetime.now(UTC)
    began = time.perf_counter()
    parsed = [
        parse_feed(body, url=url, content_type=CONTENT_TYPE, now=now)
        for body, url in zip(bodies, urls, strict=True)
    ]
    return time.perf_counter() - began, parsed


async def _fetch_all(settings: Settings, urls: Sequence[str], *, conditional: bool) -> float:
    """Fetch every feed (with its ETag when `conditional`, answered 304) and nothing else."""
    async with Fetcher(fetch_policy(settings.fetch)) as fetcher:
        now = datetime.now(UTC)
        began = time.perf_counter()
        results = await asyncio.gather(
            *(
                fetcher.fetch_feed(u, etag=f'"feed-{n}-v1"' if conditional else None, now=now)
                for n, u in enumerate(urls)
            )
        )
        elapsed = time.perf_counter() - began
    expected = FetchStatus.NOT_MODIFIED if conditional else FetchStatus.OK
    if any(r.status is not expected for r in results):
        raise SystemExit(f"fetch-only: some feeds did not answer {expected}")
    return elapsed


@dataclass
class StoreResult:
    seconds: float
    statements: int
    fingerprints: int
    cursor_seconds: float  # inside the sqlite3 driver's execute()
    spent: dict[str, float]  # inclusive seconds per storage function (attribution run only)


def clear_fingerprint_cache() -> None:
    """Forget memoised fingerprints, if storage keeps any, so each run starts cold."""
    cached: Any = getattr(story_store, "fingerprint", None)
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()


def time_store_only(
    settings: Settings,
    parsed: Sequence[ParsedFeed],
    *,
    profile: cProfile.Profile | None = None,
    attribute: bool = False,
) -> StoreResult:
    """Ingest pre-parsed entries feed by feed, one transaction each, as `_store_sync` does.

    Counts SQL statements and fingerprints computed, to explain the cost.
    """
    matcher = TopicMatcher.from_topics(settings.topics)
    window = timedelta(hours=settings.dedup.window_hours)
    method = semantic.from_settings(settings.dedup)  # as the refresh: None for lexical
    statements = [0]
    cursor = [0.0, 0.0]  # total, start of the current statement

    def before(*_: object) -> None:
        statements[0] += 1
        cursor[1] = time.perf_counter()

    def after(*_: object) -> None:
        cursor[0] += time.perf_counter() - cursor[1]

    clear_fingerprint_cache()
    with tempfile.TemporaryDirectory(prefix="bench_store_") as folder:
        engine = fresh_database(Path(folder), settings)
        with engine.connect() as conn:
            ids = list(conn.execute(sa.text("SELECT id FROM feed ORDER BY id")).scalars())
        sa.event.listen(engine, "before_cursor_execute", before)
        sa.event.listen(engine, "after_cursor_execute", after)
        attribution: contextlib.AbstractContextManager[dict[str, float]] = (
            attribute_time() if attribute else contextlib.nullcontext({})
        )
        with count_fingerprints() as computed, attribution as spent:
            if profile is not None:
                profile.enable()
            began = time.perf_counter()
            for feed_id, feed in zip(ids, parsed, strict=True):
                with session_scope(engine) as session:
                    row = session.get(Feed, feed_id)
                    assert row is not None
                    ingest_entries(
                        session,
                        feed=row,
                        entries=feed.entries,
                        matcher=matcher,
                        now=datetime.now(UTC),
                        window=window,
                        semantic=method,
                    )
            elapsed = time.perf_counter() - began
            if profile is not None:
                profile.disable()
        engine.dispose()
    return StoreResult(elapsed, statements[0], computed[0], cursor[0], dict(spent))


@contextlib.contextmanager
def attribute_time() -> Iterator[dict[str, float]]:
    """Inclusive seconds in the storage functions `ingest_entries` calls (wrappers ~1 µs)."""
    spent: dict[str, float] = {}
    patched: list[tuple[Any, str]] = [
        (story_batch, "_read"),
        (semantic.SemanticDedup, "embed_many"),
        (semantic.SemanticDedup, "neighbours"),
        (dedup, "best_match"),
        (dedup, "similarity_bound"),
        (dedup, "similarity"),
        (story_batch, "fingerprint"),
        (story_write, "write_batch"),
    ]
    originals = [(module, name, getattr(module, name)) for module, name in patched]

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - began

        return wrapper

    for module, name, function in originals:
        setattr(module, name, timed(name, function))
    try:
        yield spent
    finally:
        for module, name, function in originals:
            setattr(module, name, function)


@contextlib.contextmanager
def count_fingerprints() -> Iterator[list[int]]:
    """Count fingerprints computed (cache misses when storage memoises them)."""
    counter = [0]
    cached: Any = getattr(story_store, "fingerprint", None)
    if hasattr(cached, "cache_info"):
        before = cached.cache_info().misses
        yield counter
        counter[0] = cached.cache_info().misses - before
        return
    original = dedup.fingerprint

    def counted(title: str, summary: str = "") -> dedup.Fingerprint:
        counter[0] += 1
        return original(title, summary)

    dedup.fingerprint = counted  # stories.py calls it through the module
    try:
        yield counter
    finally:
        dedup.fingerprint = original


def statement_overhead(settings: Settings, repeats: int = 5000) -> tuple[float, float, float]:
    """Microseconds per `find_story`-style link lookup: built per call, prebuilt, raw sqlite3.

    The first is how storage issues its statements today; the second reuses one statement
    with a bind parameter; the third is the driver alone (the floor).
    """
    with tempfile.TemporaryDirectory(prefix="bench_stmt_") as folder:
        engine = fresh_database(Path(folder), settings)
        links = [f"https://outlet0001.example/news/{n}" for n in range(repeats)]
        prebuilt = select(Entry.story_id).where(col(Entry.link) == sa.bindparam("link")).limit(1)
        with session_scope(engine) as session:
            began = time.perf_counter()
            for link in links:
                session.exec(select(Entry.story_id).where(Entry.link == link).limit(1)).first()
            built = time.perf_counter() - began
            began = time.perf_counter()
            for link in links:
                session.execute(prebuilt, {"link": link}).first()
            reused = time.perf_counter() - began
            raw = session.connection().connection.driver_connection
            assert raw is not None
            began = time.perf_counter()
            for link in links:
                raw.execute("SELECT story_id FROM entry WHERE link = ? LIMIT 1", (link,)).fetchone()
            floor = time.perf_counter() - began
        engine.dispose()
    return built / repeats * 1e6, reused / repeats * 1e6, floor / repeats * 1e6


def candidate_stats(corpus_items: Sequence[str]) -> tuple[float, float]:
    """Median and p90 of how many other titles share a candidate key with a title."""
    buckets: dict[int, int] = {}
    per_title = []
    for title in corpus_items:
        keys = set(dedup.candidate_keys(dedup.fingerprint(title)))
        per_title.append(keys)
        for key in keys:
            buckets[key] = buckets.get(key, 0) + 1
    sharing = sorted(sum(buckets[k] - 1 for k in keys) for keys in per_title)
    return median(sharing), sharing[int(0.9 * (len(sharing) - 1))]


def top_functions(profile: cProfile.Profile, limit: int = 20) -> str:
    """Our own functions by cumulative time, then everything by own time."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(r"/bot/", limit)
    stats.sort_stats("tottime").print_stats(limit)
    return "\n".join(
        line for line in out.getvalue().splitlines() if line.strip() and "Ordered by" not in line
    )


def entry_point_gc() -> str:
    """Set the collector as `python -m bot` does before any command (older code: nothing)."""
    try:
        from bot.ops.gc_policy import tune_gc
    except ImportError:
        return f"gc thresholds {gc.get_threshold()} (CPython's; this code sets none)"
    tune_gc()
    return f"gc thresholds {gc.get_threshold()} (bot.ops.gc_policy, as `python -m bot`)"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--per-host",
        type=int,
        default=None,
        help="fetch.max_per_host (default: the settings default, 4; every feed is on 127.0.0.1)",
    )
    parser.add_argument(
        "--method",
        choices=("lexical", "semantic"),
        default="lexical",
        help="dedup method (default lexical: semantic cost is measured by bench_dedup)",
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="also time each stage alone (+3–6 min)"
    )
    parser.add_argument(
        "--attribute", action="store_true", help="with --breakdown: time storage's functions"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile parse + store (single-threaded) once"
    )
    parser.add_argument(
        "--part",
        choices=("full", "steady"),
        default="full",
        help="steady: only the all-304 round, --rounds times (~1 min)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="--part steady: rounds of each kind")
    parser.add_argument(
        "--steady-items", type=int, default=5, help="--part steady: items per feed to store first"
    )
    parser.add_argument(
        "--profile-round", action="store_true", help="--part steady: cProfile one more round"
    )
    parser.add_argument(
        "--origins",
        type=int,
        default=1,
        help="--part steady: spread the feeds over this many servers (ports) on 127.0.0.1",
    )
    parser.add_argument(
        "--resolve",
        action="store_true",
        help="--part steady: feeds on host names, resolved with the SSRF guard on (as the bot"
        " runs; see `resolve_locally`), not on 127.0.0.1 with private networks allowed",
    )
    args = parse_bench_args(parser, argv, "the feed server's ~45 ms Nagle stall per response")
    if args.part == "steady":
        print_machine()
        print(entry_point_gc())
        steady(
            args.feeds,
            args.steady_items,
            args.rounds,
            args.per_host,
            profile_round=args.profile_round,
            origins=args.origins,
            resolve=args.resolve,
        )
        return

    print_machine()
    print(entry_point_gc())
    corpus = build_corpus(feeds=args.feeds, items=args.items, now=datetime.now(UTC))
    bodies = [rss(n, items) for n, items in enumerate(corpus.feeds)]
    total_entries = args.feeds * args.items
    titles = [item.title for items in corpus.feeds for item in items]
    shared_median, shared_p90 = candidate_stats(titles)
    print(
        f"corpus: {args.feeds} feeds × {args.items} items = {total_entries} entries, "
        f"{sum(map(len, bodies)) / 1e6:.1f} MB of RSS, {len(set(titles))} distinct titles; "
        f"{corpus.events} distinct events, {corpus.duplicate_items} items retell "
        f"{corpus.wire_events} wire events in 2–6 feeds each; a title shares a dedup "
        f"candidate key with {shared_median:.0f} others (median; p90 {shared_p90:.0f})\n",
        flush=True,
    )
    with FeedProcess(bodies) as server:
        urls = server.urls
        settings = make_settings(urls, per_host=args.per_host, method=args.method)
        fp = [time_feedparser(bodies) for _ in range(3)]
        print(f"bare feedparser.parse: {', '.join(f'{t:.1f}' for t in fp)} s", flush=True)
        runs: list[RunResult] = []
        for n in range(args.runs):
            runs.append(one_run(settings, server, bodies, urls))
            r = runs[-1]
            print(
                f"run {n + 1}: download+feedparser {r.download:.1f} s "
                f"(CPU {r.download_cpu:.1f} s), "
                f"feedparser {r.feedparser:.1f} s (CPU {r.feedparser_cpu:.1f} s), "
                f"first {r.first:.1f} s (CPU {r.first_cpu:.1f} s), 304 {r.etag:.2f} s, "
                f"same-bytes {r.hash:.2f} s;"
                f" {r.entries} entries → {r.stories} stories ({r.merged} merged)",
                flush=True,
            )
        breakdown: list[tuple[str, float, str]] = []
        attributed: StoreResult | None = None
        if args.breakdown:
            fetched = asyncio.run(_fetch_all(settings, urls, conditional=False))
            breakdown.append(("fetch only (`Fetcher.fetch_feed` × all, same policy)", fetched, ""))
            fetched = asyncio.run(_fetch_all(settings, urls, conditional=True))
            breakdown.append(("fetch only, with ETags (all 304)", fetched, ""))
            ours, parsed = time_our_parser(bodies, urls)
            breakdown.append(("parse only (`parse_feed`, in-process)", ours, ""))
            built, reused, floor = statement_overhead(settings)
            stored = time_store_only(settings, parsed)
            attributed = (
                time_store_only(settings, parsed, attribute=True) if args.attribute else None
            )
            breakdown.append(
                (
                    "store only (`ingest_entries` of parsed entries, fresh DB)",
                    stored.seconds,
                    _store_note(stored, total_entries),
                )
            )
        profile = None
        if args.profile:
            # The refresh runs parse and store in worker threads, which cProfile does not
            # see; profile the same code single-threaded instead.
            profile = cProfile.Profile()
            profile.enable()
            _, parsed = time_our_parser(bodies, urls)
            profile.disable()
            time_store_only(settings, parsed, profile=profile)

    first = [r.first for r in runs]
    feedparser_s = median(fp)
    entries = runs[0].entries
    print(
        f"\nFetch policy: max_concurrency={settings.fetch.max_concurrency}, "
        f"max_per_host={settings.fetch.max_per_host} (all feeds on one host, 127.0.0.1)\n"
    )
    rows = [
        ("full refresh, `refresh_all()` wall time (s)", spread(first, "{:.1f}")),
        ("entries stored (new)", f"{entries}"),
        (
            "stories after dedup (ideal: distinct events)",
            f"{runs[0].stories} ({corpus.events}); {runs[0].merged} entries merged",
        ),
        ("entries/s", spread([entries / f for f in first], "{:.0f}")),
        ("our cost per entry (ms)", spread([f / entries * 1e3 for f in first], "{:.2f}")),
        ("bare `feedparser.parse` of all bodies (s)", spread(fp, "{:.1f}")),
        ("bare feedparser per entry (ms)", f"{feedparser_s / total_entries * 1e3:.3f}"),
        (
            "bare download + `feedparser.parse`, right before each run (s)",
            spread([r.download for r in runs], "{:.1f}"),
        ),
        (
            "**ratio: our per-entry cost / bare download + feedparser (wall)**",
            spread([r.first / r.download for r in runs], "{:.1f}×"),
        ),
        (
            "**same in CPU seconds (process, all threads incl. the feed server, + parse workers)**",
            spread([r.first_cpu / r.download_cpu for r in runs], "{:.1f}×"),
        ),
        (
            "ratio: our per-entry cost / bare feedparser (parse only, median of 3 passes)",
            spread([f / feedparser_s for f in first], "{:.1f}×"),
        ),
        (
            "same, each run against the feedparser pass right before it",
            spread([r.first / r.feedparser for r in runs], "{:.1f}×"),
        ),
        (
            "same in CPU seconds (process, all threads incl. the feed server)",
            spread([r.first_cpu / r.feedparser_cpu for r in runs], "{:.1f}×"),
        ),
        (
            "steady round: all 304, per 1,000 feeds (s)",
            spread([r.etag / len(bodies) * 1000 for r in runs], "{:.2f}"),
        ),
        ("second refresh, all 304 via ETag (s)", spread([r.etag for r in runs], "{:.2f}")),
        (
            "third refresh, ETag ignored, same bytes → hash match (s)",
            spread([r.hash for r in runs], "{:.2f}"),
        ),
    ]
    print(md_table(("measure", "value: median (min–max, n)"), rows))
    print(summary_line(args.feeds, args.items, runs))
    if breakdown:
        print()
        head = ("stage alone (1 run)", "s", "per entry (ms)", "vs median refresh", "notes")
        print(
            md_table(
                head,
                [
                    (
                        name,
                        f"{s:.2f}",
                        f"{s / total_entries * 1e3:.2f}",
                        f"{s / median(first):.0%}",
                        note,
                    )
                    for name, s, note in breakdown
                ],
            )
        )
    if attributed is not None:
        spent = attributed.spent
        print(
            "\nWhere storage spends its time (a second store-only run with timing wrappers, "
            f"{attributed.seconds:.1f} s in all; inclusive, so rows nest):\n"
        )
        nested = (
            ("`story_batch._read` (links, keys, candidate entries)", "_read"),
            ("`embed_many` (semantic: encode a feed's entries)", "embed_many"),
            ("`neighbours` (semantic: stored stories nearest each entry)", "neighbours"),
            ("`dedup.best_match` (scoring an entry's candidates)", "best_match"),
            ("↳ `dedup.similarity_bound` calls (the cheap upper bound)", "similarity_bound"),
            ("↳ `dedup.similarity` calls", "similarity"),
            ("`fingerprint` (memoised) calls", "fingerprint"),
            ("`story_write.write_batch` (executemany inserts)", "write_batch"),
        )
        shares = [
            (label, f"{spent.get(key, 0.0):.1f}", f"{spent.get(key, 0.0) / attributed.seconds:.0%}")
            for label, key in nested
        ]
        shares.append(
            (
                "sqlite3 `execute()` (all statements)",
                f"{attributed.cursor_seconds:.1f}",
                f"{attributed.cursor_seconds / attributed.seconds:.0%}",
            )
        )
        print(md_table(("function", "s", "share of store"), shares))
    if breakdown:
        print(
            f"\nOne indexed lookup (`SELECT story_id FROM entry WHERE link = ? LIMIT 1`): "
            f"{built:.0f} µs with a statement built per call (as the per-entry path did), "
            f"{reused:.0f} µs with one prebuilt statement and a bind parameter, "
            f"{floor:.0f} µs in sqlite3 alone."
        )
    if profile is not None:
        print("\ncProfile of parse_feed + ingest_entries over the corpus (own time):\n")
        print("```\n" + top_functions(profile) + "```")


# --- the steady 304 round ------------------------------------------------------------------


@dataclass
class Collections:
    """Full (generation 2) garbage collections seen, and their seconds."""

    count: int = 0
    seconds: float = 0.0
    _began: float = field(default=0.0, repr=False)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.count += 1
            self.seconds += time.perf_counter() - self._began


@contextlib.contextmanager
def full_collections() -> Iterator[Collections]:
    seen = Collections()
    gc.callbacks.append(seen)
    try:
        yield seen
    finally:
        gc.callbacks.remove(seen)


async def timed_due_round(
    engine: Engine, settings: Settings, *, ahead: timedelta
) -> tuple[float, float]:
    """Wall and CPU seconds (this process) of `refresh_due()` (the refresh tick's call) with
    a clock `ahead` of now, so every feed's next check has come; checks that every feed
    answered 304."""
    async with make_fetcher(settings) as fetcher:
        refresher = Refresher(
            engine=engine,
            fetcher=fetcher,
            settings=settings,
            clock=lambda: datetime.now(UTC) + ahead,
        )
        began, cpu = time.perf_counter(), time.process_time()
        reports = await refresher.refresh_due()
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    check(reports, expect_not_modified=True)
    if len(reports) != len(settings.feeds):
        raise SystemExit(f"refresh_due: {len(reports)} of {len(settings.feeds)} feeds were due")
    return elapsed, cpu


def steady(
    feeds: int,
    items: int,
    rounds: int,
    per_host: int | None,
    *,
    profile_round: bool = False,
    origins: int = 1,
    resolve: bool = False,
) -> None:
    """Store `feeds` feeds once, then time `rounds` all-304 rounds of each kind."""
    corpus = build_corpus(feeds=feeds, items=items, now=datetime.now(UTC))
    bodies = [rss(n, feed_items) for n, feed_items in enumerate(corpus.feeds)]
    due: list[float] = []
    due_cpu: list[float] = []
    every: list[float] = []
    collected: list[Collections] = []
    folders = tempfile.TemporaryDirectory(prefix="bench_")
    with FeedProcess(bodies, origins=origins) as server, folders as folder:
        urls = named(server.urls) if resolve else server.urls
        settings = make_settings(urls, per_host=per_host, guard=resolve)
        engine = fresh_database(Path(folder), settings)
        first, _, reports = asyncio.run(timed_refresh(engine, settings))
        check(reports, expect_not_modified=False)
        print(
            f"first refresh: {feeds} feeds x {items} items in {first:.1f} s; {origins} origins,"
            f" max_per_host={settings.fetch.max_per_host},"
            f" max_concurrency={settings.fetch.max_concurrency}"
            + ("; names resolved, guard on" if resolve else "; 127.0.0.1, guard off"),
            flush=True,
        )
        # Each due round moves the clock past the next check the round before set (15 min).
        step = timedelta(seconds=settings.fetch.interval_seconds + 100)
        for n in range(rounds):
            with full_collections() as seen:
                wall, cpu = asyncio.run(timed_due_round(engine, settings, ahead=step * (n + 1)))
                due.append(wall)
                due_cpu.append(cpu)
                every.append(asyncio.run(timed_refresh(engine, settings))[0])
            collected.append(seen)
            print(
                f"round {n + 1}: refresh_due {due[-1]:.2f} s (CPU {due_cpu[-1]:.2f} s), "
                f"refresh_all {every[-1]:.2f} s; "
                f"{seen.count} full GCs ({seen.seconds:.2f} s) in the two",
                flush=True,
            )
        if profile_round:
            profile = cProfile.Profile()
            profile.enable()
            asyncio.run(timed_due_round(engine, settings, ahead=step * (rounds + 1)))
            profile.disable()
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(45)
            print(out.getvalue())
        engine.dispose()
    per = 1000 / feeds
    gcs = sum(c.count for c in collected)
    print(
        f"\nsteady: {feeds} feeds on {origins} origin(s)"
        + (" (names resolved, guard on)" if resolve else "")
        + ", 304 round (refresh_due)"
        f" {spread([d * per for d in due])} s (CPU {spread([c * per for c in due_cpu])} s)"
        f" per 1,000 feeds, worst {max(due) * per:.2f} s; refresh_all"
        f" {spread([e * per for e in every])} s, worst {max(every) * per:.2f} s;"
        f" {gcs} full GCs in {2 * rounds} rounds"
    )


def summary_line(feeds: int, items: int, runs: Sequence[RunResult]) -> str:
    """The issue's one line per run: our refresh against both baselines, wall and CPU."""
    first = median([r.first for r in runs])
    wall = median([r.first / r.download for r in runs])
    cpu = median([r.first_cpu / r.download_cpu for r in runs])
    parse_wall = median([r.first / r.feedparser for r in runs])
    parse_cpu = median([r.first_cpu / r.feedparser_cpu for r in runs])
    n = f", median of {len(runs)} runs" if len(runs) > 1 else ""
    return (
        f"\nrefresh: {feeds} feeds x {items} in {first:.1f} s{n}, {wall:.1f}x feedparser "
        f"(download+parse), {cpu:.1f}x CPU; parse only: {parse_wall:.1f}x, {parse_cpu:.1f}x CPU"
    )


def _store_note(result: StoreResult, entries: int) -> str:
    return (
        f"{result.statements / entries:.1f} SQL statements and "
        f"{result.fingerprints / entries:.1f} fingerprints computed per entry; "
        f"{result.cursor_seconds:.1f} s inside sqlite3 `execute()`"
    )


if __name__ == "__main__":
    main()
