"""The services handlers and jobs reach through their typed context."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.admin.alerts import ErrorThrottle
from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import Refresher
from bot.ops.health import Heartbeats
from bot.services.ratelimit import InFlight, SlidingWindowLimiter
from bot.settings import FetchSettings, Settings
from bot.storage import feeds as feed_store
from bot.storage.db import session_scope
from bot.storage.models import utcnow
from bot.storage.presence import WorkerPresence

T = TypeVar("T")


def fetch_policy(fs: FetchSettings) -> FetchPolicy:
    """Translate the [fetch] settings into the fetcher's policy (the keys both have)."""
    return FetchPolicy(
        **{f.name: getattr(fs, f.name) for f in fields(FetchPolicy) if hasattr(fs, f.name)}
    )


def sync_feeds(settings: Settings, engine: Engine) -> None:
    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=utcnow())


LATEST_PER_MINUTE = 4


@dataclass
class Services:
    settings: Settings
    engine: Engine
    fetcher: Fetcher
    refresher: Refresher
    pacer: Pacer
    sender: Sender | None = None
    clock: Callable[[], datetime] = utcnow
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    latest_limiter: SlidingWindowLimiter = field(
        default_factory=lambda: SlidingWindowLimiter(limit=LATEST_PER_MINUTE, period=60.0)
    )
    # 📖 texts being sent, by (chat, forum topic, story, first message): a double tap, or
    # a second member's tap in a group, does not send the same article twice at once.
    fulltext_in_flight: InFlight = field(default_factory=InFlight)
    error_throttle: ErrorThrottle = field(default_factory=ErrorThrottle)
    heartbeats: Heartbeats = field(default_factory=Heartbeats)  # ticks completed, for /readyz
    presence: WorkerPresence | None = None  # a PostgreSQL worker's share of the workers' lock

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in one transaction on a worker thread."""

        def run() -> T:
            with session_scope(self.engine) as session:
                return work(session)

        return await asyncio.to_thread(run)

    def begin_shutdown(self) -> None:
        """Stop claiming new work; what is in flight finishes."""
        self.stopping.set()
        self.heartbeats.stop()  # /readyz answers 503 from now on
        if self.sender is not None:
            self.sender.stop()
