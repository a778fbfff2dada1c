"""Writers to one SQLite file take turns in arrival order, within this process.

SQLite lets one connection write at a time. The others wait in its busy handler,
which sleeps and tries again, up to 100 ms between tries. A writer that commits and
begins again at once, as the refresher does while it stores feed after feed, finds
the lock free every time and keeps it: a command waiting to write tried every 100 ms
and lost each time, for the whole first refresh of a large instance (seconds to
minutes, measured by `bench/bench_busy.py`).

Here the connections of one process queue for a file's write lock before SQLite sees
them: a connection takes the file's `WriteGate` at its first statement that writes
and gives it back when its transaction ends, and the gate goes to whoever asked
first. A command then waits for the transactions ahead of it and no more. Other
processes on the same file still meet in SQLite's busy handler, as before.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections import deque
from collections.abc import Iterable
from typing import Any

# Statements that start a write, or may: anything but these. WITH may wrap a write.
_READ_ONLY = ("SELECT", "PRAGMA", "EXPLAIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE")


def writes(sql: str) -> bool:
    """Whether a statement needs the write lock (BEGIN IMMEDIATE and EXCLUSIVE do)."""
    head = sql.lstrip()[:24].upper()
    if head.startswith("BEGIN"):
        return "IMMEDIATE" in head or "EXCLUSIVE" in head
    return not head.startswith(_READ_ONLY)


class WriteGate:
    """A lock handed to waiters first come, first served (no barging)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: object | None = None
        self._waiting: deque[tuple[object, threading.Event]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def acquire(self, owner: object, timeout: float) -> bool:
        """Take the gate for `owner`, after everyone who asked before; False on timeout."""
        with self._lock:
            if self._owner is None and not self._waiting:
                self._owner = owner
                return True
            turn = (owner, threading.Event())
            self._waiting.append(turn)
        if turn[1].wait(timeout):
            return True
        with self._lock:
            if self._owner is owner:  # handed over as the wait ran out
                return True
            self._waiting.remove(turn)
            return False

    def release(self, owner: object) -> None:
        """Hand the gate to the longest waiter (or leave it free); only its owner can."""
        with self._lock:
            if self._owner is not owner:
                return
            if self._waiting:
                self._owner, handed = self._waiting.popleft()
                handed.set()
            else:
                self._owner = None


_gates: weakref.WeakValueDictionary[str, WriteGate] = weakref.WeakValueDictionary()
_gates_lock = threading.Lock()


def gate_for(database: str) -> WriteGate:
    """The gate of a database file (one per file per process); a private one in memory."""
    if database == ":memory:" or database.startswith("file::memory:") or not database:
        return WriteGate()
    key = os.path.realpath(database)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriteGate()
        return gate


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that holds its file's `WriteGate` while it writes.

    Passed to `sqlite3.connect` as ``factory``; the wait for the gate is the
    connection's own ``timeout`` (as SQLite's busy timeout would have been), after
    which the statement fails as SQLite's would: "database is locked".
    """

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._gate = gate_for(os.fsdecode(database))
        self._wait = float(kwargs.get("timeout", args[0] if args else 5.0))
        self._holding = False

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or GatedCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        return self.cursor().executemany(sql, parameters)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        return self.cursor().executescript(script)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_go()

    def before(self, sql: str) -> None:
        """Take the gate before a statement that writes, unless already held."""
        if self._holding or not writes(sql):
            return
        if not self._gate.acquire(self, self._wait):
            raise sqlite3.OperationalError("database is locked")
        self._holding = True

    def after(self) -> None:
        """Give the gate back once no transaction is open (autocommit, a failed BEGIN)."""
        if self._holding and not self.in_transaction:
            self._let_go()

    def _let_go(self) -> None:
        if self._holding:
            self._holding = False
            self._gate.release(self)


class GatedCursor(sqlite3.Cursor):
    """Routes each statement through its connection's gate."""

    connection: GatedConnection

    def execute(self, sql: str, parameters: Any = (), /) -> GatedCursor:
        self.connection.before(sql)
        try:
            super().execute(sql, parameters)
        finally:
            self.connection.after()
        return self

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> GatedCursor:
        self.connection.before(sql)
        try:
            super().executemany(sql, parameters)
        finally:
            self.connection.after()
        return self

    def executescript(self, script: str, /) -> GatedCursor:
        self.connection.before("BEGIN IMMEDIATE")  # a script may write anything
        try:
            super().executescript(script)
        finally:
            self.connection.after()
        return self
