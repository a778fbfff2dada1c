"""`python -m bot healthcheck | backup PATH | restore PATH`: commands for operators."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import httpx

from bot.ops.backup import BackupError, backup_sqlite, pg_command, restore_sqlite, sqlite_path
from bot.ops.health import readiness
from bot.settings import Settings
from bot.storage.db import DatabaseError, make_engine, worker_lock

PROBE_TIMEOUT = 10.0


class OpsCommandError(Exception):
    """Print the message and exit 1."""


def probe_address(host: str, port: int) -> str:
    """The URL of /readyz for a listen address (a wildcard address is asked on loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/readyz"


def run_healthcheck(settings: Settings, out: TextIO) -> int:
    """Exit 0 when ready, 1 when not; print the one-line JSON verdict.

    With `ops.listen` set, the running process is asked (it alone knows its
    ticks); without it, the database and outbox checks run here.
    """
    address = settings.ops.address
    if address is not None:
        url = probe_address(*address)
        try:
            answer = httpx.get(url, timeout=PROBE_TIMEOUT)
        except httpx.HTTPError as exc:
            print(f'{{"status": "failing", "reason": "no answer at {url}: {exc}"}}', file=out)
            return 1
        print(answer.text.strip(), file=out)
        return 0 if answer.status_code == 200 else 1
    engine = make_engine(settings.database_url)
    try:
        verdict = asyncio.run(
            readiness(engine, None, max_outbox_age=settings.ops.max_outbox_age_seconds)
        )
    finally:
        engine.dispose()
    print(verdict.json_line(), file=out)
    return 0 if verdict.ok else 1


def _counts_line(counts: dict[str, int]) -> str:
    keys = ("outbox", "chat", "feed", "story", "entry")
    return ", ".join(f"{k}={counts[k]}" for k in keys if k in counts)


# What to print for PostgreSQL, by tool: the lines before and after its command.
_PG_HINTS = {
    "pg_dump": (
        "PostgreSQL is backed up with its own tool; run:",
        "(the password comes from PGPASSWORD or ~/.pgpass)",
    ),
    "pg_restore": ("PostgreSQL is restored with its own tool; with the bot stopped, run:", None),
}


def _sqlite_file(settings: Settings, tool: str, path: Path, out: TextIO) -> Path | None:
    """The database's SQLite file; for PostgreSQL None, after saying which `tool` command to run."""
    source = sqlite_path(settings.database_url)
    if source is None:
        lead, note = _PG_HINTS[tool]
        print(lead, file=out)
        print(f"  {pg_command(settings.database_url, tool, path)}", file=out)
        if note:
            print(note, file=out)
    return source


def _copy_sqlite(
    settings: Settings,
    args: argparse.Namespace,
    out: TextIO,
    tool: str,
    copy: Callable[[Path, Path], dict[str, int]],
    done: str,
) -> int:
    """Copy between the SQLite file and PATH with `copy(db_file, path)`, then print `done`
    (formatted with db and path) and the row counts; for PostgreSQL, the `tool` hint instead."""
    path = Path(args.path)
    try:
        db = _sqlite_file(settings, tool, path, out)
        if db is None:
            return 0
        counts = copy(db, path)
    except BackupError as exc:
        raise OpsCommandError(str(exc)) from exc
    print(f"{done.format(db=db, path=path)} ({_counts_line(counts)})", file=out)
    return 0


def run_backup(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    return _copy_sqlite(settings, args, out, "pg_dump", backup_sqlite, "backup written to {path}")


def run_restore(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    def restore(dest: Path, path: Path) -> dict[str, int]:
        lock = worker_lock(make_engine(settings.database_url))
        if lock is not None:
            try:
                lock.acquire()  # refused while a bot or worker process runs on this file
            except DatabaseError as exc:
                raise OpsCommandError(f"stop the bot before restoring ({exc})") from exc
        try:
            return restore_sqlite(path, dest)
        finally:
            if lock is not None:
                lock.release()

    return _copy_sqlite(settings, args, out, "pg_restore", restore, "restored {db} from {path}")
