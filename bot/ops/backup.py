"""Backups: SQLite's online backup API (consistent while the bot writes); pg_dump for PostgreSQL.

A backup is one consistent snapshot: SQLite copies every page within a single
read transaction, which in WAL mode never blocks the bot's writers. The copy
is written next to its destination and renamed into place only after an
integrity check, so a half-written backup never carries the final name.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sqlite3
from pathlib import Path

import sqlalchemy as sa


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL, or None for other databases."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(parsed.database)


def pg_command(url: str, tool: str, path: Path) -> str:
    """The pg_dump / pg_restore command line for `url` (password left to PGPASSWORD)."""
    given = sa.engine.make_url(url)
    parsed = sa.engine.URL.create(
        "postgresql",
        username=given.username,
        host=given.host,
        port=given.port,
        database=given.database,
        query=given.query,
    )
    target = parsed.render_as_string(hide_password=False)
    if tool == "pg_dump":
        return f"pg_dump --format=custom --file={shlex.quote(str(path))} {shlex.quote(target)}"
    return f"pg_restore --clean --if-exists --dbname={shlex.quote(target)} {shlex.quote(str(path))}"


def _check(conn: sqlite3.Connection, what: str) -> None:
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is not a SQLite database ({exc})") from exc
    if not result or result[0] != "ok":
        raise BackupError(f"{what} failed SQLite's integrity check: {result[0] if result else ''}")
    if "alembic_version" not in tables:
        raise BackupError(f"{what} is not a newsbrief database (no alembic_version table)")


def backup_sqlite(source: Path, dest: Path) -> dict[str, int]:
    """Copy the live database at `source` to the new file `dest`; return its row counts."""
    if not source.exists():
        raise BackupError(f"no database at {source}")
    if dest.exists():
        raise BackupError(f"{dest} exists already; name a new file")
    if not dest.absolute().parent.is_dir():
        raise BackupError(f"the folder {dest.absolute().parent} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=15)
        try:
            out = sqlite3.connect(partial)
            try:
                src.backup(out)  # all pages in one step: one read transaction, one snapshot
                out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                _check(out, "the copy")
                counts = row_counts(out)
            finally:
                out.close()
        finally:
            src.close()
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return counts


def restore_sqlite(backup: Path, dest: Path) -> dict[str, int]:
    """Replace the database at `dest` with the backup's content; return the row counts."""
    if not backup.exists():
        raise BackupError(f"no backup at {backup}")
    try:
        src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            _check(src, str(backup))
            out = sqlite3.connect(dest, timeout=15)
            try:
                src.backup(out)  # page by page into the live file, through SQLite's own locking
                counts = row_counts(out)
            finally:
                out.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"restore into {dest} failed: {exc}") from exc
    return counts


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table of an open SQLite database."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def file_row_counts(path: Path) -> dict[str, int]:
    """Rows per table of the SQLite file at `path`."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return row_counts(conn)
