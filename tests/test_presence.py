"""PostgreSQL's live-workers lock: a worker that starts alone hands back a killed worker's
claims at once; with another worker alive it leaves them to their leases."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.services.startup import hand_back_claims
from bot.storage import outbox
from bot.storage.db import open_database, session_scope
from bot.storage.models import utcnow
from bot.storage.presence import WORKERS_LOCK_CLASS, WorkerPresence
from tests.conftest import postgres_url, schema_url
from tests.support.fake_telegram import FakeTelegram
from tests.support.outboxkit import enqueue_messages, statuses
from tests.support.process import start_bot, stop_bot, write_config

RELEASED = "outbox rows in flight at last stop, sending again"


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = open_database(pg_url)
    yield engine
    engine.dispose()


def _locks(engine: Engine) -> list[tuple[int, str]]:
    """(backend, mode) of each hold on this schema's live-workers lock."""
    query = sa.text(
        "SELECT pid, mode FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = :cls AND objid::int = hashtext(current_schema())"
    )
    with engine.connect() as conn:
        return [(row[0], row[1]) for row in conn.execute(query, {"cls": WORKERS_LOCK_CLASS})]


def _holders(engine: Engine) -> list[int]:
    """Backends holding this schema's live-workers lock (any mode)."""
    return sorted({pid for pid, _ in _locks(engine)})


def _end_sessions(engine: Engine) -> None:
    """The server ends the sessions holding the lock (as a restart or failover would)."""
    for pid in _holders(engine):
        with engine.connect() as conn:
            conn.execute(sa.select(sa.func.pg_terminate_backend(pid)))
    deadline = time.monotonic() + 10
    while _holders(engine) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_worker_is_alone_only_when_no_other_worker_lives(pg_engine: Engine) -> None:
    first = WorkerPresence(pg_engine)
    assert first.acquire() is True
    first.settle()
    second = WorkerPresence(pg_engine)
    assert second.acquire() is False  # the first lives
    first.release()
    third = WorkerPresence(pg_engine)
    assert third.acquire() is False  # the second still lives
    second.release()
    third.release()
    fourth = WorkerPresence(pg_engine)
    assert fourth.acquire() is True  # everyone before it has stopped
    fourth.release()
    assert _holders(pg_engine) == []


def test_workers_of_another_schema_do_not_count(pg_engine: Engine) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    other = open_database(schema_url(postgres_url(), schema))
    try:
        theirs = WorkerPresence(other)
        assert theirs.acquire() is True
        theirs.settle()
        ours = WorkerPresence(pg_engine)
        assert ours.acquire() is True
        ours.release()
        theirs.release()
    finally:
        other.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_a_worker_whose_lock_connection_broke_rejoins_and_counts_again(
    pg_engine: Engine,
) -> None:
    living = WorkerPresence(pg_engine)
    living.acquire()
    living.settle()
    _end_sessions(pg_engine)
    assert living.keep() is True  # noticed, and joined again on a new connection
    assert living.keep() is True
    assert len(_holders(pg_engine)) == 1
    starter = WorkerPresence(pg_engine)
    assert starter.acquire() is False
    starter.release()
    living.release()


def test_a_connection_lost_before_settling_does_not_stop_the_start(pg_engine: Engine) -> None:
    # Found by CI: the database ended the worker's sessions (a failover) between joining
    # and settling, and the start died with a traceback.
    starting = WorkerPresence(pg_engine)
    assert starting.acquire() is True
    _end_sessions(pg_engine)
    starting.settle()  # the session, and both holds, are gone already
    assert starting.keep() is True
    assert [mode for _, mode in _locks(pg_engine)] == ["ShareLock"]
    starting.release()


