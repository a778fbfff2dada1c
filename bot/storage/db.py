"""Engine, sessions and migrations: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.storage.write_gate import GatedConnection

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseError(RuntimeError):
    """The database cannot be opened or migrated; the message says why."""


SQLITE_CACHE_KIB = 32 * 1024  # page cache per connection, at most


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers (handlers) work while a writer (refresh) commits.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=15000")
    # SQLite's default page cache is 2 MiB a connection: a full refresh's writer read
    # and rewrote index pages through the OS again and again (store_digest, 1,000 feeds
    # in groups of 8: store CPU ~9 % lower at 32 MiB). A connection's cache grows to
    # this only as it touches pages; readers (handlers) touch few.
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create an engine for `url` with the per-backend settings we rely on."""
    if url.startswith("sqlite"):
        # Writers of this process queue for the file in arrival order (write_gate).
        connect_args = {"check_same_thread": False, "timeout": 15, "factory": GatedConnection}
        engine = sa.create_engine(url, connect_args=connect_args)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


# pg_advisory_lock key held while migrating: any constant our own tables never use.
MIGRATION_LOCK_KEY = 0x6E657773  # "news"


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's migration lock: one process migrates at a time.

    Every command migrates first, so processes started together (a bot and its
    workers, a health check beside a start) would otherwise run the same
    migration side by side and fail on "already exists". Whoever comes second
    waits, then finds the schema current. PostgreSQL: a session advisory lock;
    a SQLite file: a lock file beside it; a memory database needs none.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    import fcntl

    path = Path(database).with_suffix(".migrate.lock")
    try:
        lock = path.open("a+")
    except OSError as exc:
        raise DatabaseError(f"cannot create {path} to migrate: {exc.strerror or exc}") from exc
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent, one process at a time)."""
    config = alembic_config(engine)
    try:
        with migration_lock(engine):
            command.upgrade(config, "head")
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"cannot open database: {one_line(exc)}") from exc
    except AlembicCommandError as exc:
        # The usual cause: an older release started on a database a newer one migrated.
        head = ScriptDirectory.from_config(config).get_current_head()
        raise DatabaseError(
            f"cannot migrate the database: {one_line(exc)}; this version of the bot knows"
            f" revisions up to {head}: a newer version has migrated it, so run that version"
            " or restore the backup taken before the upgrade"
        ) from exc


def one_line(exc: Exception) -> str:
    """The driver's message of `exc` on one line (no SQLAlchemy background link, no hint
    lines), for messages that must stay one line."""
    return " ".join(str(getattr(exc, "orig", None) or exc).split())


def open_database(url: str) -> Engine:
    """Open and migrate the database at `url`; raise DatabaseError when unusable."""
    try:
        engine = make_engine(url)
        with engine.connect():
            pass
    except (sa.exc.ArgumentError, sa.exc.OperationalError, ModuleNotFoundError) as exc:
        detail = one_line(exc)
        folder = _missing_sqlite_folder(url)
        if folder is not None:
            detail = f"the folder {folder} does not exist"
        raise DatabaseError(f"cannot open database {redact_url(url)}: {detail}") from exc
    migrate(engine)
    return engine


def _missing_sqlite_folder(url: str) -> Path | None:
    """The folder a SQLite file URL names when that folder does not exist, else None."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    folder = Path(parsed.database).absolute().parent  # a relative path: from the working folder
    return None if folder.is_dir() else folder


def redact_url(url: str) -> str:
    """Hide the password in a database URL for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid url>"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class WorkerLock:
    """An exclusive lock file next to a SQLite database: one worker per file.

    SQLite has one writer at a time and no SKIP LOCKED; several workers on one
    file would fight over the same rows. PostgreSQL needs no such lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None

    def acquire(self) -> None:
        import fcntl

        self._file = self.path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._file.close()
            self._file = None
            raise DatabaseError(
                f"another worker already runs on this SQLite database ({self.path.stem}); "
                "SQLite allows one worker process: use PostgreSQL to run several"
            ) from exc

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def worker_lock(engine: Engine) -> WorkerLock | None:
    """The worker lock for a SQLite file database, or None where none is needed."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    if engine.url.database == ":memory:":
        return None
    return WorkerLock(Path(engine.url.database).with_suffix(".worker.lock"))
