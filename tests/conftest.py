"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when present), the fake
Bot API (`tg`) and a local feed server (`server`).

A module that needs routes or options overrides a fixture by name, e.g.
`def server(server): return serve_news(server)`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.settings import Settings
from bot.storage.db import open_database
from tests.support.adminkit import admin_settings
from tests.support.botharness import running_bot
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# Tests that check pace or deadlines against the wall clock (Telegram's 30/s, per-chat
# slots, 15 s callback answers, 4 s worker leases) are marked `paced`. The README's test
# command runs the rest in pytest-xdist workers first, then these one at a time on an
# otherwise idle machine: beside busy workers a 2-core host misses the deadlines they check.
PACED_MODULES = frozenset(
    {
        "test_storm",
        "test_fairness",
        "test_pacing_real_spacing",
        "test_workers",
        "test_crash",
        "test_paid_broadcast",
        "test_forum",
        "test_outbox_marks",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in PACED_MODULES:
            item.add_marker(pytest.mark.paced)


def shared_data(name: str) -> Path:
    """Path of a ../shared/data folder; skip (or fail in CI) when it is absent."""
    path = SHARED_DATA / name
    if not path.is_dir():
        if os.environ.get("REQUIRE_CORPUS") == "1":
            pytest.fail(f"../shared/data/{name} is required (REQUIRE_CORPUS=1) but absent")
        pytest.skip(f"../shared/data/{name} not found; clone next to ../shared to run this")
    return path


def postgres_url() -> str:
    """TEST_DATABASE_URL if PostgreSQL answers there; skip (or fail when required) if not."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    try:
        probe = sa.create_engine(url)
        with probe.connect():
            pass
        probe.dispose()
    except Exception as exc:  # any failure to connect means "not available here"
        reason = f"PostgreSQL not reachable at TEST_DATABASE_URL ({type(exc).__name__})"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " but REQUIRE_POSTGRES=1")
        pytest.skip(reason)
    return url


def schema_url(base: str, schema: str) -> str:
    """A URL whose connections use `schema` first (one throwaway schema per test)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test, dropped afterwards."""
    base = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(base, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database: SQLite, then the same test on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_url")
    eng = open_database(url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    yield eng
    eng.dispose()


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    """The strict fake Bot API server, with Telegram's flood limits on."""
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A feed server on 127.0.0.1 with no routes yet."""
    with FeedServer() as srv:
        yield srv


@pytest.fixture
async def admin_bot(
    tg: FakeTelegram, sqlite_engine: Engine
) -> AsyncIterator[tuple[Settings, Engine]]:
    """The bot running on `sqlite_engine` with the admin settings of tests.support.adminkit."""
    settings = admin_settings(tg)
    async with running_bot(settings, sqlite_engine):
        yield settings, sqlite_engine


@pytest.fixture(scope="session", autouse=True)
def _worker_processes() -> Iterator[None]:
    """Parse and extraction workers are shared by a session's tests, then stopped."""
    yield
    from bot.ingest.process_pool import shutdown_all

    shutdown_all()
