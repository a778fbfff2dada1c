"""Run the real Application in-process against the fake Bot API server."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.refresh import Refresher
from bot.services.context import Services
from bot.settings import (
    BriefingSettings,
    DeliverySettings,
    FeedConfig,
    FetchSettings,
    Settings,
    TelegramSettings,
    Topic,
)
from bot.storage import feeds as feed_store
from bot.storage.db import session_scope
from handlers.app import build_application
from tests.support.fake_telegram import FakeTelegram

ARTICLES = Path(__file__).parents[1] / "testdata" / "articles"

TOPICS = (
    Topic("world", "World"),
    Topic("tech", "Technology", ("semiconductor", "chip")),
    Topic("science", "Science", ("climate",)),
)


def make_settings(
    tg: FakeTelegram,
    *,
    feeds: tuple[FeedConfig, ...] = (),
    admins: tuple[int, ...] = (),
    **overrides: Any,
) -> Settings:
    settings = Settings(
        telegram=TelegramSettings(token=tg.token, api_base_url=tg.base_url, admins=admins),
        fetch=FetchSettings(allow_private_networks=True, timeout_seconds=5.0),
        briefing=BriefingSettings(times=("08:00",), timezone="Europe/Berlin", max_items=10),
        delivery=DeliverySettings(messages_per_second=30.0),
        topics=TOPICS,
        feeds=feeds,
    )
    return dataclasses.replace(settings, **overrides)


async def refresh_once(engine: Engine, settings: Settings) -> None:
    """Load the configured feeds into the database, as a refresh tick would."""
    from bot.storage.models import utcnow

    with session_scope(engine) as session:
        feed_store.sync_config_feeds(session, settings.feeds, now=utcnow())
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=5)
    async with Fetcher(policy) as fetcher:
        await Refresher(engine=engine, fetcher=fetcher, settings=settings).refresh_all()


@asynccontextmanager
async def running_bot(
    settings: Settings, engine: Engine, *, role: str = "bot"
) -> AsyncIterator[Services]:
    """Start polling (and, for role all/worker, the ticks); stop cleanly afterwards."""
    app = build_application(settings, engine, role=role)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    assert app.updater is not None
    if role != "worker":
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield app.bot_data["services"]
    finally:
        if app.updater.running:
            await app.updater.stop()
        await app.stop()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        await app.shutdown()


async def wait_for(
    tg: FakeTelegram, target: int | Callable[[], Any], count: int = 1, timeout: float = 10.0
) -> Any:
    """Wait without blocking the event loop the bot runs on."""
    return await asyncio.to_thread(tg.wait_for, target, count, timeout=timeout)


async def say(
    tg: FakeTelegram, chat_id: int, text: str, *, expect: int = 1, from_user: int | None = None
) -> list[Any]:
    """Send a text as a user and wait for `expect` new bot messages in that chat."""
    before = len(tg.messages(chat_id))
    tg.send_text(chat_id, text, from_user=from_user)
    messages = await wait_for(tg, chat_id, before + expect)
    return messages[before:]


async def converse(
    tg: FakeTelegram, chat_id: int, script: list[tuple[str, tuple[str, ...]]]
) -> list[Any]:
    """Send each text in turn; assert its one reply contains every expected fragment.

    Returns the replies, for checks beyond "contains".
    """
    replies = []
    for text, fragments in script:
        [reply] = await say(tg, chat_id, text)
        missing = [f for f in fragments if f not in reply.text]
        assert not missing, f"{text!r} answered {reply.text!r}, without {missing}"
        replies.append(reply)
    return replies
