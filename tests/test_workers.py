"""Several processes on PostgreSQL: shared outbox, leases, one briefing per due time."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.briefings.compose import compose_scheduled
from bot.settings import BriefingSettings, Settings, Topic
from bot.storage.db import open_database
from bot.storage.models import Outbox, utcnow
from tests.support.fake_telegram import FakeTelegram
from tests.support.outboxkit import enqueue_messages
from tests.support.process import run, start_bot, stop_bot, write_config
from tests.support.seed import seed_chats, seed_stories

pytestmark = pytest.mark.slow
MESSAGES = 5000


def config(tmp_path: Path, url: str) -> Path:
    return write_config(
        tmp_path, "[delivery]\nmessages_per_second = 3000\nlease_seconds = 4\n", database=url
    )


def _sending(engine: Engine) -> int:
    with Session(engine) as session:
        return sum(1 for s in session.exec(select(Outbox.status)).all() if s == "sending")


def start_worker(cfg: Path, tg: FakeTelegram, log: Path) -> subprocess.Popen[bytes]:
    return start_bot(cfg, tg, log, "--role", "worker")


def test_three_workers_deliver_each_message_once_despite_a_sigkill(
    tmp_path: Path, pg_url: str
) -> None:
    engine = open_database(pg_url)
    chats = list(range(80_000, 80_000 + MESSAGES))
    enqueue_messages(engine, chats, kind="broadcast", key="m", text="Message for {chat}")
    cfg = config(tmp_path, pg_url)
    log = tmp_path / "workers.log"
    with FakeTelegram(flood_limits=False) as tg:
        for chat_id in chats:
            tg.add_private_chat(chat_id)

        def sent() -> int:
            return tg.stats.by_method["sendMessage"]

        workers = [start_worker(cfg, tg, log) for _ in range(3)]
        try:
            tg.wait_for(lambda: sent() >= MESSAGES // 4, timeout=120)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
            with Session(engine) as session:
                in_flight = sum(
                    1 for s in session.exec(select(Outbox.status)).all() if s == "sending"
                )
            tg.wait_for(lambda: all(tg.messages(c) for c in chats), timeout=180)
            # The killed worker's rows stay `sending` until their lease lapses
            # (lease_seconds = 4), even when Telegram already took them: then a living
            # worker sends them again (the duplicates counted below) and marks them.
            # A fast round can have delivered every chat's message before that.
            tg.wait_for(lambda: _sending(engine) == 0, timeout=60)
            time.sleep(1.0)
        finally:
            for proc in workers[1:]:
                proc.send_signal(signal.SIGTERM)
            for proc in workers[1:]:
                proc.wait(timeout=30)
        counts = Counter({c: len(tg.messages(c)) for c in chats})
        assert not tg.server_errors
    assert all(counts[c] >= 1 for c in chats), "a message was lost"
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= in_flight, (duplicates, in_flight)
    with Session(engine) as session:
        assert Counter(session.exec(select(Outbox.status)).all()) == {"sent": MESSAGES}
    assert all(p.returncode == 0 for p in workers[1:]), log.read_text()[-3000:]
    engine.dispose()


def test_two_workers_ticking_one_due_briefing_compose_it_once(pg_url: str) -> None:
    engine = open_database(pg_url)
    now = utcnow()
    seed_stories(engine, now=now, count=3)
    seed_chats(engine, range(1, 201), now=now, due=now - timedelta(minutes=1))
    settings = Settings(
        topics=(Topic("world", "World"),),
        briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=3),
    )
    barrier = threading.Barrier(4)
    results = []

    def tick() -> None:
        barrier.wait()
        results.append(compose_scheduled(engine, settings, now=now, limit=1000))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.briefings for r in results) == 200
    with Session(engine) as session:
        per_chat = Counter(session.exec(select(Outbox.chat_id)).all())
    assert len(per_chat) == 200 and set(per_chat.values()) == {1}
    engine.dispose()


def test_second_worker_on_sqlite_is_refused(tmp_path: Path, tg: FakeTelegram) -> None:
    cfg = write_config(tmp_path, "", database="one.sqlite3")
    log = tmp_path / "w.log"
    first = start_worker(cfg, tg, log)
    try:
        # Its second getMe is python-telegram-bot's, made with the worker lock held.
        tg.wait_for(lambda: tg.stats.by_method["getMe"] >= 2, timeout=30)
        second = run(
            ["--config", str(cfg), "run", "--role", "worker"],
            tmp_path,
            TELEGRAM_BOT_TOKEN=tg.token,
            TELEGRAM_API_BASE_URL=tg.base_url,
        )
    finally:
        stop_bot(first, timeout=30)
    assert second.returncode == 3
    assert "SQLite allows one worker process" in second.stderr
    assert "Traceback" not in second.stderr
