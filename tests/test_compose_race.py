"""Several workers composing instant messages for the same due chats at once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlmodel import Session, select

from bot.briefings.compose import ComposeStats, compose_instant
from bot.settings import BriefingSettings, Settings, Topic
from bot.storage.db import open_database
from bot.storage.models import Delivery, Outbox, utcnow
from tests.support.seed import seed_chats, seed_stories

CHATS = 120
STORIES = 3
WORKERS = 4


def test_concurrent_instant_ticks_compose_each_chat_once_without_errors(pg_url: str) -> None:
    engine = open_database(pg_url)
    now = utcnow()
    seed_stories(engine, now=now, count=STORIES)
    seed_chats(engine, range(1, CHATS + 1), now=now, due=now - timedelta(seconds=5), mode="instant")
    settings = Settings(
        topics=(Topic("world", "World"),),
        briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=STORIES),
    )
    barrier = threading.Barrier(WORKERS)
    results: list[ComposeStats] = []
    errors: list[BaseException] = []

    def tick() -> None:
        barrier.wait()
        for _ in range(3):  # several rounds widen the window for a collision
            try:
                results.append(compose_instant(engine, settings, now=now))
            except Exception as exc:  # what the scheduler would report to the admins
                errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r.briefings for r in results) == CHATS
    with Session(engine) as session:
        per_chat = Counter(session.exec(select(Outbox.chat_id)).all())
        deliveries = Counter(session.exec(select(Delivery.chat_id)).all())
    assert len(per_chat) == CHATS and set(per_chat.values()) == {1}
    assert len(deliveries) == CHATS and set(deliveries.values()) == {STORIES}
    engine.dispose()


def test_instant_chat_with_nothing_new_stays_due(pg_url: str) -> None:
    engine = open_database(pg_url)
    now = utcnow()
    due = now - timedelta(seconds=5)
    seed_chats(engine, [7], now=now, due=due, mode="instant")
    settings = Settings(topics=(Topic("world", "World"),))
    stats = compose_instant(engine, settings, now=now)
    assert stats.briefings == 0
    seed_stories(engine, now=now, count=1)
    stats = compose_instant(engine, settings, now=now)
    assert stats.briefings == 1 and stats.messages == 1
    engine.dispose()
