"""`python -m bot backup` and `restore`: consistent copies of a SQLite database being written."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli.main import main
from bot.ops.backup import file_row_counts
from bot.storage import outbox
from bot.storage.db import open_database, session_scope, worker_lock
from bot.storage.models import utcnow

MESSAGES = 1000
BATCH = 10  # rows per transaction: a consistent snapshot holds a multiple of this


def write_outbox(url: str, halfway: threading.Event, errors: list[BaseException]) -> None:
    """Enqueue MESSAGES outbox rows, BATCH per transaction, as the composer would."""
    engine = open_database(url)
    try:
        for start in range(0, MESSAGES, BATCH):
            batch = [
                outbox.NewMessage(1000 + i % 50, "briefing", f"m{i}", f"briefing {i}")
                for i in range(start, start + BATCH)
            ]
            with session_scope(engine) as session:
                outbox.enqueue(session, batch, now=utcnow())
            if start + BATCH == MESSAGES // 2:
                halfway.set()
    except BaseException as exc:
        errors.append(exc)
        halfway.set()
    finally:
        engine.dispose()


def outbox_ids(url: str) -> list[int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM outbox ORDER BY id"))]
    engine.dispose()
    return ids


def test_backup_while_the_outbox_is_written_then_restore_the_same_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.sqlite3"
    url = f"sqlite:///{db}"
    env = {"DATABASE_URL": url}
    open_database(url).dispose()
    halfway, errors = threading.Event(), []
    writer = threading.Thread(target=write_outbox, args=(url, halfway, errors))
    writer.start()
    halfway.wait(timeout=60)
    during = [tmp_path / f"during-{i}.sqlite3" for i in range(3)]
    for path in during:  # taken while the writer keeps committing
        assert main(["backup", str(path)], env) == 0
    writer.join(timeout=120)
    assert not errors and not writer.is_alive()
    after = tmp_path / "after.sqlite3"
    assert main(["backup", str(after)], env) == 0
    assert "backup written to" in capsys.readouterr().out

    snapshots = [file_row_counts(p)["outbox"] for p in during]
    print("outbox rows in the copies taken while writing:", snapshots)
    for count in snapshots:
        assert MESSAGES // 2 <= count <= MESSAGES and count % BATCH == 0
    assert file_row_counts(after)["outbox"] == MESSAGES

    # Restore the first mid-write copy: exactly its rows, whole transactions only.
    expected = file_row_counts(during[0])
    assert main(["restore", str(during[0])], env) == 0
    assert file_row_counts(db) == expected
    assert outbox_ids(url) == list(range(1, expected["outbox"] + 1))
    open_database(url).dispose()  # the restored file opens and migrates like any other

    assert main(["restore", str(after)], env) == 0
    assert file_row_counts(db) == file_row_counts(after)
    assert file_row_counts(db)["outbox"] == MESSAGES


def test_restore_refuses_while_the_bot_runs_and_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    env = {"DATABASE_URL": url}
    engine = open_database(url)
    copy = tmp_path / "copy.sqlite3"
    assert main(["backup", str(copy)], env) == 0
    assert main(["backup", str(copy)], env) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["backup", str(tmp_path / "no-such-folder" / "b.sqlite3")], env) == 1
    assert f"the folder {tmp_path / 'no-such-folder'} does not exist" in capsys.readouterr().err

    lock = worker_lock(engine)
    assert lock is not None
    lock.acquire()  # what `python -m bot run` holds
    try:
        assert main(["restore", str(copy)], env) == 1
        assert "stop the bot before restoring" in capsys.readouterr().err
    finally:
        lock.release()
    engine.dispose()

    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    assert main(["restore", str(junk)], env) == 1
    assert "is not a SQLite database" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "nope.sqlite3")], env) == 1
    assert "no backup at" in capsys.readouterr().err


def test_postgres_backup_prints_the_pg_dump_command_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"DATABASE_URL": "postgresql+psycopg://bot:S3cret-pw@db.internal:5433/news"}
    assert main(["backup", "/backups/news.dump"], env) == 0
    out = capsys.readouterr().out
    assert "pg_dump --format=custom --file=/backups/news.dump" in out
    assert "postgresql://bot@db.internal:5433/news" in out
    assert "S3cret-pw" not in out
    assert main(["restore", "/backups/news.dump"], env) == 0
    assert "pg_restore --clean --if-exists" in capsys.readouterr().out
