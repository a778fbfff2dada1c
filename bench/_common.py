"""Shared benchmark helpers: machine description, medians, percentiles, markdown tables,
realistic headlines for the seeder in tests/support/seed.py.

Every benchmark prints the machine it ran on and its numbers as a markdown table, so
the output can be pasted into BENCHMARKS.md as is.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from bench._corpus import Vocabulary, render_headline

REPO = Path(__file__).resolve().parents[1]


def ensure_repo_on_path() -> None:
    """Let `python bench/<name>.py` import `bot` and `tests` like `python -m bench.<name>`."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_state() -> str:
    """Commit and whether the work tree had uncommitted changes (others edit concurrently)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
        changed = [line[3:] for line in dirty if line.strip()]
    except OSError:
        return "unknown"
    # Others edit concurrently: name each changed file with a digest of its content.
    marked = [f"{name}@{_digest(REPO / name)}" for name in changed if not name.startswith("bench/")]
    return f"{head}" + (f" + uncommitted: {', '.join(marked)}" if marked else "")


def _digest(path: Path) -> str:
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()[:8]
    except OSError:
        return "gone"


def machine_lines() -> list[str]:
    """One markdown bullet per fact about the machine this run used."""
    load = os.getloadavg()
    return [
        f"- CPU: {cpu_model()}, `nproc` = {os.cpu_count()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}",
        f"- load average at start: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        "(shared machine: other jobs ran concurrently)",
        f"- code: {git_state()}",
    ]


def print_machine() -> None:
    print("\n".join(machine_lines()))
    print()


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def spread(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    """'median (min–max, n runs)' for a handful of repeated measurements."""
    if len(values) == 1:
        return fmt.format(values[0])
    return (
        f"{fmt.format(median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))},"
        f" n={len(values)})"
    )


def md_table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Render a markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def rss_mib() -> float:
    """Current resident set size of this process in MiB (Linux /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _vmrss_kib(pid: int | str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def parse_worker_pids() -> list[int]:
    """The live parse worker processes of this process (`bot.ingest.parse_workers.parse_pool`)."""
    from bot.ingest import parse_workers

    pool = parse_workers._pool  # started on the first parse
    return pool.worker_pids() if pool is not None else []


def children_rss_mib() -> float:
    """Resident memory of the parse worker processes, summed, in MiB.

    A sum of RSS counts pages the processes share (the interpreter's own) once per
    process: what `ps` and an operator's monitor show, an upper bound on the cost."""
    return sum(_vmrss_kib(pid) for pid in parse_worker_pids()) / 1024


class RssSampler:
    """Peak RSS of this process and of its parse workers (summed) while a block runs.

    A thread polls /proc every `interval` seconds; `peak_main`, `peak_children` and
    `peak_total` (the highest sum seen in one poll) are MiB."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_main = self.peak_children = self.peak_total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="rss-sampler", daemon=True)

    def _poll(self) -> None:
        while True:
            main, children = rss_mib(), children_rss_mib()
            self.peak_main = max(self.peak_main, main)
            self.peak_children = max(self.peak_children, children)
            self.peak_total = max(self.peak_total, main + children)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def fix_loopback_fakes(enabled: bool = True) -> None:
    """Make the test servers behave like real ones (in this process only; files untouched).

    Both fakes write the response headers and body in two send() calls; without
    TCP_NODELAY, Nagle's algorithm holds the body until the client's delayed ACK
    (~40 ms on Linux), so every request to them costs ~45 ms. And socketserver's
    listen backlog of 5 resets connections when a client opens 64 at once. The test
    files set both themselves since c80e22a; `enabled=False` restores the old behaviour.
    """
    from tests.support import feedserver
    from tests.support.fake_telegram import server

    server._Handler.disable_nagle_algorithm = enabled
    feedserver._Handler.disable_nagle_algorithm = enabled
    server._Server.request_queue_size = 1024 if enabled else 5
    feedserver._HTTPServer.request_queue_size = 1024 if enabled else 5


def parse_bench_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, stall: str
) -> argparse.Namespace:
    """Add the shared `--as-is-fakes` option (`stall`: what it keeps), parse `argv`,
    then set up the fakes and quiet logging as every benchmark does."""
    parser.add_argument(
        "--as-is-fakes",
        action="store_true",
        help=f"keep {stall} (see bench/_common.py)",
    )
    args = parser.parse_args(argv)
    fix_loopback_fakes(not args.as_is_fakes)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return args


def corpus_headlines(rng: random.Random) -> Callable[[datetime], str]:
    """Headlines from the synthetic news corpus, for `seed_story_corpus(headlines=...)`."""
    vocab = Vocabulary(rng)
    return lambda published: render_headline(vocab.event(rng, published), rng, variant=0)


PG_BASE = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_fresh_schema(base: str = PG_BASE) -> str:
    """Create an empty schema in the PostgreSQL database `base`; return a URL that uses it."""
    import uuid

    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def pg_drop_schema(url: str, base: str = PG_BASE) -> None:
    """Drop the schema `pg_fresh_schema` made for `url`."""
    import sqlalchemy as sa

    schema = url.rsplit("%3D", 1)[-1]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
