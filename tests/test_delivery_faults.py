"""Telegram's faults as a subscriber meets them, through the real worker process: each
message once, on time, none lost, one chat's trouble not held against the others."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.delivery.pacing import PacedRateLimiter, Pacer
from bot.delivery.sender import Sender
from bot.storage import outbox
from bot.storage.db import open_database
from bot.storage.models import Outbox, utcnow
from tests.conftest import postgres_url
from tests.support.fake_telegram import FakeTelegram, Fault
from tests.support.outboxkit import enqueue_messages, open_bot, statuses
from tests.support.process import start_bot, stop_bot, write_config
from tests.support.seed import seed_chats, seed_stories

CHATS = list(range(41_000, 41_040))
HELD = CHATS[0]


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with open_bot(tg, pool_size=64) as b:
        yield b


def worker(tmp_path: Path, tg: FakeTelegram, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    cfg = write_config(tmp_path, "[delivery]\nmessages_per_second = 30\n", database=name)
    log = tmp_path / "worker.log"
    return start_bot(cfg, tg, log, "--role", "worker"), log


def flooded_worker(
    tmp_path: Path, tg: FakeTelegram, name: str, waits: dict[int, int]
) -> tuple[Engine, subprocess.Popen[bytes], Path]:
    """A worker sending one broadcast to CHATS, each chat in `waits` meeting one 429."""
    engine = open_database(f"sqlite:///{tmp_path / name}")
    enqueue_messages(engine, CHATS, kind="broadcast", key="b", text="News for {chat}")
    for chat_id in CHATS:
        tg.add_private_chat(chat_id)
    tg.set_fault_hook(flood_once(waits))
    return engine, *worker(tmp_path, tg, name)


def flood_once(chats: dict[int, int]) -> Any:
    """A fault hook: each chat in `chats` meets one 429 with its retry_after, then none."""
    left = dict(chats)

    def hook(method: str, params: dict[str, Any]) -> Fault | None:
        seconds = left.pop(params.get("chat_id", 0), None) if method == "sendMessage" else None
        return None if seconds is None else Fault(429, None, seconds)

    return hook


def not_before(engine: Engine, chat_id: int) -> list[Any]:
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(col(Outbox.chat_id) == chat_id)).all()
        return [(r.status, r.not_before) for r in rows]


def test_an_hours_flood_wait_for_one_chat_holds_that_chat_alone(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    engine, proc, log = flooded_worker(tmp_path, tg, "flood.sqlite3", {HELD: 3600})
    try:
        tg.wait_for(lambda: all(tg.messages(c) for c in CHATS[1:]), timeout=60)
        # A message queued for the held chat while it waits goes after the first, then.
        enqueue_messages(engine, [HELD], kind="broadcast", key="c", text="More for {chat}")
        tg.wait_for(lambda: len(not_before(engine, HELD)) == 2, timeout=10)

        def both_deferred() -> bool:  # a new row is pending at once: wait for a deliver tick
            hold_end = utcnow() + timedelta(minutes=55)
            rows = not_before(engine, HELD)
            return all(s == "pending" and at > hold_end for s, at in rows)

        with contextlib.suppress(TimeoutError):  # the assertions below say what is wrong
            tg.wait_for(both_deferred, timeout=60)
    finally:
        stop_bot(proc)
    assert tg.messages(HELD) == []
    assert [c["chat_id"] for c in tg.calls("sendMessage")].count(HELD) == 1
    later = utcnow() + timedelta(minutes=55)
    assert all(at > later for _, at in not_before(engine, HELD)), "sent inside the flood wait"
    with Session(engine) as session:
        assert outbox.hold_until(session) is None  # nobody else was held
    assert statuses(engine) == {"sent": len(CHATS) - 1, "pending": 2}
    lines = log.read_text()
    assert "flood limit chat_id=41000 retry_after=3600.0 holds=chat" in lines
    assert "Traceback" not in lines


async def test_long_flood_waits_for_two_chats_hold_the_whole_bot(
    sqlite_engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    # The bot-wide limit shows as a long wait wherever the bot sends next.
    for chat_id in CHATS:
        tg.add_private_chat(chat_id)
    enqueue_messages(sqlite_engine, CHATS, kind="broadcast", key="b", text="News for {chat}")
    tg.set_fault_hook(flood_once({CHATS[0]: 3600, CHATS[1]: 3599}))
    sender = Sender(engine=sqlite_engine, bot=bot, pacer=Pacer(per_second=1.0))
    round_ = asyncio.create_task(sender.deliver_due(budget_seconds=5))
    await tg.await_for(lambda: tg.stats.rejected_429 == 2, timeout=30)
    sender.stop()  # the round waits out the hold otherwise
    stats = await round_
    assert stats.sent == 0 and stats.retried == len(CHATS)  # all back in the queue, unsent
    with Session(sqlite_engine) as session:
        held = outbox.hold_until(session)
    assert held is not None and held > utcnow() + timedelta(minutes=55)
    await sender.aclose()


def test_sigterm_during_a_flood_hold_stops_at_once_and_loses_nothing(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    # A bot-wide wait: everyone waits 50 s.
    engine, proc, log = flooded_worker(tmp_path, tg, "term.sqlite3", {HELD: 50})
    try:
        tg.wait_for(lambda: tg.stats.rejected_429 == 1, timeout=60)
    finally:
        stop_bot(proc, timeout=20)  # SIGKILL after 20 s, well inside the hold
    assert proc.returncode == 0, "SIGTERM did not stop the worker during the hold"
    sent = sum(bool(tg.messages(c)) for c in CHATS)
    assert statuses(engine) == {"pending": len(CHATS) - sent} | ({"sent": sent} if sent else {})
    assert "Traceback" not in log.read_text()


def test_every_kind_of_fault_at_once_each_message_once_but_lost_replies(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    """A round meets 502 bursts, replies lost after Telegram applied the call, a blocked,
    a deactivated and a migrated chat and one malformed message: the rest arrive once;
    a lost reply is the one way to a repeat (the Bot API has no idempotency key)."""
    engine = open_database(f"sqlite:///{tmp_path / 'mixed.sqlite3'}")
    group, supergroup, blocked, gone, bad = -41_500, -(10**12) - 41_500, *CHATS[:3]
    chats = [*CHATS, group]
    seed_chats(engine, chats, now=utcnow(), due=None)
    for chat_id in CHATS:
        tg.add_private_chat(chat_id)
    tg.add_group(group)
    good = [c for c in CHATS if c not in (blocked, gone, bad)]
    enqueue_messages(engine, good, kind="broadcast", key="b", text="News for {chat}")
    enqueue_messages(engine, [group, blocked, gone], kind="broadcast", key="b", text="News")
    enqueue_messages(engine, [bad], kind="broadcast", key="b", text="<p>raw feed html</p>")
    tg.block(blocked)
    tg.deactivate(gone)
    tg.migrate(group, supergroup, notify=False)
    tg.fail_next("sendMessage", 6, status=502)
    tg.lose_replies("sendMessage", 3)
    proc, log = worker(tmp_path, tg, "mixed.sqlite3")
    try:
        tg.wait_for(lambda: all(tg.messages(c) for c in [*good, supergroup]), timeout=90)
        tg.wait_for(lambda: statuses(engine)["sent"] == len(good) + 1, timeout=30)
        time.sleep(1.5)  # a repeat beyond the lost replies would arrive now
    finally:
        stop_bot(proc)
    counts = {c: len(tg.messages(c)) for c in [*good, supergroup]}
    assert tg.lost_replies == 3
    assert sum(counts.values()) - len(counts) == tg.lost_replies, counts
    assert (tg.messages(blocked), tg.messages(gone), tg.messages(bad)) == ([], [], [])
    assert statuses(engine) == {"sent": len(good) + 1, "cancelled": 2, "failed": 1}
    text = log.read_text()
    assert "Traceback" not in text
    assert f"chat migrated chat_id={group} new_chat_id={supergroup}" in text
    assert "ERROR bot.delivery.sender: message rejected row_id=" in text
    assert text.count("ERROR") == 1
    assert text.count("INFO bot.delivery.sender: chat unreachable") == 2


@pytest.fixture
def own_pg() -> Iterator[tuple[str, sa.Engine]]:
    """A database of its own (its connections may be ended without touching other
    tests'), and an admin engine on the server's default database."""
    base = sa.engine.make_url(postgres_url())
    name = f"faults_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False), admin
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_ending_the_workers_connections_mid_round_loses_and_repeats_nothing(
    tmp_path: Path, own_pg: tuple[str, sa.Engine]
) -> None:
    """What a PostgreSQL restart or failover does to the worker's open connections."""
    url, admin = own_pg
    engine = open_database(url)
    chats = list(range(42_000, 44_000))
    enqueue_messages(engine, chats, kind="broadcast", key="b", text="News for {chat}")
    cfg = write_config(tmp_path, "[delivery]\nmessages_per_second = 400\n", database=url)
    log = tmp_path / "worker.log"
    ended = 0
    with FakeTelegram(flood_limits=False) as tg:
        for chat_id in chats:
            tg.add_private_chat(chat_id)
        proc = start_bot(cfg, tg, log, "--role", "worker")
        try:
            for share in (5, 2):
                at = len(chats) // share
                tg.wait_for(lambda n=at: tg.stats.by_method["sendMessage"] >= n, timeout=120)
                with admin.connect() as conn:
                    ended += conn.execute(
                        sa.text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE datname = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": sa.engine.make_url(url).database},
                    ).scalar_one()
            tg.wait_for(lambda: all(tg.messages(c) for c in chats), timeout=120)
            tg.wait_for(lambda: statuses(engine)["sent"] == len(chats), timeout=30)
            time.sleep(1.0)
        finally:
            stop_bot(proc)
            engine.dispose()
        counts = [len(tg.messages(c)) for c in chats]
    assert ended > 0 and proc.returncode == 0
    assert set(counts) == {1}, "a message was lost or repeated"
    text = log.read_text()
    assert "Traceback" not in text
    # Each failed claim, mark or renewal is one WARNING line of the sender's; no ERROR.
    # psycopg may add its own line for the same lost connection, when it was cut in the
    # middle of a pipelined batch ("error ignored terminating <psycopg.Pipeline [BAD]>"),
    # and the live-workers lock says when it joins again on a new connection.
    ours = (
        "WARNING bot.delivery.",
        "WARNING psycopg: error ignored terminating",
        "WARNING bot.storage.presence: workers' lock connection lost",
    )
    warnings = [line for line in text.splitlines() if " WARNING " in line]
    assert all(any(w in line for w in ours) for line in warnings), text[-3000:]
    assert " ERROR " not in text


async def test_a_reply_meeting_a_chats_hour_long_wait_holds_no_other_reply(
    tg: FakeTelegram,
) -> None:
    pacer = Pacer(per_second=30.0)
    request = HTTPXRequest(connection_pool_size=8)
    async with ExtBot(
        tg.token, base_url=tg.base_url, request=request, rate_limiter=PacedRateLimiter(pacer)
    ) as bot:
        for chat_id in CHATS[:2]:
            tg.add_private_chat(chat_id)
        tg.fail_next("sendMessage", 1, status=429, retry_after=3600)
        with pytest.raises(RetryAfter):
            await asyncio.wait_for(bot.send_message(CHATS[0], "Slow down"), timeout=20)
        await asyncio.wait_for(bot.send_message(CHATS[1], "Welcome"), timeout=20)
    assert tg.texts(CHATS[1]) == ["Welcome"]
    assert pacer.hold_until < time.monotonic()


@pytest.mark.slow
def test_two_broadcasts_confirmed_while_a_briefing_round_goes_out_arrive_once_in_order(
    tmp_path: Path,
) -> None:
    admin, chats = 41_999, list(range(45_000, 45_900))
    cfg = write_config(
        tmp_path,
        f"[telegram]\nadmins = [{admin}]\n[delivery]\nmessages_per_second = 60\n"
        '[briefing]\ntimes = ["08:00"]\ntimezone = "UTC"\nmax_items = 3\n'
        '[[topics]]\nslug = "world"\nname = "World"\n',
        database="round.sqlite3",
    )
    engine = open_database(f"sqlite:///{tmp_path / 'round.sqlite3'}")
    now = utcnow()
    seed_stories(engine, now=now, count=3)
    seed_chats(engine, chats, now=now, due=now - timedelta(minutes=1))
    log = tmp_path / "bot.log"
    with FakeTelegram(flood_limits=False) as tg:
        for chat_id in [*chats, admin]:
            tg.add_private_chat(chat_id)
        proc = start_bot(cfg, tg, log)
        try:
            tg.wait_for(lambda: any(tg.messages(c) for c in chats), timeout=60)
            for word in ("First", "Second"):
                tg.send_text(admin, f"/broadcast {word} broadcast")
                control = tg.wait_for(admin, len(tg.messages(admin)) + 2, timeout=60)[-1]
                tg.press_button(admin, control.message_id, control.buttons[0]["callback_data"])
            tg.wait_for(lambda: all(len(tg.messages(c)) >= 3 for c in chats), timeout=120)
            tg.wait_for(lambda: "done" in tg.messages(admin)[-1].text, timeout=30)
            time.sleep(1.0)  # a repeat would arrive now
        finally:
            stop_bot(proc)
        got = {c: [t.split()[0] for t in tg.texts(c)] for c in chats}
        reports = [m.text for m in tg.messages(admin) if m.text.startswith("📣")]
    # Each once; the second broadcast after the first; a briefing not yet sent when
    # they were confirmed goes after them (broadcasts go first).
    orders = {tuple(words) for words in got.values()}
    assert orders <= {("Your", "First", "Second"), ("First", "Second", "Your")}, orders
    assert len(reports) == 2 and all("Sent 900 / 900 · blocked 0 · failed 0" in r for r in reports)
    assert "Traceback" not in log.read_text()


async def test_long_flood_waits_for_two_chats_minutes_apart_hold_each_chat_alone(
    sqlite_engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    first, second, bystander = CHATS[:3]
    for chat_id in CHATS[:3]:
        tg.add_private_chat(chat_id)
    tg.set_fault_hook(flood_once({first: 3600, second: 3600}))
    later = timedelta()
    sender = Sender(
        engine=sqlite_engine,
        bot=bot,
        pacer=Pacer(per_second=30.0),
        clock=lambda: utcnow() + later,
        lease=timedelta(hours=2),
    )
    enqueue_messages(sqlite_engine, [first], kind="broadcast", key="b", text="News")
    await sender.deliver_due(budget_seconds=5)
    later = timedelta(minutes=2)
    enqueue_messages(sqlite_engine, [second, bystander], kind="broadcast", key="b", text="News")
    stats = await sender.deliver_due(budget_seconds=5)
    await sender.aclose()
    assert (stats.sent, stats.retried) == (1, 1)
    assert tg.texts(bystander) == ["News"] and tg.stats.rejected_429 == 2
    with Session(sqlite_engine) as session:
        assert outbox.hold_until(session) is None


async def test_a_chats_long_flood_wait_outlives_a_restart(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    held, other = CHATS[:2]
    for chat_id in CHATS[:2]:
        tg.add_private_chat(chat_id)
    tg.set_fault_hook(flood_once({held: 3600}))
    enqueue_messages(engine, [held], kind="broadcast", key="b", text="News")
    first = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=30.0))
    await first.deliver_due(budget_seconds=5)
    await first.aclose()  # the process ends; a new one starts and more news comes
    enqueue_messages(engine, [held, other], kind="broadcast", key="c", text="More")
    restarted = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=30.0))
    stats = await asyncio.wait_for(restarted.deliver_due(budget_seconds=5), timeout=20)
    await restarted.aclose()
    assert stats.sent == 1 and tg.texts(other) == ["More"]
    assert [c["chat_id"] for c in tg.calls("sendMessage")].count(held) == 1
    later = utcnow() + timedelta(minutes=55)
    assert [s for s, at in not_before(engine, held) if at > later] == ["pending", "pending"]


