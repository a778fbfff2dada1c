"""PostgreSQL's live-workers locks: a dead worker's claims go back soon after it goes,
whether other workers live or one starts after it; a worker that cannot prove it still
holds its lock sends nothing, and its claims go back only once it cannot send them."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from telegram import Bot

from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.ops.health import STALE_FACTOR, Heartbeats
from bot.services.startup import hand_back_claims
from bot.storage import outbox
from bot.storage.db import open_database, session_scope
from bot.storage.models import Outbox, utcnow
from bot.storage.presence import GONE, GRACE_SECONDS, LIVE, WORKERS_LOCK_CLASS, WorkerPresence
from tests.conftest import postgres_url, schema_url
from tests.support.fake_telegram import FakeTelegram
from tests.support.outboxkit import enqueue_messages, statuses
from tests.support.process import start_bot, stop_bot, write_config

RELEASED = "outbox rows in flight at last stop, sending again"
REAPED = "outbox rows of a stopped worker, sending again"
LOST = "workers' lock connection lost"


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
    assert REAPED in lines, lines[-3000:]
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


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _claim(engine: Engine, presence: WorkerPresence, limit: int = 10) -> list[int]:
    with session_scope(engine) as session:
        rows = outbox.claim_due(
            session,
            now=utcnow(),
            limit=limit,
            lease=timedelta(seconds=180),
            owner=presence.claimant(),
        )
    return [row.id for row in rows]


def _owners(engine: Engine) -> Counter[int | None]:
    with engine.connect() as conn:
        query = "SELECT claimed_by FROM outbox WHERE status = 'sending'"
        return Counter(row[0] for row in conn.execute(sa.text(query)))


def _end_session_of(engine: Engine, owner: int) -> None:
    """The server ends the session holding this worker id's lock."""
    query = sa.text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
        " AND ((classid::bigint << 32) | objid::bigint) = :owner"
    )
    with engine.connect() as conn:
        pids = [row[0] for row in conn.execute(query, {"owner": owner})]
        assert len(pids) == 1, pids
        conn.execute(sa.select(sa.func.pg_terminate_backend(pids[0])))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if not conn.execute(query, {"owner": owner}).all():
                return
        time.sleep(0.05)


def test_a_dead_workers_rows_go_back_after_the_grace_and_a_live_ones_never(
    pg_engine: Engine,
) -> None:
    enqueue_messages(pg_engine, list(range(83_000, 83_030)), kind="broadcast", key="k", text="x")
    clock = _Clock()
    living, dying = WorkerPresence(pg_engine, clock=clock), WorkerPresence(pg_engine, clock=clock)
    living.acquire()
    living.settle()
    dying.acquire()
    assert living.owner is not None and dying.owner is not None
    assert living.owner != dying.owner
    ours, theirs = _claim(pg_engine, living), _claim(pg_engine, dying)
    assert _owners(pg_engine) == Counter({living.owner: 10, dying.owner: 10})
    assert living.reap() == 0  # both alive
    clock.now += 3 * GRACE_SECONDS
    assert living.reap() == 0  # still alive, however long
    dead = dying.owner
    _end_session_of(pg_engine, dead)  # as a SIGKILL would: the server ends the session
    assert living.reap() == 0  # seen dead now: its last sends may still be under way
    clock.now += GRACE_SECONDS - 0.5
    assert living.reap() == 0
    clock.now += 0.5
    assert living.reap() == 10
    assert _owners(pg_engine) == Counter({living.owner: 10})
    assert set(ours).isdisjoint(theirs)
    again = _claim(pg_engine, living, limit=30)
    assert set(theirs) <= set(again)  # pending again, due now
    assert dead not in _owners(pg_engine)
    living.release()
    dying.release()  # its connection is gone: nothing to let go


def test_a_worker_whose_lock_session_ended_stops_sending_and_its_claims_wait_the_grace(
    pg_engine: Engine,
) -> None:
    enqueue_messages(pg_engine, list(range(84_000, 84_010)), kind="broadcast", key="k", text="x")
    clock = _Clock()
    cut = WorkerPresence(pg_engine, clock=clock)
    cut.acquire()
    cut.settle()
    old = cut.owner
    assert old is not None
    _claim(pg_engine, cut)
    assert cut.standing(old) == LIVE
    _end_session_of(pg_engine, old)
    # Until its next check the worker still counts on its last proof, so nobody may
    # treat its rows as free yet; a worker starting now is alone all the same.
    starter = WorkerPresence(pg_engine, clock=clock)
    assert starter.acquire() is True
    assert hand_back_claims(pg_engine, starter) == 0
    assert _owners(pg_engine) == Counter({old: 10})
    assert cut.keep() is True  # noticed, and joined again under a new id
    assert cut.owner not in (None, old)
    assert cut.standing(old) == GONE  # what it claimed before is never sent by it
    clock.now += GRACE_SECONDS
    assert starter.reap() == 10
    assert _owners(pg_engine) == Counter()
    starter.release()
    cut.release()


