"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401  (registers every table)


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migrating_twice_is_a_no_op(engine: Engine) -> None:
    from bot.storage.db import migrate

    migrate(engine)
    migrate(engine)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An unmigrated database: a SQLite file, then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def test_0005_runs_forward_over_existing_chats(empty_url: str) -> None:
    """Chats and outbox rows made before 0005 keep everything; the new tables take rows."""
    from alembic import command

    from bot.storage.db import alembic_config, make_engine, migrate

    engine = make_engine(empty_url)
    try:
        command.upgrade(alembic_config(engine), "0004")
        now = datetime(2026, 1, 1, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO chat (id, type, active, stopped, timezone, briefing_times, mode,"
                    " created_at, updated_at) VALUES (-1001, 'supergroup', true, false, 'UTC',"
                    " '08:00', 'scheduled', :now, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                sa.text("INSERT INTO subscription VALUES (-1001, 'world', :now)"), {"now": now}
            )
            conn.execute(
                sa.text(
                    "INSERT INTO outbox (chat_id, kind, dedup_key, priority, text, status,"
                    " attempts, not_before, created_at) VALUES (-1001, 'briefing', 'k', 10, 'x',"
                    " 'pending', 0, :now, :now)"
                ),
                {"now": now},
            )
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO chat_filter VALUES (-1001, 'mute', 'football', :now)"),
                {"now": now},
            )
            conn.execute(
                sa.text("INSERT INTO channel_manager VALUES (7, -1001, true, :now)"), {"now": now}
            )
            chat = conn.execute(
                sa.text("SELECT type, briefing_times, parent_id, thread_id, active FROM chat")
            ).one()
            managers = conn.execute(sa.text("SELECT user_id FROM channel_manager")).all()
            subs = conn.execute(sa.text("SELECT topic FROM subscription")).scalars().all()
            mutes = conn.execute(sa.text("SELECT phrase FROM chat_filter")).scalars().all()
            pending = conn.execute(sa.text("SELECT status, thread_id FROM outbox")).one()
        assert tuple(pending) == ("pending", None)
        assert tuple(chat) == ("supergroup", "08:00", None, None, True)  # the chat is its own
        assert subs == ["world"] and mutes == ["football"] and [m[0] for m in managers] == [7]
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        engine.dispose()
