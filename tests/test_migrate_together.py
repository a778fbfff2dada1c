"""Processes that start together on a fresh database: each migrates, one at a time.

Every `python -m bot` command migrates before it works, so a bot and its workers
(or replicas, or a health check beside a start) started at once all run the
migrations; none may fail on a table or column another one just created.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.process import clean_env

pytestmark = pytest.mark.slow

PROCESSES = 4


def migrate_at_once(url: str, cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start PROCESSES `python -m bot migrate` on `url` together; wait for every one."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "migrate"],
            cwd=cwd,
            env=clean_env(DATABASE_URL=url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


@pytest.mark.postgres
def test_processes_migrating_a_fresh_postgres_database_together(
    pg_url: str, tmp_path: Path
) -> None:
    for result in migrate_at_once(pg_url, tmp_path):
        assert result.returncode == 0, result.stderr[-2000:]
        assert "is up to date" in result.stdout
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_processes_migrating_a_fresh_sqlite_file_together(tmp_path: Path) -> None:
    for attempt in range(3):  # SQLite's race is narrower: give it a few chances to show
        url = f"sqlite:///{tmp_path / f'fresh{attempt}.sqlite3'}"
        for result in migrate_at_once(url, tmp_path):
            assert result.returncode == 0, result.stderr[-2000:]