def test_a_worker_that_cannot_prove_it_lives_claims_nothing(pg_engine: Engine) -> None:
    enqueue_messages(pg_engine, [85_000], kind="broadcast", key="k", text="x")
    clock = _Clock()
    late = WorkerPresence(pg_engine, clock=clock)
    late.acquire()
    late.settle()
    owner = late.owner
    assert owner is not None
    clock.now += 10.0  # its checks are late (the thread starved)
    assert late.claimant() is None
    assert late.standing(owner) != LIVE
    sender = Sender(engine=pg_engine, bot=Bot("1:x"), pacer=Pacer(per_second=30), presence=late)
    assert sender._claim()[1] == []
    assert late.keep() is True
    assert late.owner == owner  # the lock was held all along: the same id, live again
    assert late.standing(owner) == LIVE
    assert [row.owner for row in sender._claim()[1]] == [owner]
    assert _owners(pg_engine) == Counter({owner: 1})
    late.release()


async def test_readiness_says_why_a_worker_that_cannot_prove_its_lock_delivers_nothing(
    pg_engine: Engine,
) -> None:
    # A deliver tick that may not send (its presence unproven) has not delivered: once
    # that lasts past the tick's limit, /readyz and `healthcheck` name the reason.
    from handlers.jobs import DELIVER_BUDGET, DELIVER_EVERY, PRESENCE_UNPROVEN, deliver_tick

    enqueue_messages(pg_engine, [88_000], kind="broadcast", key="k", text="x")
    clock = _Clock()
    late = WorkerPresence(pg_engine, clock=clock)
    late.acquire()
    late.settle()
    beats = Heartbeats(clock=clock, started=clock.now)
    beats.expect("deliver", DELIVER_EVERY + DELIVER_BUDGET)
    sender = Sender(engine=pg_engine, bot=Bot("1:x"), pacer=Pacer(per_second=30), presence=late)
    context = SimpleNamespace(services=SimpleNamespace(sender=sender, heartbeats=beats))
    clock.now += 10.0  # its checks are late: no proof
    await deliver_tick(context)  # type: ignore[arg-type]
    clock.now += STALE_FACTOR * (DELIVER_EVERY + DELIVER_BUDGET)
    [problem] = beats.problems()
    assert problem.startswith("deliver tick has not completed since start")
    assert problem.endswith(PRESENCE_UNPROVEN)
    assert _owners(pg_engine) == Counter()  # and it claimed nothing
    with session_scope(pg_engine) as session:  # (nothing to send next: no Telegram here)
        session.execute(sa.delete(Outbox))
    assert late.keep() is True  # proven again: the next tick counts
    await deliver_tick(context)  # type: ignore[arg-type]
    assert beats.problems() == []
    late.release()


