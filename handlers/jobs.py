"""The scheduler's few fixed ticks (PTB JobQueue / APScheduler 3).

Each tick asks the database what is due; nothing depends on in-memory jobs
surviving a restart, and several processes may tick side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.admin.broadcast import CHECK_EVERY, report_progress
from bot.admin.feed_alerts import enqueue_move_alerts, enqueue_pause_alerts
from bot.briefings.compose import ComposeStats, compose_instant, compose_scheduled
from bot.ops import metrics
from bot.ops.health import Heartbeats
from bot.services.context import Services
from bot.services.retention import prune
from handlers.context import BotContext

logger = logging.getLogger(__name__)

REFRESH_EVERY = 30.0
COMPOSE_EVERY = 15.0
COMPOSE_BATCH = 5000  # chats per compose_scheduled call (it commits every 500)
DELIVER_EVERY = 1.0
DELIVER_BUDGET = 5.0  # seconds one deliver tick may send before it yields
# How often a worker proves it holds its PostgreSQL presence locks (a worker sends only
# for presence.PROOF_SECONDS after a check), rejoins after losing them, and hands back
# dead workers' rows.
PRESENCE_EVERY = 2.0
PRESENCE_UNPROVEN = "paused: this worker's PostgreSQL presence lock is not proven (joining again)"
TOKEN_CHECK_EVERY = 20.0  # getMe: a token revoked while we run ends the process
EXIT_TOKEN_REFUSED = 2  # as at start: a configuration problem, not worth a restart
TOKEN_REFUSED = (
    "the Bot API refused the bot token while running (revoked at @BotFather?): stopping;"
    " set TELEGRAM_BOT_TOKEN (or telegram.token) to the new token and start again"
)
RETENTION_EVERY = 3600.0  # pruning is batched; hourly keeps each run short
# Right after a start, scheduled briefings wait for the first refresh (at most this long), so
# a catch-up briefing after a downtime carries the news of the downtime, not only what was
# stored before it.
FIRST_REFRESH_WAIT = 300.0


async def refresh_tick(context: BotContext) -> None:
    """Refresh the feeds whose next check has come; give up at once on shutdown."""
    services = context.services
    began = time.monotonic()
    work = asyncio.ensure_future(services.refresher.refresh_due())
    stop = asyncio.ensure_future(services.stopping.wait())
    await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if not work.done():
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        return
    reports = work.result()
    metrics.observe_refresh(
        time.monotonic() - began,
        entries=sum(r.new_entries for r in reports),
        merged=sum(r.merged for r in reports),
    )
    if reports:
        failed = sum(1 for r in reports if r.error)
        new = sum(r.new_stories for r in reports)
        logger.info("refresh feeds=%d new_stories=%d failed=%d", len(reports), new, failed)
    await alert_paused(services, [r.feed_id for r in reports if r.paused_now])
    await alert_moved(services, [(r.feed_id, r.moved_to) for r in reports if r.moved_to])
    services.heartbeats.beat("refresh")


async def alert_paused(services: Services, feed_ids: list[int]) -> None:
    """Queue one message per admin for each feed this refresh paused."""
    await _alert_admins(services, "paused feed_ids", feed_ids, enqueue_pause_alerts)


async def alert_moved(services: Services, moves: list[tuple[int, str]]) -> None:
    """Queue one message per admin for each feed that moved to a new address."""
    await _alert_admins(services, "moved moves", moves, enqueue_move_alerts)


async def _alert_admins(
    services: Services,
    what: str,
    items: list[Any],
    enqueue: Callable[..., int],
) -> None:
    """Queue `enqueue`'s admin messages for `items` (nothing when none, or no admins)."""
    admins = services.settings.telegram.admins
    if not items or not admins:
        return
    now = services.clock()
    queued = await services.db(lambda s: enqueue(s, items, admins, now=now))
    logger.info("feeds %s=%s admin_alerts=%d", what, items, queued)


async def presence_tick(context: BotContext) -> None:
    """Keep this worker in PostgreSQL's live-workers lock (rejoin after a lost connection),
    on the job's own thread (`schedule` gives it one): a check that waits behind the
    sender's database calls would pause the sender."""
    presence = context.services.presence
    thread = context.job.data if context.job is not None else None
    if presence is not None:
        own = thread if isinstance(thread, ThreadPoolExecutor) else None
        await asyncio.get_running_loop().run_in_executor(own, presence.keep)


async def broadcast_tick(context: BotContext) -> None:
    """Edit the status message of running broadcasts; the last edit is the report."""
    services = context.services
    await report_progress(
        context.bot,
        services.engine,
        per_second=services.settings.delivery.messages_per_second,
        clock=services.clock,
    )


