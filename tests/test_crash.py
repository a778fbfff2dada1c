"""kill -9 in the middle of sending 500 briefings, restart: everyone gets theirs, once."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.storage.db import open_database
from bot.storage.models import Outbox, utcnow
from tests.support.fake_telegram import FakeTelegram
from tests.support.process import start_bot, stop_bot, write_config
from tests.support.seed import seed_chats, seed_stories

pytestmark = pytest.mark.slow
CHATS = list(range(70_000, 70_500))


def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path,
        "[delivery]\nmessages_per_second = 120\n"
        '[briefing]\ntimes = ["08:00"]\ntimezone = "UTC"\nmax_items = 3\n'
        '[[topics]]\nslug = "world"\nname = "World"\n',
        database="crash.sqlite3",
    )


def delivered(tg: FakeTelegram) -> Counter[int]:
    return Counter({c: len(tg.messages(c)) for c in CHATS})


def test_sigkill_midway_then_restart_delivers_everything_once(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    engine = open_database(f"sqlite:///{tmp_path / 'crash.sqlite3'}")
    now = utcnow()
    seed_stories(engine, now=now, count=3)
    seed_chats(engine, CHATS, now=now, due=now - timedelta(minutes=1))
    log = tmp_path / "bot.log"
    kill_after = random.Random().randint(20, 400)  # messages sent before the kill
    with FakeTelegram(flood_limits=False) as tg:
        for chat_id in CHATS:
            tg.add_private_chat(chat_id)
        proc = start_bot(cfg, tg, log)
        try:
            tg.wait_for(lambda: sum(delivered(tg).values()) >= kill_after, timeout=60)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        with Session(engine) as session:
            in_flight = sum(1 for s in session.exec(select(Outbox.status)).all() if s == "sending")
        before_restart = sum(delivered(tg).values())
        assert before_restart < len(CHATS), "the kill came too late to test anything"

        proc = start_bot(cfg, tg, log)
        try:
            tg.wait_for(lambda: all(delivered(tg).values()), timeout=90)
            time.sleep(1.5)  # anything extra would arrive now
        finally:
            stop_bot(proc)
        counts = delivered(tg)
    assert all(counts[c] >= 1 for c in CHATS), "a chat lost its briefing"
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= in_flight, (duplicates, in_flight)
    with Session(engine) as session:
        statuses = Counter(session.exec(select(Outbox.status)).all())
    assert statuses == {"sent": len(CHATS)}
    assert proc.returncode == 0, log.read_text()[-3000:]