def test_two_workers_one_sigkilled_the_other_sends_its_claims_long_before_their_leases(
    tmp_path: Path, pg_url: str
) -> None:
    chats = list(range(86_000, 86_200))
    # 10 a second: the killed worker's 200 rows take it 20 s, so it still holds most of
    # them when the second worker is up (at 40/s a loaded machine started the second
    # worker after the first had sent all 200, and there was nothing left to hand back).
    cfg = _config(tmp_path, pg_url, 10, lease=180)
    with _queued(pg_url, chats) as (engine, tg):
        killed = start_bot(cfg, tg, tmp_path / "killed.log", "--role", "worker")
        living: subprocess.Popen[bytes] | None = None
        try:
            # Alone, the first worker claims two batches: every row.
            tg.wait_for(lambda: tg.stats.by_method["sendMessage"] >= 10, timeout=60)
            living = start_bot(cfg, tg, tmp_path / "living.log", "--role", "worker")
            living_log = tmp_path / "living.log"
            tg.wait_for(lambda: "started role=worker" in living_log.read_text(), timeout=60)
            tg.wait_for(lambda: tg.stats.by_method["sendMessage"] >= 30, timeout=60)
        finally:
            killed.send_signal(signal.SIGKILL)
            killed.wait()
        try:
            claimed = _sending(engine)
            # The killed worker's, paced, unsent: how many depends on how long the second
            # worker took to start (~170 alone).
            assert claimed >= 20, claimed
            # The 10 s grace, then at most 170 messages at 10/s; the killed worker's
            # leases run for 180 s (60 s allowed, for loaded CI machines).
            _wait_all_sent(tg, engine, chats, timeout=60)
        finally:
            assert living is not None
            stop_bot(living)
        counts = Counter({c: len(tg.messages(c)) for c in chats})
    lines = (tmp_path / "living.log").read_text()
    assert REAPED in lines, lines[-3000:]
    # A repeat is a send Telegram took whose "sent" mark the kill lost (marks are written
    # every 50 ms; the Bot API has no idempotency key): a handful at most.
    assert max(counts.values()) <= 2, counts.most_common(3)
    assert sum(n - 1 for n in counts.values()) <= 10, counts.most_common(12)
    assert "Traceback" not in lines
    assert living.returncode == 0


def _workers_key() -> tuple[int, sa.ColumnElement[int]]:
    return WORKERS_LOCK_CLASS, sa.func.hashtext(sa.func.current_schema())


def test_a_worker_whose_lock_session_the_server_ends_sends_nothing_until_it_rejoins(
    tmp_path: Path, pg_url: str
) -> None:
    chats = list(range(87_000, 87_150))
    cfg = _config(tmp_path, pg_url, 10, lease=180)
    log = tmp_path / "w.log"
    with _queued(pg_url, chats) as (engine, tg):
        worker = start_bot(cfg, tg, log, "--role", "worker")
        blocker = engine.connect()
        try:
            tg.wait_for(lambda: tg.stats.by_method["sendMessage"] >= 10, timeout=60)
            # Ask for the workers' lock exclusively before the worker's session ends: the
            # request is granted then, and the worker's rejoin waits behind it.
            waiting = threading.Thread(
                target=lambda: blocker.execute(sa.select(sa.func.pg_advisory_lock(*_workers_key())))
            )
            waiting.start()
            time.sleep(0.5)
            (holder,) = _holders(engine)  # the worker's lock session (ours waits)
            with engine.connect() as conn:
                conn.execute(sa.select(sa.func.pg_terminate_backend(holder)))
            waiting.join(timeout=10)
            assert not waiting.is_alive()
            tg.wait_for(lambda: LOST in log.read_text(), timeout=30)
            time.sleep(1.0)  # a request already on its way lands
            before = tg.stats.by_method["sendMessage"]
            time.sleep(8.0)  # longer than a proof lasts
            assert tg.stats.by_method["sendMessage"] == before  # nothing sent, unjoined
            assert before < len(chats)
            blocker.execute(sa.select(sa.func.pg_advisory_unlock(*_workers_key())))
            blocker.commit()
            _wait_all_sent(tg, engine, chats, timeout=90)
        finally:
            blocker.close()
            stop_bot(worker)
        counts = Counter({c: len(tg.messages(c)) for c in chats})
    assert set(counts.values()) == {1}, counts.most_common(3)  # nothing lost, nothing twice
    lines = log.read_text()
    assert REAPED in lines
    assert "Traceback" not in lines
    assert worker.returncode == 0


async def test_the_presence_check_runs_on_its_own_thread_not_the_shared_pool() -> None:
    # The sender's database calls run on the event loop's default pool; a check queued
    # behind them would come late and pause this worker's sends.
    from telegram.ext import ApplicationBuilder

    from handlers.jobs import presence_tick, schedule

    class _Presence:
        def __init__(self) -> None:
            self.threads: list[str] = []

        def keep(self) -> bool:
            self.threads.append(threading.current_thread().name)
            return True

    presence = _Presence()
    services = SimpleNamespace(heartbeats=Heartbeats(), presence=presence)
    app = ApplicationBuilder().token("1:x").build()
    app.bot_data["services"] = services
    schedule(app)
    assert app.job_queue is not None
    [job] = app.job_queue.get_jobs_by_name("presence")
    context = SimpleNamespace(services=services, job=job)
    await presence_tick(context)  # type: ignore[arg-type]
    await presence_tick(context)  # type: ignore[arg-type]
    assert presence.threads == ["presence_0", "presence_0"]
