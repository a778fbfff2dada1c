"""Use case: refresh feeds (fetch → parse → store → dedup), feeds stored in order.

Feeds waiting for the writer are stored together, a few per transaction, each
decided after the one before it (see ``STORE_GROUP``).

Expected failures (timeouts, HTTP errors, broken XML) are recorded on the
feed; an unexpected exception in one feed is logged and recorded too, so one
bad feed never stops the refresh of the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.ingest import semantic
from bot.ingest.fetcher import Fetcher, FetchResult, FetchStatus
from bot.ingest.parse_workers import parse_feed_async
from bot.ingest.parser import ParsedFeed
from bot.ingest.polling import failure_backoff, next_check_delay
from bot.ingest.stories import IngestOutcome, ingest_entries
from bot.ingest.topics import TopicMatcher
from bot.settings import Settings
from bot.storage import feeds as feed_store
from bot.storage.db import session_scope
from bot.storage.models import Feed, utcnow

logger = logging.getLogger(__name__)

# A 304 (or an unchanged body) is trusted this long; then we fetch
# unconditionally once, in case a server sends a bogus ETag forever.
NOT_MODIFIED_TRUST = timedelta(hours=24)
LEASE = timedelta(minutes=10)
CLAIM_BATCH = 100
# 304s (and unchanged bodies) are written together: when this many are waiting, or when
# no fetch of this refresher is still running. One small write transaction per few 304s
# cost a 1,000-feed round ~0.36 s of CPU in a worker thread (270 writes), and that
# thread's hold on the GIL stalled the event loop's every socket call.
UNCHANGED_BATCH = 100
# Feeds with new entries that wait for the writer (fetch and parse outrun the store: a
# 1,000-feed refresh queues hundreds) are stored this many at a time, one after the
# other in one transaction: the same decisions (each feed reads what the one before
# wrote), one commit instead of one per feed (a commit rewrites every page the feed
# dirtied: ~400 pages at 1,000 feeds, 10 % of the store). Capped so that another
# writer waits at most about one group (~1 s at 1,000 feeds stored).
STORE_GROUP = 8
# A feed fetched and not yet stored is held in memory: its body (up to the fetcher's
# max_bytes) while it waits for a parse worker, then its parsed and prepared entries
# (~170 KB for 50) while it waits for the writer. Unbounded, a first refresh held them
# all: `refresh_all()` over 1,000 feeds had 992 bodies queued for a parse at once, and
# where the writer is the slower side the parsed feeds pile up in its queue instead.
# So a feed takes a place before its fetch and gives it back once stored (a 304 or a
# failure as soon as it is fetched): at most the fetcher's concurrency plus this many
# feeds are under way, enough to keep the parse workers busy and the writer's groups
# full (`bench/bench_peak_rss.py`).
STORE_BACKLOG = 64


@dataclass(frozen=True)
class FeedTask:
    """What one fetch needs from a feed row, detached from the session."""

    feed_id: int
    url: str
    name: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None


@dataclass(frozen=True)
class _Fetched:
    """What one fetch produced, for storing: the response, its parse, or why it failed."""

    fetch: FetchResult | None
    parsed: ParsedFeed | None = None
    error: str | None = None


@dataclass(frozen=True)
class FeedReport:
    feed_id: int
    name: str
    url: str
    new_entries: int = 0
    new_stories: int = 0
    merged: int = 0
    not_modified: bool = False
    error: str | None = None
    paused_now: bool = False
    story_ids: tuple[int, ...] = ()
    # The feed answered with a permanent redirect to this address (see `follow_move`).
    moved_to: str | None = None


def _task(feed: Feed, now: datetime) -> FeedTask:
    assert feed.id is not None
    stale = feed.not_modified_since is not None and now - feed.not_modified_since > (
        NOT_MODIFIED_TRUST
    )
    return FeedTask(
        feed_id=feed.id,
        url=feed.url,
        name=feed.display_name,
        etag=None if stale else feed.etag,
        last_modified=None if stale else feed.last_modified,
        body_hash=None if stale else feed.body_hash,
    )


class Refresher:
    """Refresh feeds with one shared fetcher; build once per process."""

    def __init__(
        self,
        *,
        engine: Engine,
        fetcher: Fetcher,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        in_flight: int | None = None,
    ) -> None:
        """`in_flight`: most feeds fetched (or being fetched) and not yet stored, at once,
        over every run of this refresher; by default the fetch concurrency plus
        ``STORE_BACKLOG``."""
        self._engine = engine
        self._fetcher = fetcher
        self._settings = settings
        self._matcher = TopicMatcher.from_topics(settings.topics)
        self._semantic = semantic.from_settings(settings.dedup)  # logs the method in use
        self._clock = clock
        self._store_lock = asyncio.Lock()  # one writer at a time (SQLite)
        # 304s waiting for the writer, and the writer tasks (kept referenced).
        self._unchanged: list[tuple[feed_store.NotModified, asyncio.Future[dict[int, str]]]] = []
        self._writers: set[asyncio.Task[None]] = set()
        self._fetching = 0  # feeds being fetched or parsed now, in every run of this refresher
        self._write_due = asyncio.Event()  # set when the 304s waiting should be written
        # Feeds waiting to be stored, and whether a writer is taking them.
        self._to_store: list[tuple[FeedTask, _Fetched, asyncio.Future[FeedReport]]] = []
        self._storing = False
        room = in_flight or settings.fetch.max_concurrency + STORE_BACKLOG
        self._room = asyncio.BoundedSemaphore(room)  # a place for each feed under way

    async def refresh_due(self, *, batch: int = CLAIM_BATCH) -> list[FeedReport]:
        """Refresh due feeds, claiming a batch at a time until none is left.

        Claiming in batches lets several workers share a large backlog. The next batch
        is claimed once half of the feeds under way are done, not when all are: one slow
        feed in a batch no longer holds back the rest of the round. Reports come in
        claim order. A cancelled (or failed) refresh stops its feeds and releases the
        leases of what it had not finished.
        """
        claimed: list[FeedTask] = []
        runs: list[asyncio.Task[FeedReport]] = []
        under_way: set[asyncio.Task[FeedReport]] = set()
        room = asyncio.Event()  # set when at most half a batch is under way

        def finished(run: asyncio.Task[FeedReport]) -> None:
            under_way.discard(run)
            if len(under_way) <= batch // 2:
                room.set()

        try:
            while True:
                tasks = await asyncio.to_thread(self._claim_due, batch)
                claimed += tasks
                for task in tasks:
                    run = asyncio.create_task(self._guarded(task))
                    run.add_done_callback(finished)
                    runs.append(run)
                    under_way.add(run)
                if len(tasks) < batch:
                    return list(await asyncio.gather(*runs))
                room.clear()
                if len(under_way) > batch // 2:
                    await room.wait()
        except BaseException:
            for run in runs:
                run.cancel()
            await asyncio.gather(*runs, return_exceptions=True)
            await asyncio.shield(asyncio.to_thread(self._release, claimed))
            raise

    def _release(self, tasks: Sequence[FeedTask]) -> None:
        with session_scope(self._engine) as session:
            for task in tasks:
                feed = session.get(Feed, task.feed_id)
                if feed is not None and feed.lease_until is not None:
                    feed.lease_until = None
                    session.add(feed)

    async def refresh_all(
        self, *, progress: Callable[[FeedReport], None] | None = None
    ) -> list[FeedReport]:
        """Refresh every enabled feed now, paused ones included."""
        tasks = await asyncio.to_thread(self._claim_all)
        return await self.run(tasks, progress=progress)

    async def run(
        self, tasks: Sequence[FeedTask], *, progress: Callable[[FeedReport], None] | None = None
    ) -> list[FeedReport]:
        async def one(task: FeedTask) -> FeedReport:
            report = await self._guarded(task)
            if progress is not None:
                progress(report)
            return report

        return list(await asyncio.gather(*(one(t) for t in tasks)))

    def _claim_due(self, limit: int | None) -> list[FeedTask]:
        now = self._clock()
        with session_scope(self._engine) as session:
            feeds = feed_store.due_feeds(session, now=now, limit=limit)
            feed_store.lease_feeds(session, feeds, now=now, lease=LEASE)
            return [_task(f, now) for f in feeds]

    def _claim_all(self) -> list[FeedTask]:
        now = self._clock()
        with session_scope(self._engine) as session:
            return [_task(f, now) for f in feed_store.enabled_feeds(session)]

    async def _guarded(self, task: FeedTask) -> FeedReport:
        try:
            return await self._refresh_one(task)
        except Exception as exc:  # a bug must not stop the other feeds
            logger.exception("refresh failed feed_id=%s url=%s", task.feed_id, task.url)
            reason = f"internal error: {type(exc).__name__}"
            return await self._store(task, _Fetched(None, error=reason))

    async def _refresh_one(self, task: FeedTask) -> FeedReport:
        await self._room.acquire()
        holding = True
        try:
            self._fetching += 1
            try:
                got = await self._fetch_and_parse(task)
            finally:
                self._fetching -= 1
                if not self._fetching:
                    self._write_due.set()
            if got.parsed is None:  # nothing held: a 304 waits for its batch without a place
                holding = False
                self._room.release()
            return await self._store(task, got)
        finally:
            if holding:
                self._room.release()

    async def _fetch_and_parse(self, task: FeedTask) -> _Fetched:
        fetch = await self._fetcher.fetch_feed(
            task.url,
            etag=task.etag,
            last_modified=task.last_modified,
            previous_hash=task.body_hash,
            now=self._clock(),
        )
        if fetch.status is FetchStatus.ERROR:
            return _Fetched(fetch, error=fetch.error)
        if fetch.status is FetchStatus.NOT_MODIFIED or fetch.body is None:
            return _Fetched(fetch)
        fs = self._settings.fetch
        parsed = await parse_feed_async(
            fetch.body,
            url=fetch.final_url,
            content_type=fetch.content_type,
            now=self._clock(),
            max_entries=fs.max_entries,
            timeout=fs.parse_timeout_seconds,
            matcher=self._matcher,  # the worker prepares the entries for `_store_in`
        )
        error = (
            parsed.error if not parsed.entries and (parsed.error or not parsed.is_feed) else None
        )
        # The body is parsed: only the response's headers are stored (and kept waiting).
        return _Fetched(replace(fetch, body=None), parsed, error)

    async def _store(self, task: FeedTask, got: _Fetched) -> FeedReport:
        if got.error is None and got.parsed is None and got.fetch is not None:
            return await self._store_not_modified(task, got.fetch)
        item = (task, got, asyncio.get_running_loop().create_future())
        self._to_store.append(item)
        if not self._storing:  # a writer takes every feed queued until none is left
            self._storing = True
            writer = asyncio.create_task(self._write_stored())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        try:
            return await asyncio.shield(item[2])
        except asyncio.CancelledError:
            if item in self._to_store:  # not taken yet: not stored at all
                self._to_store.remove(item)
            raise

    async def _write_stored(self) -> None:
        try:
            async with self._store_lock:
                while self._to_store:
                    group = self._to_store[:STORE_GROUP]
                    del self._to_store[:STORE_GROUP]
                    try:
                        outcomes = await asyncio.to_thread(
                            self._store_group_sync, [(task, got) for task, got, _ in group]
                        )
                    except BaseException as exc:  # each caller records it as its own failure
                        for _, _, done in group:
                            done.set_exception(exc)
                        if not isinstance(exc, Exception):
                            raise
                        continue
                    for (_, _, done), outcome in zip(group, outcomes, strict=True):
                        if isinstance(outcome, Exception):
                            done.set_exception(outcome)
                        else:
                            done.set_result(outcome)
        finally:
            self._storing = False

    def _store_group_sync(
        self, items: Sequence[tuple[FeedTask, _Fetched]]
    ) -> list[FeedReport | Exception]:
        """Store feeds in order in one transaction; if one fails, each in its own."""
        if len(items) > 1:
            try:
                with session_scope(self._engine) as session:
                    return [self._store_in(session, task, got) for task, got in items]
            except Exception:  # rolled back: retried alone, so only that feed fails
                logger.debug("store group failed; storing its %d feeds one by one", len(items))
                if self._semantic is not None:  # it may index the group's vectors
                    self._semantic.forget_index()
        outcomes: list[FeedReport | Exception] = []
        for task, got in items:
            try:
                outcomes.append(self._store_sync(task, got))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def _store_sync(self, task: FeedTask, got: _Fetched) -> FeedReport:
        with session_scope(self._engine) as session:
            return self._store_in(session, task, got)

    def _store_in(self, session: Session, task: FeedTask, got: _Fetched) -> FeedReport:
        fetch, parsed, error = got.fetch, got.parsed, got.error
        now = self._clock()
        fs = self._settings.fetch
        feed = session.get(Feed, task.feed_id)
        if feed is None:
            return FeedReport(task.feed_id, task.name, task.url, error="feed was removed")
        if error is not None:
            delay = failure_backoff(
                interval=fs.interval_seconds,
                consecutive_failures=feed.consecutive_failures + 1,
                maximum=fs.max_interval_seconds,
            )
            hint = fetch.retry_after_seconds if fetch else None
            delay = max(delay, min(hint or 0.0, fs.max_interval_seconds))
            paused = feed_store.record_failure(
                session,
                feed,
                now=now,
                reason=error,
                next_check_at=now + timedelta(seconds=delay),
                pause_after=fs.pause_after_failures,
            )
            if paused:
                logger.warning("feed paused feed_id=%s reason=%s", feed.id, error)
            return FeedReport(task.feed_id, task.name, task.url, error=error, paused_now=paused)
        outcome = IngestOutcome()
        if parsed is not None and parsed.entries:
            outcome = ingest_entries(
                session,
                feed=feed,
                entries=parsed.entries,
                matcher=self._matcher,
                now=now,
                window=timedelta(hours=self._settings.dedup.window_hours),
                semantic=self._semantic,
            )
        assert fetch is not None
        delay = next_check_delay(
            interval=fs.interval_seconds,
            retry_after=fetch.retry_after_seconds,
            max_age=fetch.max_age_seconds,
            ttl=parsed.ttl_seconds if parsed else None,
            maximum=fs.max_interval_seconds,
        )
        not_modified = parsed is None
        feed_store.record_success(
            session,
            feed,
            now=now,
            next_check_at=now + timedelta(seconds=delay),
            title=parsed.title if parsed else None,
            etag=fetch.etag,
            last_modified=fetch.last_modified,
            body_hash=fetch.body_hash,
            not_modified=not_modified,
        )
        feed.paused = False
        moved_to = fetch.moved_to if fetch.moved_to not in (None, feed.url) else None
        if moved_to is not None:
            moved = feed_store.follow_move(session, feed, moved_to)
            logger.warning("feed moved feed_id=%s to=%s followed=%s", feed.id, moved_to, moved)
        return FeedReport(
            task.feed_id,
            feed.display_name,
            task.url,
            new_entries=outcome.new_entries,
            new_stories=outcome.new_stories,
            merged=outcome.merged,
            not_modified=not_modified,
            story_ids=outcome.story_ids,
            moved_to=moved_to,
        )

    async def _store_not_modified(self, task: FeedTask, fetch: FetchResult) -> FeedReport:
        """A 304 or an unchanged body (most feeds, most rounds): queued, then written with
        the others, one UPDATE executemany for all (see ``UNCHANGED_BATCH``)."""
        now = self._clock()
        fs = self._settings.fetch
        delay = next_check_delay(
            interval=fs.interval_seconds,
            retry_after=fetch.retry_after_seconds,
            max_age=fetch.max_age_seconds,
            ttl=None,
            maximum=fs.max_interval_seconds,
        )
        row = feed_store.NotModified(
            task.feed_id, now, now + timedelta(seconds=delay), fetch.etag, fetch.last_modified
        )
        done: asyncio.Future[dict[int, str]] = asyncio.get_running_loop().create_future()
        self._unchanged.append((row, done))
        if self._unchanged_due():
            self._write_due.set()
        if len(self._unchanged) == 1:  # the first one queued: a writer picks up all
            writer = asyncio.create_task(self._write_unchanged())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        names = await asyncio.shield(done)
        if task.feed_id not in names:
            return FeedReport(task.feed_id, task.name, task.url, error="feed was removed")
        return FeedReport(task.feed_id, names[task.feed_id], task.url, not_modified=True)

    def _unchanged_due(self) -> bool:
        return len(self._unchanged) >= UNCHANGED_BATCH or not self._fetching

    async def _write_unchanged(self) -> None:
        # One writer waits at a time: the next is started by the first row queued after
        # this one took the queue, so it alone clears the event it waits for.
        while not self._unchanged_due():
            self._write_due.clear()
            await self._write_due.wait()
        async with self._store_lock:
            queued, self._unchanged = self._unchanged, []
            try:
                names = await asyncio.to_thread(self._write_unchanged_sync, [r for r, _ in queued])
            except BaseException as exc:  # each feed's caller records it as its own failure
                for _, done in queued:
                    done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                for _, done in queued:
                    done.set_result(names)

    def _write_unchanged_sync(self, rows: list[feed_store.NotModified]) -> dict[int, str]:
        with session_scope(self._engine) as session:
            return feed_store.record_not_modified(session, rows)
