"""The scheduler's few fixed ticks (PTB JobQueue / APScheduler 3).

Each tick asks the database what is due; nothing depends on in-memory jobs
surviving a restart.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import Application

from handlers.context import BotContext

logger = logging.getLogger(__name__)

REFRESH_EVERY_SECONDS = 30.0


async def refresh_tick(context: BotContext) -> None:
    """Refresh the feeds whose next check has come."""
    reports = await context.services.refresher.refresh_due()
    if reports:
        failed = sum(1 for r in reports if r.error)
        new = sum(r.new_stories for r in reports)
        logger.info("refresh feeds=%d new_stories=%d failed=%d", len(reports), new, failed)


def schedule(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Install the ticks on the application's JobQueue."""
    queue = app.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is required"
    # One run at a time per tick; a slow refresh delays the next, never doubles it.
    job_kwargs = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    queue.run_repeating(
        refresh_tick,
        interval=REFRESH_EVERY_SECONDS,
        first=1.0,
        name="refresh",
        job_kwargs=job_kwargs,
    )
