"""Feed parsing in worker processes: the second core, and a parse that can be stopped.

Parsing (feedparser, then our normalising) is pure Python and holds the GIL: in
threads it takes turns with the event loop and the store. Here each of a few
threads hands its parses to a worker process of its own, started once (spawn,
so nothing of the parent's state is copied) and reused; the thread only waits
on a pipe. A parse over its time limit kills its worker; the next parse on that
thread starts a fresh one. Bodies arrive capped by the fetcher, as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class ParseJob:
    """What a worker needs for one `bot.ingest.parser.parse_feed` call."""

    body: bytes
    url: str
    content_type: str | None
    now: datetime
    max_entries: int


def _serve(conn: Connection) -> None:  # pragma: no cover - runs in the worker process
    from bot.ingest.parser import parse_feed

    while True:
        try:
            job: ParseJob = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(
            parse_feed(
                job.body,
                url=job.url,
                content_type=job.content_type,
                now=job.now,
                max_entries=job.max_entries,
            )
        )


class _Worker:
    def __init__(self) -> None:
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_serve, args=(child,), name="feed-parse")
        self.process.daemon = True
        self.process.start()
        child.close()

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


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
        return self._worker.process.pid if self._worker is not None else None

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            if self._worker is not None and self._worker.process.is_alive():
                self._worker.process.kill()


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
        if worker is None or not worker.process.is_alive():
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

    def shutdown(self) -> None:
        """Stop every worker process and thread (tests; the process exit does it too)."""
        self.threads.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            workers, self._workers = list(self._workers), set()
        for worker in workers:
            worker.stop()
