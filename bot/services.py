"""The services handlers and jobs reach through their typed context."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.admin.alerts import ErrorThrottle
from bot.delivery import Sender
from bot.feeds.fetcher import Fetcher
from bot.models import utcnow
from bot.pacing import Pacer
from bot.ratelimit import SlidingWindowLimiter
from bot.refresh import Refresher
from bot.settings import Settings
from bot.storage.db import session_scope

T = TypeVar("T")

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
    error_throttle: ErrorThrottle = field(default_factory=ErrorThrottle)

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in one transaction on a worker thread."""

        def run() -> T:
            with session_scope(self.engine) as session:
                return work(session)

        return await asyncio.to_thread(run)

    def begin_shutdown(self) -> None:
        """Stop claiming new work; what is in flight finishes."""
        self.stopping.set()
        if self.sender is not None:
            self.sender.stopping = True
