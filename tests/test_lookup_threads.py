"""Host-name lookups that hang must not hold up commands.

A refresh of many feeds whose names do not resolve behind a slow DNS server kept every
thread of the event loop's default executor in ``getaddrinfo``, and each command's
database work (``asyncio.to_thread``) queued behind them: seconds per command. The
fetcher resolves on threads of its own (``bot.ingest.resolver``), closed with it.

``socket.getaddrinfo`` (the library edge) is replaced so that lookups of the test's
names block until the test releases them; nothing here depends on timing.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.services.context import sync_feeds
from bot.settings import FeedConfig, FetchSettings
from bot.storage.models import Feed
from tests.support.botharness import make_settings, running_bot
from tests.support.fake_telegram import FakeTelegram

STUCK = ".stuck.test"
USER = 4242
NOW = datetime(2026, 12, 7, tzinfo=UTC)
WAIT_STEPS = 600  # × 50 ms: how long a wait may take before the test fails


def default_executor_threads() -> int:
    """The size of the loop's default executor (ThreadPoolExecutor's default)."""
    return min(32, (os.cpu_count() or 1) + 4)


class StuckLookups:
    """``socket.getaddrinfo`` whose lookups of ``*.stuck.test`` block until released."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self._real = real
        self.release = threading.Event()
        self.started: list[str] = []

    def __call__(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.endswith(STUCK):
            self.started.append(name)
            self.release.wait()
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self._real(host, *args, **kwargs)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll on the event loop itself (no thread: the default executor may be full)."""
    for _ in range(WAIT_STEPS):
        if condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def failed_feeds(engine: Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(Feed).where(Feed.consecutive_failures > 0)
        return int(session.exec(query).one())


def dns_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("dns")]


@pytest.fixture
def stuck(monkeypatch: pytest.MonkeyPatch) -> Iterator[StuckLookups]:
    lookups = StuckLookups(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", lookups)
    yield lookups
    lookups.release.set()  # whatever happened, no thread stays blocked


@pytest.mark.parametrize("guard", [True, False], ids=["guard on", "guard off"])
async def test_a_command_is_answered_while_feed_lookups_hang(
    tg: FakeTelegram, sqlite_engine: Engine, stuck: StuckLookups, guard: bool
) -> None:
    # More feeds than the default executor has threads: on the old code every one of its
    # threads waited in a lookup, and the command's database work behind them.
    count = default_executor_threads() + 4
    feeds = tuple(
        FeedConfig(f"http://feed{n}{STUCK}/rss.xml", f"Stuck {n}", ("tech",)) for n in range(count)
    )
    # Guard off, the old code's lookups were httpcore's, in the same default executor.
    fetch = FetchSettings(
        allow_private_networks=not guard, timeout_seconds=600, max_concurrency=count
    )
    settings = make_settings(tg, feeds=feeds, fetch=fetch)
    sync_feeds(settings, sqlite_engine)
    tg.add_private_chat(USER)
    async with running_bot(settings, sqlite_engine, role="all"):
        try:
            await until(lambda: len(stuck.started) >= default_executor_threads(), "the lookups")
            tg.send_text(USER, "/latest")
            await until(lambda: bool(tg.messages(USER)), "the reply to /latest")
            assert not stuck.release.is_set() and failed_feeds(sqlite_engine) == 0  # still stuck
            assert len(stuck.started) == count  # every lookup on a thread of its own
        finally:
            stuck.release.set()  # before the bot stops: its shutdown may need a thread
        await until(lambda: failed_feeds(sqlite_engine) == count, "the feeds' failures")
    for thread in dns_threads():  # the lookups returned; their threads end with the fetcher
        thread.join(timeout=WAIT_STEPS * 0.05)
    assert dns_threads() == []


async def test_a_closed_fetcher_keeps_no_lookup_thread(stuck: StuckLookups) -> None:
    async with Fetcher(FetchPolicy()) as fetcher:
        got = asyncio.ensure_future(fetcher.fetch_feed(f"http://a{STUCK}/rss.xml", now=NOW))
        await until(lambda: bool(stuck.started), "the lookup")
    stuck.release.set()
    assert (await got).error == "DNS lookup failed"
    for thread in dns_threads():
        thread.join(timeout=WAIT_STEPS * 0.05)
    assert dns_threads() == []