async def compose_tick(context: BotContext) -> None:
    """Compose every briefing that fell due, batch after batch, and instant batches.

    A batch is one short transaction per chat; looping until no chat is due
    keeps 100 k briefings at 08:00 from trickling out one batch per tick.
    """
    services = context.services
    began = time.monotonic()
    total = ComposeStats()
    while not services.stopping.is_set() and not awaiting_first_refresh(services.heartbeats):
        now = services.clock()
        batch = await asyncio.to_thread(
            compose_scheduled, services.engine, services.settings, now=now, limit=COMPOSE_BATCH
        )
        total.briefings += batch.briefings
        total.messages += batch.messages
        total.skipped_late += batch.skipped_late
        if batch.chats < COMPOSE_BATCH:
            break
    now = services.clock()
    instant = await asyncio.to_thread(compose_instant, services.engine, services.settings, now=now)
    if total.briefings or instant.briefings or total.skipped_late:
        logger.info(
            "compose briefings=%d instant=%d messages=%d skipped_late=%d",
            total.briefings,
            instant.briefings,
            total.messages + instant.messages,
            total.skipped_late,
        )
    metrics.observe_compose(time.monotonic() - began)
    services.heartbeats.beat("compose")


def awaiting_first_refresh(beats: Heartbeats) -> bool:
    """Whether this process still holds scheduled briefings for its first refresh."""
    if not beats.expects("refresh") or beats.completed("refresh"):
        return False
    return beats.since_start() < FIRST_REFRESH_WAIT


async def deliver_tick(context: BotContext) -> None:
    """Send what the outbox holds, at Telegram's pace."""
    sender = context.services.sender
    if sender is None:
        return
    stats = await sender.deliver_due(budget_seconds=DELIVER_BUDGET)
    heartbeats = context.services.heartbeats
    if sender.write_failure is not None:  # a round that cannot write (disk full, read-only
        heartbeats.fail("deliver", f"database: {sender.write_failure}")  # database): none sent
    elif sender.presence is not None and sender.presence.claimant() is None:
        # PostgreSQL: a worker that cannot prove it holds its presence lock sends nothing
        # (bot/storage/presence.py); readiness says so once that lasts.
        heartbeats.fail("deliver", PRESENCE_UNPROVEN)
    else:
        heartbeats.beat("deliver")
    if stats.sent or stats.failed or stats.blocked:
        logger.info(
            "deliver sent=%d retried=%d failed=%d blocked=%d",
            stats.sent,
            stats.retried,
            stats.failed,
            stats.blocked,
        )


async def retention_tick(context: BotContext) -> None:
    """Prune old outbox rows, stories, article texts and audit rows, batch by batch."""
    services = context.services
    report = await asyncio.to_thread(
        prune,
        services.engine,
        services.settings.retention,
        now=services.clock(),
        stop=services.stopping.is_set,
    )
    if report.total:
        logger.info(
            "retention outbox=%d stories=%d articles=%d audit=%d",
            report.outbox,
            report.stories,
            report.articles,
            report.audit,
        )


def schedule(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Install the ticks on the application's JobQueue."""
    queue = app.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is required"
    services = app.bot_data.get("services")
    if services is not None:  # readiness knows which ticks to expect, and how often
        heartbeats = services.heartbeats
        heartbeats.expect("refresh", REFRESH_EVERY)
        heartbeats.expect("compose", COMPOSE_EVERY)
        heartbeats.expect("deliver", DELIVER_EVERY + DELIVER_BUDGET)  # a busy tick runs its budget
    # One run at a time per tick; a slow run delays the next, never doubles it.
    kwargs = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    queue.run_repeating(refresh_tick, REFRESH_EVERY, first=1.0, name="refresh", job_kwargs=kwargs)
    queue.run_repeating(compose_tick, COMPOSE_EVERY, first=2.0, name="compose", job_kwargs=kwargs)
    queue.run_repeating(deliver_tick, DELIVER_EVERY, first=2.5, name="deliver", job_kwargs=kwargs)
    queue.run_repeating(
        broadcast_tick, CHECK_EVERY, first=CHECK_EVERY, name="broadcast", job_kwargs=kwargs
    )
    if services is not None and services.presence is not None:
        queue.run_repeating(
            presence_tick,
            PRESENCE_EVERY,
            first=PRESENCE_EVERY,
            name="presence",
            data=ThreadPoolExecutor(1, thread_name_prefix="presence"),
            job_kwargs=kwargs,
        )
    queue.run_repeating(
        retention_tick, RETENTION_EVERY, first=60.0, name="retention", job_kwargs=kwargs
    )


async def token_tick(context: BotContext) -> None:
    """Stop the process, exit code 2, once the Bot API refuses our token.

    PTB's polling gives up on a refused token for good and says so once, while the process
    would run on answering nobody and reporting ready; a supervisor could not tell. A
    worker would retry every send for about an hour and then mark it failed.
    """
    try:
        await context.bot.get_me()
    except InvalidToken:
        logger.error(TOKEN_REFUSED)
        app = context.application
        app.bot_data["exit_code"] = EXIT_TOKEN_REFUSED
        if app.updater is not None and app.updater.running:
            # Stopped here, so the refused poll is not raised again from run_polling's
            # own stop, which would skip the application's shutdown.
            with contextlib.suppress(InvalidToken):
                await app.updater.stop()
        stop = context.job.data if context.job is not None else None
        if isinstance(stop, asyncio.Event):  # a worker runs its own loop: end it so
            stop.set()
        else:
            app.stop_running()
    except TelegramError:
        pass  # unreachable or busy: polling says so; the next check asks again