def test_a_start_that_cannot_hand_back_claims_goes_on_and_lets_others_start(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A database that takes no writes (a standby after a failover): the rows wait for their
    # leases, the start goes on, and the exclusive hold is let go all the same.
    open_database(pg_url).dispose()  # migrated
    schema = sa.engine.make_url(pg_url).query["options"].split("=", 1)[1]
    options = f"-csearch_path={schema} -cdefault_transaction_read_only=on"
    read_only = sa.create_engine(pg_url, connect_args={"options": options})
    try:
        starting = WorkerPresence(read_only)
        assert starting.acquire() is True
        assert hand_back_claims(read_only, starting) == 0
        assert "could not hand back the outbox rows" in caplog.text
        assert [mode for _, mode in _locks(read_only)] == ["ShareLock"]
        starting.release()
    finally:
        read_only.dispose()


def test_a_lone_start_forgets_the_dead_senders_heartbeats(engine: Engine) -> None:
    # A dead sender's heartbeat would count as a live one for HEARTBEAT_TTL and halve
    # the new sender's share of the rate.
    now = utcnow()
    with session_scope(engine) as session:
        assert outbox.heartbeat(session, "dead", now=now) == 1
    with session_scope(engine) as session:
        outbox.release_claims(session)
    with session_scope(engine) as session:
        assert outbox.heartbeat(session, "new", now=now) == 1


def _config(tmp_path: Path, url: str, per_second: int, lease: int = 60) -> Path:
    # A killed worker's claims used to wait out their lease (a minute by default).
    return write_config(
        tmp_path,
        f"[delivery]\nmessages_per_second = {per_second}\nlease_seconds = {lease}\n",
        database=url,
    )


def _sending(engine: Engine) -> int:
    return statuses(engine)["sending"]


@contextmanager
def _queued(pg_url: str, chats: list[int]) -> Iterator[tuple[Engine, FakeTelegram]]:
    """A broadcast queued for `chats`, and the fake Bot API where they are private chats."""
    engine = open_database(pg_url)
    enqueue_messages(engine, chats, kind="broadcast", key="k", text="News for {chat}")
    try:
        with FakeTelegram(flood_limits=False) as tg:
            for chat_id in chats:
                tg.add_private_chat(chat_id)
            yield engine, tg
    finally:
        engine.dispose()


def _wait_all_sent(tg: FakeTelegram, engine: Engine, chats: list[int], timeout: float) -> None:
    """Until every chat has its message and every row is marked sent."""
    tg.wait_for(lambda: all(tg.messages(c) for c in chats), timeout=timeout)
    tg.wait_for(lambda: statuses(engine) == Counter({"sent": len(chats)}), timeout=20)


def test_a_worker_started_after_a_sigkill_sends_the_killed_claims_at_once(
    tmp_path: Path, pg_url: str
) -> None:
    chats = list(range(81_000, 81_160))
    cfg = _config(tmp_path, pg_url, 20, lease=180)
    log = tmp_path / "w.log"
    with _queued(pg_url, chats) as (engine, tg):
        killed = start_bot(cfg, tg, log, "--role", "worker")
        try:
            tg.wait_for(lambda: tg.stats.by_method["sendMessage"] >= 20, timeout=60)
        finally:
            killed.send_signal(signal.SIGKILL)
            killed.wait()
        claimed = _sending(engine)
        assert claimed > 50, claimed  # rows the killed worker had claimed, paced, unsent
        again = start_bot(cfg, tg, tmp_path / "again.log", "--role", "worker")
        try:
            # 160 messages at 20/s take 8 s; the killed worker's leases run for 180 s.
            _wait_all_sent(tg, engine, chats, timeout=120)
        finally:
            stop_bot(again)
        counts = Counter({c: len(tg.messages(c)) for c in chats})
    lines = (tmp_path / "again.log").read_text()
    assert RELEASED in lines, lines[-3000:]
    # A repeat is a send Telegram took whose "sent" mark the kill lost (no idempotency key).
    assert sum(n - 1 for n in counts.values()) <= 16 + 4, counts.most_common(3)
    assert "Traceback" not in lines
    assert again.returncode == 0


def test_a_worker_started_beside_a_living_one_leaves_its_claims_alone(
    tmp_path: Path, pg_url: str
) -> None:
    chats = list(range(82_000, 82_120))
    cfg = _config(tmp_path, pg_url, 10)
    with _queued(pg_url, chats) as (engine, tg):
        workers: list[subprocess.Popen[bytes]] = []
        try:
            workers.append(start_bot(cfg, tg, tmp_path / "first.log", "--role", "worker"))
            tg.wait_for(lambda: tg.stats.by_method["sendMessage"] >= 5, timeout=60)
            assert _sending(engine) > 20
            workers.append(start_bot(cfg, tg, tmp_path / "second.log", "--role", "worker"))
            second_log = tmp_path / "second.log"
            tg.wait_for(lambda: "started role=worker" in second_log.read_text(), timeout=60)
            _wait_all_sent(tg, engine, chats, timeout=60)
        finally:
            for proc in workers:
                stop_bot(proc)
        counts = Counter({c: len(tg.messages(c)) for c in chats})
    assert set(counts.values()) == {1}, counts.most_common(3)  # nobody's claim taken over
    assert RELEASED not in (tmp_path / "second.log").read_text()
    assert all(p.returncode == 0 for p in workers)
