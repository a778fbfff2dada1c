"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _story_key_statements(engine: Engine) -> list[tuple[str, Any]]:
    """Every statement reading or deleting story_key rows in an ingest and a prune."""
    from bot.ingest.stories import ingest_entries
    from bot.ingest.topics import TopicMatcher
    from bot.storage.db import session_scope
    from bot.storage.models import Feed
    from bot.storage.retention import LISTING_MARGIN, prune_stories
    from tests.test_story_batch import BATCH, STORED, T0

    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "story_key" in statement and not statement.lstrip().upper().startswith("INSERT"):
            seen.append((statement, parameters))

    with session_scope(engine) as session:
        session.add_all([Feed(url="https://a/rss", name="A"), Feed(url="https://b/rss", name="B")])
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        for feed_id, entries in ((2, STORED), (1, BATCH)):
            with session_scope(engine) as session:
                feed = session.get(Feed, feed_id)
                assert feed is not None
                ingest_entries(
                    session,
                    feed=feed,
                    entries=entries,
                    matcher=TopicMatcher.from_topics([]),
                    now=T0,
                    window=timedelta(hours=48),
                )
        later = datetime.now(UTC) + timedelta(days=400)
        with session_scope(engine) as session:
            for feed in session.exec(sa.select(Feed)).scalars():  # fetched since: prunable
                feed.last_success_at = later + 2 * LISTING_MARGIN
        with session_scope(engine) as session:
            assert prune_stories(session, before=later) > 0
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the tables are tiny
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        return "\n".join(str(row[0]) for row in rows)


def test_story_key_is_keyed_for_the_window_read(engine: Engine) -> None:
    """0009: the dedup window read is a range of story_key's primary key, the second
    key-ordered index is gone (SQLite: WITHOUT ROWID), and every read or delete of
    story_key rows still uses an index."""
    inspector = sa.inspect(engine)
    assert inspector.get_pk_constraint("story_key")["constrained_columns"] == [
        "key",
        "published_at",
        "story_id",
    ]
    assert [index["name"] for index in inspector.get_indexes("story_key")] == [
        "ix_story_key_story_id"
    ]
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            sql = conn.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE name = 'story_key'")
            ).scalar_one()
        assert "WITHOUT ROWID" in sql
    statements = _story_key_statements(engine)
    kinds = {"GROUP BY": 0, "story_key.story_id =": 0, "DELETE": 0}  # counting, per story, prune
    for statement, parameters in statements:
        kind = next(k for k in kinds if k in statement)
        kinds[kind] += 1
        plan = _plan(engine, statement, parameters)
        if engine.dialect.name == "sqlite":
            assert "SCAN s\n" not in plan + "\n" and "SCAN story_key" not in plan, plan
        else:
            assert "Seq Scan on story_key" not in plan, plan
        if kind == "GROUP BY":  # the window read: a range of the primary key
            if engine.dialect.name == "sqlite":
                assert "USING PRIMARY KEY (key=? AND published_at>? AND published_at<?)" in plan
            else:
                assert "story_key_pkey" in plan and "published_at >=" in plan, plan
        else:
            assert "ix_story_key_story_id" in plan, plan
    assert all(kinds.values()), kinds


def test_0009_keeps_every_story_key_row(empty_url: str) -> None:
    """Upgrading over stored keys keeps them all; downgrading restores the old keying."""
    from alembic import command

    from bot.storage.db import alembic_config, make_engine, migrate

    engine = make_engine(empty_url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [(key, story, now) for story in (1, 2) for key in (-5, 7, 2**62 + story)]
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0008")
        with engine.begin() as conn:
            for story in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO story (id, title, summary, link, source_name,"
                        " published_at, first_seen_at, entry_count)"
                        " VALUES (:id, 't', '', NULL, 's', :now, :now, 1)"
                    ),
                    {"id": story, "now": now},
                )
            conn.execute(
                sa.text("INSERT INTO story_key (key, story_id, published_at) VALUES (:k, :s, :p)"),
                [{"k": k, "s": s, "p": p} for k, s, p in rows],
            )
        keys = "SELECT key, story_id, published_at FROM story_key ORDER BY story_id, key"
        migrate(engine)
        with engine.connect() as conn:
            after = [tuple(row) for row in conn.execute(sa.text(keys))]
        assert [(k, s) for k, s, _ in after] == [(k, s) for k, s, _ in sorted(rows, key=_by_story)]
        command.downgrade(config, "0008")
        inspector = sa.inspect(engine)
        old_key = inspector.get_pk_constraint("story_key")["constrained_columns"]
        assert old_key == ["key", "story_id"]
        assert {i["name"] for i in inspector.get_indexes("story_key")} == {
            "ix_story_key_key_published",
            "ix_story_key_story_id",
        }
        with engine.connect() as conn:
            assert [tuple(row) for row in conn.execute(sa.text(keys))] == after
        migrate(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        engine.dispose()


def _by_story(row: tuple[int, int, datetime]) -> tuple[int, int]:
    return row[1], row[0]
