"""Composition root: settings → engine → services → Application → handlers → jobs."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from telegram import Bot
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import HTTPXRequest

import handlers
from bot.delivery.pacing import PacedRateLimiter, Pacer, concurrency_for
from bot.delivery.ptb_aiohttp import AiohttpRequest
from bot.delivery.sender import Sender
from bot.ingest import process_pool
from bot.ingest.fetcher import Fetcher
from bot.ingest.refresh import Refresher
from bot.ops import metrics
from bot.ops.server import OpsServer, check_free
from bot.services.articles import start_extraction_workers
from bot.services.context import Services, fetch_policy, sync_feeds
from bot.services.startup import (
    WorkerPresence,
    hand_back_claims,
    worker_lock,
    worker_presence,
)
from bot.settings import Settings
from handlers import jobs
from handlers.admin import set_admin_menus, set_menus
from handlers.context import BotContext, attach_services
from handlers.ordering import ChatOrderedProcessor
from handlers.webhook import limit_http_requests

logger = logging.getLogger(__name__)

AppType = Application[Any, Any, Any, Any, Any, Any]


def file_base_url(api_base_url: str) -> str:
    """The file-download base for a Bot API base URL (".../bot" → ".../file/bot")."""
    if api_base_url.endswith("/bot"):
        return api_base_url[: -len("bot")] + "file/bot"
    return api_base_url.rstrip("/") + "/file/bot"


class BriefingApplication(Application[Any, Any, Any, Any, Any, Any]):
    """Application that tells our services to wind down before PTB waits for jobs."""

    async def stop(self) -> None:
        services: Services | None = self.bot_data.get("services")
        if services is not None:
            services.begin_shutdown()
        await super().stop()


UPDATES_AT_ONCE = 64  # updates handled concurrently (each chat's messages still in order)


def kept_alive_pool(connections: int) -> HTTPXRequest:
    """PTB's httpx transport over at most `connections` connections, every one kept alive.

    httpx keeps 20 idle connections by default, and httpcore 1.0 closes an idle one
    whenever more than that many are open at all, busy or not: past 20 requests at once,
    each opened a connection of its own (a TLS handshake with Telegram). A request waits
    up to 30 s for a free connection instead of PTB's 1 s."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return HTTPXRequest(
        connection_pool_size=connections, pool_timeout=30.0, httpx_kwargs={"limits": limits}
    )


def sender_bot(settings: Settings) -> Bot:
    """A Bot for the outbox sender: no PTB rate limiter, the sender paces itself."""
    return Bot(
        settings.telegram.token,
        base_url=settings.telegram.api_base_url,
        base_file_url=file_base_url(settings.telegram.api_base_url),
        request=kept_alive_pool(128),
    )


