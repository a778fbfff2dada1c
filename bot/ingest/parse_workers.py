"""Feed parsing in worker processes: `parser.parse_feed` (and `prepare.prepare_feed`) off
the event loop.

A small pool of processes (`bot.ingest.process_pool`) runs the CPU-bound parse beside the
event loop and the store, each parse under a time limit, so a hostile feed costs one
worker, not the bot. The parser itself stays pure and synchronous.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.ingest.parser import DEFAULT_MAX_ENTRIES, ParsedFeed, failed_feed, parse_feed
from bot.ingest.prepare import prepare_feed
from bot.ingest.process_pool import ProcessPool, TimedOut, WorkerDied
from bot.ingest.topics import TopicMatcher

logger = logging.getLogger(__name__)

DEFAULT_PARSE_TIMEOUT = 30.0
# Parsing is CPU-bound and may be slow on hostile input: a small pool of worker
# processes (`bot.ingest.process_pool`) runs it beside the event loop and the store.
_PARSE_WORKERS = 2
# Parse workers run this much nicer than the bot: when the cores are busy, the bot's own
# process (event loop, the one writer) comes first. In a full refresh fetch and parse
# run far ahead of the writer, the refresh's critical path, and on two cores the
# workers took CPU from it (bench_refresh, 1,000 feeds: the writer's thread had ~40 s
# of CPU in a ~50 s refresh). A worker still gets any core the bot leaves idle.
NICENESS = 10


@dataclass(frozen=True)
class ParseJob:
    """What a worker needs for one `parse_feed` call (and, with a matcher, preparing)."""

    body: bytes
    url: str
    content_type: str | None
    now: datetime
    max_entries: int
    matcher: TopicMatcher | None = None  # set: prepare the entries for storing too


def parse_job(job: ParseJob) -> ParsedFeed:
    """Parse a feed as `parse_feed` does, then prepare its entries if the job has a matcher."""
    parsed = parse_feed(
        job.body,
        url=job.url,
        content_type=job.content_type,
        now=job.now,
        max_entries=job.max_entries,
    )
    if job.matcher is not None:
        try:
            parsed = prepare_feed(parsed, job.matcher)
        except Exception:  # a bug here must not cost the parse: the writer prepares
            logger.exception("preparing entries failed url=%s", job.url)
    return parsed


_pool: ProcessPool | None = None


def parse_pool() -> ProcessPool:
    """This process's feed parse workers (started on first use)."""
    global _pool
    if _pool is None:
        _pool = ProcessPool(
            _PARSE_WORKERS,
            name="feed-parse",
            niceness=NICENESS,
            preload=("bot.ingest.parse_workers",),  # with the parser and `prepare`
        )
    return _pool


async def parse_feed_async(
    body: bytes,
    *,
    url: str,
    content_type: str | None,
    now: datetime,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    timeout: float = DEFAULT_PARSE_TIMEOUT,
    matcher: TopicMatcher | None = None,
) -> ParsedFeed:
    """Run ``parse_feed`` in a worker process; over ``timeout`` seconds is a parse error.

    With ``matcher``, the worker also prepares each entry for storing
    (`bot.ingest.prepare`, its topics matched with ``matcher``).

    A parse over its time limit kills its worker (`bot.ingest.process_pool`), and
    the pool's size bounds how many parses run at once. Only the parse itself is
    timed: in a big round parses queue for the pool, and a feed waiting its turn
    has not failed.
    """
    job = ParseJob(body, url, content_type, now, max_entries, matcher)
    parsed = await parse_pool().run(functools.partial(parse_job, job), timeout=timeout)
    if isinstance(parsed, TimedOut):
        logger.warning("feed parse timed out url=%s after=%ss", url, timeout)
        return failed_feed(f"parse error: timed out after {timeout:g} s")
    if isinstance(parsed, WorkerDied):
        logger.warning("feed parse worker died url=%s", url)
        return failed_feed("parse error: the parser process died")
    return parsed
