"""SQLite writers of one process take turns in arrival order (bot/storage/write_gate.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.storage.db import open_database
from bot.storage.write_gate import GatedConnection, WriteGate, gate_for, writes


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", False),
        ("  select * from story", False),
        ("PRAGMA busy_timeout=15000", False),
        ("BEGIN", False),
        ("BEGIN DEFERRED", False),
        ("BEGIN IMMEDIATE", True),
        ("begin exclusive", True),
        ("INSERT INTO t VALUES (1)", True),
        ("UPDATE t SET x = 2", True),
        ("DELETE FROM t", True),
        ("REPLACE INTO t VALUES (1)", True),
        ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", True),
        ("CREATE TABLE u (x)", True),
        ("COMMIT", False),
        ("ROLLBACK", False),
        ("SAVEPOINT sa_1", False),
        ("RELEASE SAVEPOINT sa_1", False),
    ],
)
def test_statements_that_write(sql: str, expected: bool) -> None:
    assert writes(sql) is expected


def test_the_gate_goes_to_waiters_in_the_order_they_asked() -> None:
    gate = WriteGate()
    assert gate.acquire("first", 1.0)
    order: list[str] = []

    def wait_for_it(name: str) -> None:
        assert gate.acquire(name, 5.0)
        order.append(name)
        gate.release(name)

    threads = []
    for name in ("a", "b", "c"):
        thread = threading.Thread(target=wait_for_it, args=(name,))
        thread.start()
        threads.append(thread)
        while gate.waiting < len(threads):  # queued before the next one asks
            time.sleep(0.001)
    gate.release("someone else")  # not the owner: nothing happens
    assert gate.waiting == 3
    gate.release("first")
    for thread in threads:
        thread.join(5)
    assert order == ["a", "b", "c"]
    assert gate.acquire("free again", 0.0)


def test_a_wait_that_runs_out_leaves_the_queue() -> None:
    gate = WriteGate()
    assert gate.acquire("owner", 1.0)
    assert not gate.acquire("impatient", 0.05)
    assert gate.waiting == 0
    gate.release("owner")
    assert gate.acquire("next", 0.0)


def test_a_writer_waits_its_timeout_then_fails_as_sqlite_would(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    first = sqlite3.connect(path, timeout=5, factory=GatedConnection)
    first.execute("CREATE TABLE t (x)")
    first.commit()
    first.execute("INSERT INTO t VALUES (1)")  # holds the file's gate until commit
    second = sqlite3.connect(path, timeout=0.1, factory=GatedConnection)
    assert second.execute("SELECT count(*) FROM t").fetchone() == (0,)  # reads go on
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO t VALUES (2)")
    first.commit()
    second.execute("INSERT INTO t VALUES (2)")
    second.commit()
    assert second.execute("SELECT count(*) FROM t").fetchone() == (2,)
    first.close()
    second.close()


def test_files_have_their_own_gates_and_memory_databases_a_private_one(tmp_path: Path) -> None:
    assert gate_for(str(tmp_path / "a")) is gate_for(str(tmp_path / "." / "a"))
    assert gate_for(str(tmp_path / "a")) is not gate_for(str(tmp_path / "b"))
    assert gate_for(":memory:") is not gate_for(":memory:")


def busy_writer(engine: Engine, stop: threading.Event, commits: list[int]) -> None:
    """Write transaction after transaction, each held a while, as a refresh stores feeds."""
    while not stop.is_set():
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO work (who) VALUES ('refresh')")
            time.sleep(0.02)
        commits.append(1)


def test_a_command_waits_for_one_transaction_of_a_busy_writer_not_for_all(
    tmp_path: Path,
) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE work (who TEXT)")
    stop, commits = threading.Event(), []
    writer = threading.Thread(target=busy_writer, args=(engine, stop, commits))
    writer.start()
    try:
        while len(commits) < 3:  # the writer is going
            time.sleep(0.005)
        waited_through = []
        for _ in range(5):
            before = len(commits)
            with engine.begin() as conn:  # a command's write, as begin_write starts it
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                waited_through.append(len(commits) - before)
                conn.exec_driver_sql("INSERT INTO work (who) VALUES ('command')")
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join(10)
        engine.dispose()
    # Each command got in after the writer's transaction in progress, at most. Left
    # to SQLite's busy handler it waited while the writer went on (dozens at a time).
    assert max(waited_through) <= 1, waited_through
