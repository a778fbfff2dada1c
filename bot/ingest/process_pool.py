"""Pure CPU-bound work in worker processes: off the event loop's GIL, and stoppable.

Feed parsing and full-text extraction are pure Python (and lxml) holding the GIL: in
threads they take turns with the event loop. A `ProcessPool` runs a module-level
function, with picklable arguments and result, in one of `size` worker processes,
started once and reused. A worker is a fresh interpreter running this module (not
`multiprocessing` spawn, which would re-import the parent's main module); it imports
the pool's `preload` modules, says it is ready, then serves calls until the parent's
end of its socket closes. A call over its time limit kills its worker, so the work
really stops; the next call starts a fresh one. Each pool has its own niceness: the
bot's own process (event loop, the one writer) should come first.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import os
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

_pools: weakref.WeakSet[ProcessPool] = weakref.WeakSet()  # for `shutdown_all`


@dataclass(frozen=True)
class TimedOut:
    """The call ran past its time limit; its worker was killed."""

    seconds: float


@dataclass(frozen=True)
class WorkerDied:
    """The worker process ended during the call (killed from outside, or crashed)."""

    pid: int | None


@dataclass(frozen=True)
class _Raised:
    """The function raised in the worker: the exception, or its text if it won't pickle."""

    error: BaseException


_READY = b"ready"


def _serve(conn: Connection) -> None:  # pragma: no cover - runs in the worker process
    while True:
        try:
            call: Callable[[], Any] = conn.recv()
        except (EOFError, OSError):  # the parent closed its end: it stopped, or stops us
            return
        except Exception as exc:  # a function this interpreter cannot import, say
            call = functools.partial(_reraise, exc)
        try:
            result: Any = call()
        except Exception as exc:  # the parent re-raises it: a bug stays a bug
            result = _Raised(exc)
        try:
            conn.send(result)
        except (EOFError, OSError):
            return
        except Exception as exc:  # the result or exception does not pickle
            conn.send(_Raised(RuntimeError(f"unpicklable result: {exc!r}")))


def _reraise(exc: Exception) -> None:  # pragma: no cover - runs in the worker process
    raise exc


def _main(fd: int, niceness: int, preload: Sequence[str]) -> None:  # pragma: no cover
    """The worker process: lower its priority, import `preload`, say ready, serve."""
    if niceness and hasattr(os, "nice"):  # POSIX
        os.nice(niceness)
    conn = Connection(fd)
    for module in preload:
        importlib.import_module(module)
    try:
        conn.send_bytes(_READY)
    except OSError:
        return
    _serve(conn)


class _Worker:
    def __init__(self, niceness: int, preload: Sequence[str]) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        code = f"import {__name__} as m; m._main({theirs.fileno()}, {niceness}, {list(preload)!r})"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], pass_fds=(theirs.fileno(),), env=env
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> bool:
        """Block until the worker has imported its modules; False if it died first."""
        if not self.ready:
            try:
                self.ready = self.conn.recv_bytes() == _READY
            except (EOFError, OSError):
                return False
        return self.ready

    def kill(self) -> None:
        if self.alive():
            self.process.kill()

    def stop(self) -> None:
        self.conn.close()
        self.kill()
        self.process.wait(timeout=5)


@dataclass
class Running:
    """One call handed to a worker; `stop()` kills the worker if it is still at it."""

    _worker: _Worker | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: bool = False
    worker_pid: int | None = None  # the worker it was handed to

    def attach(self, worker: _Worker) -> bool:
        with self._lock:
            self._worker, self.worker_pid = worker, worker.pid
            return not self.stopped

    def finish(self) -> None:
        """The call returned: a late `stop()` must not kill the worker, back in the pool."""
        with self._lock:
            self._worker = None

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            if self._worker is not None:
                self._worker.kill()