async def test_a_stop_that_cannot_write_its_marks_says_which_messages_will_repeat(
    sqlite_engine: Engine, tg: FakeTelegram, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    tg.add_private_chat(HELD)
    enqueue_messages(sqlite_engine, [HELD], kind="broadcast", key="b", text="News")
    impatient = sa.create_engine(
        sqlite_engine.url, connect_args={"check_same_thread": False, "timeout": 0.2}
    )
    locker = sqlite3.connect(str(sqlite_engine.url.database), check_same_thread=False)
    locker.isolation_level = None

    def lock_on_send(method: str, params: dict[str, Any]) -> None:
        if method == "sendMessage" and not locker.in_transaction:
            locker.execute("BEGIN IMMEDIATE")  # the disk or the database is gone now

    tg.set_fault_hook(lock_on_send)
    # A lease long enough that a loaded machine still sends before its 1 s margin; the
    # round then waits half of it for the marks that the lock keeps unwritten.
    sender = Sender(
        engine=impatient, bot=bot, pacer=Pacer(per_second=30.0), lease=timedelta(seconds=4)
    )
    assert (await sender.deliver_due(budget_seconds=0.5)).sent == 1
    await sender.aclose()
    locker.execute("ROLLBACK")
    locker.close()
    impatient.dispose()
    [line] = [r.getMessage() for r in caplog.records if "at stop" in r.getMessage()]
    assert line.startswith("outbox marks not written at stop") and "row_ids=[1]" in line