def build_application(
    settings: Settings,
    engine: Engine,
    *,
    role: str = "all",
    presence: WorkerPresence | None = None,
) -> AppType:
    """Build the PTB Application with our services, handlers and scheduler ticks.

    `presence`: this worker's share of PostgreSQL's live-workers lock, taken (`acquire`)
    before the call; the start hands back a lone worker's leftover claims, then settles it.
    """
    metrics.set_role(role)
    fetcher = Fetcher(fetch_policy(settings.fetch))
    pacer = Pacer(per_second=settings.delivery.messages_per_second)
    sender = Sender(
        engine=engine,
        bot=sender_bot(settings),
        pacer=pacer,
        allow_paid_broadcast=settings.delivery.allow_paid_broadcast,
        concurrency=concurrency_for(settings.delivery.messages_per_second),
        lease=timedelta(seconds=settings.delivery.lease_seconds),
        total_per_second=settings.delivery.messages_per_second,
        presence=presence,
    )
    services = Services(
        refresher=Refresher(engine=engine, fetcher=fetcher, settings=settings),
        pacer=pacer,
        sender=sender,
        settings=settings,
        engine=engine,
        fetcher=fetcher,
        presence=presence,
    )
    ops = (
        OpsServer(settings.ops, engine, services.heartbeats, sends=role != "bot")
        if settings.ops.address
        else None
    )
    if ops is not None:
        ops.bind()  # raises OpsListenError with a clear message

    async def post_init(app: AppType) -> None:
        if ops is not None:
            await ops.start()
        await fetcher.__aenter__()
        await sender.bot.initialize()
        if role in ("all", "bot"):
            # They import in the background: the first 📖 is quick.
            start_extraction_workers(settings.fulltext.extract_workers)
            await set_menus(app.bot)
            await set_admin_menus(app.bot, settings.telegram.admins)
        if role in ("all", "worker"):
            released = await asyncio.to_thread(hand_back_claims, engine, presence)
            if released:
                logger.info("outbox rows in flight at last stop, sending again: %d", released)
            jobs.schedule(app)
        logger.info("started role=%s bot=@%s", role, app.bot.username)

    async def post_shutdown(app: AppType) -> None:
        if ops is not None:
            await ops.stop()
        await fetcher.__aexit__(None, None, None)
        await sender.aclose()
        await sender.bot.shutdown()

    app = (
        ApplicationBuilder()
        .token(settings.telegram.token)
        .base_url(settings.telegram.api_base_url)
        .base_file_url(file_base_url(settings.telegram.api_base_url))
        # Replies, tap answers and edits on aiohttp (bot/delivery/ptb_aiohttp.py says why).
        .request(AiohttpRequest(UPDATES_AT_ONCE))
        .context_types(ContextTypes(context=BotContext))
        # Replies share one pacer with the outbox sender, and a reply that
        # meets a 429 is retried, so a burst of commands is answered, not dropped.
        .rate_limiter(PacedRateLimiter(pacer))
        # Concurrent across chats; one chat's messages in the order they arrived.
        .concurrent_updates(ChatOrderedProcessor(UPDATES_AT_ONCE))
        .post_init(post_init)
        .application_class(BriefingApplication)
        .post_shutdown(post_shutdown)
        .build()
    )
    attach_services(app, services)
    if role in ("all", "bot"):
        handlers.register(app)
    else:
        app.add_error_handler(handlers.errors.on_error)  # job errors reach admins too
    return app


def run_bot(settings: Settings, engine: Engine, *, role: str = "all") -> int:
    """Run until SIGINT/SIGTERM: long polling, or a webhook server when configured.

    Roles: `bot` answers updates, `worker` refreshes, composes and sends,
    `all` does both (what a single SQLite process runs).
    """
    lock = worker_lock(engine) if role in ("all", "worker") else None
    presence = worker_presence(engine) if role in ("all", "worker") else None
    if lock is not None:
        lock.acquire()  # raises DatabaseError with a clear message
    try:
        if presence is not None:
            presence.acquire()
        return _run(settings, engine, role=role, presence=presence)
    finally:
        process_pool.shutdown_all()  # the parse and extraction workers stop with the bot
        if presence is not None:
            presence.release()
        if lock is not None:
            lock.release()


def _run(settings: Settings, engine: Engine, *, role: str, presence: WorkerPresence | None) -> int:
    limit_http_requests()  # before the webhook and ops servers exist
    sync_feeds(settings, engine)
    app = build_application(settings, engine, role=role, presence=presence)
    tg = settings.telegram
    if tg.webhook_url and role != "worker":  # after ops.listen is bound, before Telegram
        check_free("telegram.webhook_listen:webhook_port", tg.webhook_listen, tg.webhook_port)
    if role == "worker":
        # A worker answers no updates: it only runs the scheduler ticks.
        _run_worker(app)
        return int(app.bot_data.get("exit_code", 0))
    _check_token(app)
    if tg.webhook_url:
        app.run_webhook(
            listen=tg.webhook_listen,
            port=tg.webhook_port,
            url_path=tg.webhook_url.rsplit("/", 1)[-1] or "telegram",
            webhook_url=tg.webhook_url,
            secret_token=tg.webhook_secret,
            allowed_updates=handlers.ALLOWED_UPDATES,
        )
    else:
        app.run_polling(allowed_updates=handlers.ALLOWED_UPDATES)
    return int(app.bot_data.get("exit_code", 0))


def _check_token(app: AppType, stop: asyncio.Event | None = None) -> None:
    """Ask getMe now and then: a token refused while running ends the process (exit 2)."""
    assert app.job_queue is not None
    every = jobs.TOKEN_CHECK_EVERY
    app.job_queue.run_repeating(jobs.token_tick, every, first=every, name="token", data=stop)


def _run_worker(app: AppType) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        _check_token(app, stop)
        async with app:
            if app.post_init:
                await app.post_init(app)
            await app.start()
            await stop.wait()
            await app.stop()
        if app.post_shutdown:
            await app.post_shutdown(app)

    asyncio.run(main())
