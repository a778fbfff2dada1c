"""Each story once, as a subscriber sees it across what happens to a chat between
deliveries: its group becoming a supergroup, a pause and a resume, Telegram down for a while.

Through the real `python -m bot run` process where the path is the process's own (ticks,
compose, sender), against the fake Bot API; the database is seeded as earlier refreshes
and commands left it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.storage.db import open_database
from bot.storage.models import Chat, Outbox, table_of, utcnow
from tests.support.fake_telegram import FakeTelegram, Fault
from tests.support.outboxkit import enqueue_messages, open_bot, statuses
from tests.support.process import start_bot, stop_bot, write_config
from tests.support.seed import seed_chats, seed_headlines

pytestmark = pytest.mark.slow

CONFIG = (
    "[delivery]\nmessages_per_second = 30\n"
    '[briefing]\ntimes = ["08:00"]\ntimezone = "UTC"\n'
    '[dedup]\nmethod = "lexical"\n'
    '[[topics]]\nslug = "world"\nname = "World"\n'
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    """The bot's config and its (migrated) SQLite database, for seeding before the start."""
    config = write_config(tmp_path, CONFIG, database="bot.sqlite3")
    engine = open_database(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    yield config, engine
    engine.dispose()


def due_now(engine: Engine, chat_id: int) -> None:
    """The chat's next instant batch is due now (as a minute after the last one)."""
    chat = table_of(Chat)
    with engine.begin() as conn:
        conn.execute(sa.update(chat).where(chat.c.id == chat_id).values(next_briefing_at=utcnow()))


def is_active(engine: Engine, chat_id: int) -> bool:
    chat = table_of(Chat)
    with engine.connect() as conn:
        return bool(conn.execute(sa.select(chat.c.active).where(chat.c.id == chat_id)).scalar())


def outbox_rows(engine: Engine, chat_id: int) -> list[tuple[str, str | None]]:
    """The chat's outbox rows: (status, last error)."""
    row = table_of(Outbox)
    query = sa.select(row.c.status, row.c.error).where(row.c.chat_id == chat_id)
    with engine.connect() as conn:
        return [(status, error) for status, error in conn.execute(query.order_by(row.c.id))]


def headlines_in(tg: FakeTelegram, chat_id: int, names: list[str]) -> dict[str, int]:
    """How many of the chat's messages name each headline."""
    texts = tg.texts(chat_id)
    return {name: sum(name in text for text in texts) for name in names}


def test_a_group_that_became_a_supergroup_is_not_sent_its_stories_again(
    tmp_path: Path, db: tuple[Path, Engine], tg: FakeTelegram
) -> None:
    """Instant mode: the supergroup's next batch holds only the new story, not the day's
    stories the group was already sent (the delivery history moves with the chat)."""
    config, engine = db
    group, supergroup = -52_000, -(10**12) - 52_000
    now = utcnow()
    seed_chats(engine, [group], now=now, due=now - timedelta(minutes=1), mode="instant")
    seed_headlines(engine, ["Alpha harbour reopens", "Bravo bridge closes"], now=now)
    tg.add_group(group)
    log = tmp_path / "bot.log"
    proc = start_bot(config, tg, log)
    try:
        tg.wait_for(group, 1, timeout=60)
        # The group becomes a supergroup; the bot learns it from its next send.
        tg.migrate(group, supergroup, notify=False)
        seed_headlines(engine, ["Charlie tram line opens"], now=utcnow())
        due_now(engine, group)
        tg.wait_for(supergroup, 1, timeout=60)
        seed_headlines(engine, ["Delta ferry strike ends"], now=utcnow())
        due_now(engine, supergroup)
        tg.wait_for(lambda: "Delta" in " ".join(tg.texts(supergroup)), timeout=60)
    finally:
        stop_bot(proc)
    names = ["Alpha", "Bravo", "Charlie", "Delta"]
    seen = headlines_in(tg, group, names)
    later = headlines_in(tg, supergroup, names)
    assert seen == {"Alpha": 1, "Bravo": 1, "Charlie": 0, "Delta": 0}, seen
    assert later == {"Alpha": 0, "Bravo": 0, "Charlie": 1, "Delta": 1}, tg.texts(supergroup)
    text = log.read_text()
    assert f"chat migrated chat_id={group} new_chat_id={supergroup}" in text
    assert "Traceback" not in text


def test_an_instant_chat_resumed_gets_the_news_from_then_on_not_the_pauses_backlog(
    tmp_path: Path, db: tuple[Path, Engine], tg: FakeTelegram
) -> None:
    """/stop for hours (or a block), then /start (or an unblock): the next instant batch is
    the new story, not ten of the pause's stories a minute until a day of them is through."""
    config, engine = db
    stopped, blocked = 52_101, 52_102
    now = utcnow()
    seed_chats(engine, [stopped, blocked], now=now, due=now, mode="instant")
    chat = table_of(Chat)
    with engine.begin() as conn:
        conn.execute(
            sa.update(chat)
            .where(chat.c.id.in_([stopped, blocked]))
            .values(instant_since=now - timedelta(hours=6))
        )
        conn.execute(sa.update(chat).where(chat.c.id == stopped).values(stopped=True))
        conn.execute(sa.update(chat).where(chat.c.id == blocked).values(active=False))
    backlog = [f"Backlog story {n} while paused" for n in range(25)]
    seed_headlines(engine, backlog, now=now - timedelta(minutes=5))
    tg.add_private_chat(stopped)
    tg.add_private_chat(blocked)
    tg.block(blocked)
    log = tmp_path / "bot.log"
    proc = start_bot(config, tg, log)
    try:
        tg.send_text(stopped, "/start")
        tg.wait_for(lambda: any("resumed" in t for t in tg.texts(stopped)), timeout=60)
        tg.member_update(blocked, "member")  # the user unblocked the bot
        tg.wait_for(lambda: is_active(engine, blocked), timeout=30)
        # First seen now (seed_headlines dates a story a minute before `now`).
        seed_headlines(engine, ["Fresh story after the pause"], now=utcnow() + timedelta(minutes=1))
        for chat_id in (stopped, blocked):
            tg.wait_for(lambda c=chat_id: "Fresh story" in " ".join(tg.texts(c)), timeout=90)
    finally:
        stop_bot(proc)
    for chat_id in (stopped, blocked):
        assert not any("Backlog story" in t for t in tg.texts(chat_id)), tg.texts(chat_id)
    assert "Traceback" not in log.read_text()


async def test_a_briefing_outlasts_minutes_of_telegram_failing_and_arrives_once(
    sqlite_engine: Engine, tg: FakeTelegram
) -> None:
    """Telegram answers 502 (or the network is gone) for three minutes at 08:00: the
    briefing goes out when it is back, once; only a message that has failed for about an
    hour is given up (failed, never sent twice)."""
    reader, poison = 52_201, 52_202
    for chat_id in (reader, poison):
        tg.add_private_chat(chat_id)
    start = utcnow()
    later = [timedelta()]  # the sender's clock runs on this much past the start

    def clock() -> datetime:
        return start + later[0]

    def outage(method: str, params: dict[str, Any]) -> Fault | None:
        down = later[0] < timedelta(minutes=3) or params.get("chat_id") == poison
        return Fault(502, "Bad Gateway") if method == "sendMessage" and down else None

    tg.set_fault_hook(outage)
    enqueue_messages(sqlite_engine, [reader, poison], kind="briefing", key="b", text="Briefing")
    async with open_bot(tg, pool_size=8) as bot:
        sender = Sender(engine=sqlite_engine, bot=bot, pacer=Pacer(per_second=30.0), clock=clock)
        gave_up_at = None
        while later[0] < timedelta(hours=3) and gave_up_at is None:
            await sender.deliver_due(budget_seconds=1)
            if statuses(sqlite_engine)["failed"]:
                gave_up_at = later[0]
            later[0] += timedelta(seconds=15)  # a deliver tick every 15 s of the outage
        await sender.aclose()
    assert tg.texts(reader) == ["Briefing"]
    assert tg.texts(poison) == []
    assert gave_up_at is not None and gave_up_at >= timedelta(minutes=55), gave_up_at
    assert statuses(sqlite_engine) == {"sent": 1, "failed": 1}


@pytest.mark.parametrize(
    ("command", "answer"),
    [("/stop", "⏸ Stopped"), ("/schedule off", "Scheduled briefings are off")],
)
def test_stop_while_the_briefing_waits_to_be_sent_means_it_never_arrives(
    tmp_path: Path, db: tuple[Path, Engine], tg: FakeTelegram, command: str, answer: str
) -> None:
    """The 08:00 briefing is queued (Telegram failed it once; in a big round it may wait its
    turn for long): /stop answers "no briefings until /start" (/schedule off, "briefings
    are off"), and none comes after it."""
    config, engine = db
    reader = 52_301
    now = utcnow()
    seed_chats(engine, [reader], now=now, due=now - timedelta(minutes=1))
    seed_headlines(engine, ["Morning headline"], now=now)
    tg.add_private_chat(reader)
    answered = []

    def down_until_answered(method: str, params: dict[str, Any]) -> Fault | None:
        if method != "sendMessage" or params.get("chat_id") != reader:
            return None
        if "Morning headline" not in str(params.get("text", "")):
            answered.append(True)  # the answer to the command goes through
            return None
        return None if answered else Fault(502, "Bad Gateway")

    tg.set_fault_hook(down_until_answered)
    log = tmp_path / "bot.log"
    proc = start_bot(config, tg, log)
    try:
        failed_once = [("pending", "NetworkError: Bad Gateway")]
        tg.wait_for(lambda: outbox_rows(engine, reader) == failed_once, timeout=60)
        tg.send_text(reader, command)
        tg.wait_for(reader, 1, timeout=30)
        # The briefing's next try comes within seconds: it is cancelled, not sent.
        tg.wait_for(lambda: outbox_rows(engine, reader)[0][0] in ("sent", "cancelled"), timeout=60)
    finally:
        stop_bot(proc)
    texts = tg.texts(reader)
    assert len(texts) == 1 and answer in texts[0], texts
    assert "Traceback" not in log.read_text()