class ProcessPool:
    """Up to `size` worker processes, each driven by one of `size` threads.

    Workers start on first use, or all at once with `start_workers`, and are reused;
    a dead one is replaced on the next call.
    """

    def __init__(
        self, size: int, *, name: str, niceness: int = 0, preload: Sequence[str] = ()
    ) -> None:
        self.size = size
        self.name = name
        self.niceness = niceness
        self.preload = tuple(preload)
        self.threads = ThreadPoolExecutor(size, thread_name_prefix=name)
        self._idle: list[_Worker] = []  # most recently used last
        self._busy: set[_Worker] = set()  # taken by a thread
        self._running: set[_Worker] = set()  # of those, the ones that have their call
        self._lock = threading.Lock()
        self._warm = False  # set by `start_workers`: replace a worker that dies at once
        _pools.add(self)

    def start_workers(self) -> None:
        """Start workers up to `size` without waiting for them (they import in the
        background); the first calls then skip the interpreter's start. From then on a
        worker that dies in a call (killed over its time limit) is replaced at once."""
        with self._lock:
            self._warm = True
            self._fill()

    def _fill(self) -> None:
        for _ in range(self.size - len(self._idle) - len(self._busy)):
            self._idle.insert(0, _Worker(self.niceness, self.preload))

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    break
                worker.stop()
            else:
                worker = _Worker(self.niceness, self.preload)
            self._busy.add(worker)
            return worker

    def _give_back(self, worker: _Worker, *, healthy: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            self._running.discard(worker)
            if healthy:
                self._idle.append(worker)
        if not healthy:
            worker.stop()
            with self._lock:
                if self._warm and worker.ready:  # not one that died importing: no loop
                    self._fill()

    def call(self, fn: Callable[[], T], running: Running, started: Callable[[], object]) -> Any:
        """Run in one of `threads`: `fn()` in a worker, a `_Raised`, or None if the worker
        died or was stopped. `started` is called once the worker is ready and has it."""
        worker = self._take()
        if not worker.wait_ready():
            self._give_back(worker, healthy=False)
            return None
        if not running.attach(worker):  # cancelled while it waited for a worker
            self._give_back(worker, healthy=True)
            return None
        with self._lock:
            self._running.add(worker)
        started()
        try:
            worker.conn.send(fn)
            result = worker.conn.recv()
        except (EOFError, OSError):  # killed over its time limit, or from outside, or crashed
            self._give_back(worker, healthy=False)
            return None
        except Exception:  # `fn` or its result did not pickle: the stream is still whole
            running.finish()
            self._give_back(worker, healthy=True)
            raise
        except BaseException:
            self._give_back(worker, healthy=False)
            raise
        running.finish()
        self._give_back(worker, healthy=True)
        return result

    async def run(self, fn: Callable[[], T], *, timeout: float) -> T | TimedOut | WorkerDied:
        """`fn()` in a worker process; over `timeout` seconds of work, its worker is killed.

        Only the work is timed, from the moment a ready worker has it: a call waiting for
        a free worker (or for a fresh one to import its modules) has not failed. When
        `TimedOut` is returned the worker is gone. A cancelled call never runs, or its
        worker is killed. An exception `fn` raises in the worker is raised here.
        """
        loop = asyncio.get_running_loop()
        started = loop.create_future()
        running = Running()

        def signal_started() -> None:
            with contextlib.suppress(RuntimeError):  # the caller's loop closed meanwhile
                loop.call_soon_threadsafe(_set_started, started)

        future = loop.run_in_executor(self.threads, self.call, fn, running, signal_started)
        try:
            await asyncio.wait((started, future), return_when=asyncio.FIRST_COMPLETED)
            done, _ = await asyncio.wait((future,), timeout=timeout)
            if not done:
                running.stop()
                await asyncio.wait((future,))  # the worker is killed: reaped at once
                return TimedOut(timeout)
        except asyncio.CancelledError:
            future.cancel()  # still queued: never runs
            running.stop()
            raise
        result = future.result()
        if result is None:
            return WorkerDied(running.worker_pid)
        if isinstance(result, _Raised):
            raise result.error
        return result

    def worker_pids(self) -> list[int]:
        """The live workers' process ids."""
        with self._lock:
            return [w.pid for w in (*self._idle, *self._busy) if w.alive()]

    def busy_pids(self) -> list[int]:
        """The process ids of the workers that have a call now (it is theirs to finish)."""
        with self._lock:
            return [w.pid for w in self._running if w.alive()]

    def shutdown(self) -> None:
        """Stop every worker process and thread; the next call starts afresh."""
        with self._lock:
            workers = [*self._idle, *self._busy]
            self._idle, self._busy, self._warm = [], set(), False
        for worker in workers:  # first, so a thread waiting on one returns
            worker.kill()
        self.threads.shutdown(wait=True, cancel_futures=True)
        for worker in workers:
            worker.stop()
        self.threads = ThreadPoolExecutor(self.size, thread_name_prefix=self.name)


def shutdown_all() -> None:
    """Stop every pool's workers (when the bot stops; at the end of tests)."""
    for pool in list(_pools):
        pool.shutdown()


def _set_started(started: asyncio.Future[None]) -> None:
    if not started.done():
        started.set_result(None)
