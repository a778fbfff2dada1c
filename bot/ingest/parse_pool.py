"""Feed parsing in worker processes: the second core, and a parse that can be stopped.

Parsing (feedparser, then our normalising) is pure Python and holds the GIL: in
threads it takes turns with the event loop and the store. Here each of a few
threads hands its parses to a worker process of its own, started once and
reused; the thread only waits on a socket. A worker is a fresh interpreter
running this module (not `multiprocessing` spawn, which would re-import the
parent's main module), and it exits when the parent's end of the socket closes.
A parse over its time limit kills its worker; the next parse on that thread
starts a fresh one. Bodies arrive capped by the fetcher, as before.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.ingest.topics import TopicMatcher

logger = logging.getLogger(__name__)

# Workers run this much nicer than the bot: when the cores are busy, the bot's own
# process (event loop, the one writer) comes first. In a full refresh fetch and parse
# run far ahead of the writer, the refresh's critical path, and on two cores the
# workers took CPU from it (bench_refresh, 1,000 feeds: the writer's thread had ~40 s
# of CPU in a ~50 s refresh). A worker still gets any core the bot leaves idle.
NICENESS = 10


@dataclass(frozen=True)
class ParseJob:
    """What a worker needs for one `bot.ingest.parser.parse_feed` call."""

    body: bytes
    url: str
    content_type: str | None
    now: datetime
    max_entries: int
    matcher: TopicMatcher | None = None  # set: prepare the entries for storing too


def _serve(conn: Connection) -> None:  # pragma: no cover - runs in the worker process
    from bot.ingest.parser import parse_feed
    from bot.ingest.prepare import prepare_feed

    while True:
        try:
            job: ParseJob = conn.recv()
        except (EOFError, OSError):
            return
        parsed = parse_feed(
            job.body,
            url=job.url,
            content_type=job.content_type,
            now=job.now,
            max_entries=job.max_entries,
        )
        if job.matcher is not None:
            try:
                parsed = prepare_feed(parsed, job.matcher)
            except Exception:  # a bug here must not cost the parse: the writer prepares
                logging.getLogger(__name__).exception("preparing entries failed")
        conn.send(parsed)


class _Worker:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        code = f"import {__name__} as m; m._serve_socket({theirs.fileno()})"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], pass_fds=(theirs.fileno(),), env=env
        )
        theirs.close()
        self.conn = Connection(ours.detach())

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()

    def stop(self) -> None:
        self.conn.close()
        self.kill()
        self.process.wait(timeout=5)


def _serve_socket(fd: int) -> None:  # pragma: no cover - runs in the worker process
    if hasattr(os, "nice"):  # POSIX
        os.nice(NICENESS)
    _serve(Connection(fd))


@dataclass
class Running:
    """One parse handed to a worker; `stop()` kills the worker if it is still at it."""

    _worker: _Worker | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: bool = False

    def attach(self, worker: _Worker) -> bool:
        with self._lock:
            self._worker = worker
            return not self.stopped

    @property
    def worker_pid(self) -> int | None:
        return self._worker.pid if self._worker is not None else None

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            if self._worker is not None:
                self._worker.kill()


class ProcessParsePool:
    """`workers` threads, each with its own parse process, started on first use."""

    def __init__(self, workers: int) -> None:
        self.threads = ThreadPoolExecutor(workers, thread_name_prefix="feed-parse")
        self._local = threading.local()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()

    def parse(self, job: ParseJob, running: Running, started: Callable[[], object]) -> Any:
        """Run in one of `threads`: the worker's `ParsedFeed`, or None if it died or was
        stopped. `started` is called once the parse is handed over."""
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is None or not worker.alive():
            worker = self._local.worker = _Worker()
            with self._lock:
                self._workers.add(worker)
        if not running.attach(worker):
            return None
        started()
        try:
            worker.conn.send(job)
            return worker.conn.recv()
        except (EOFError, OSError):  # killed over its time limit, or crashed
            self._retire(worker)
            return None

    def _retire(self, worker: _Worker) -> None:
        self._local.worker = None
        with self._lock:
            self._workers.discard(worker)
        worker.stop()

    def worker_pids(self) -> list[int]:
        """The live workers' process ids (benchmarks add up their CPU time)."""
        with self._lock:
            return [w.pid for w in self._workers if w.alive()]

    def shutdown(self) -> None:
        """Stop every worker process and thread (tests; the process exit does it too)."""
        self.threads.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            workers, self._workers = list(self._workers), set()
        for worker in workers:
            worker.stop()
