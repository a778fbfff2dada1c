"""story_key keyed (key, published_at, story_id); WITHOUT ROWID on SQLite

The dedup read asks for the rows of a few hundred keys within a time window; it
used the (key, published_at) index, and every insert also went into the
(key, story_id) primary key. Keyed (key, published_at, story_id) the primary key
serves the read by itself, so the second key-ordered index goes. A story's keys
all carry its publication time, which never changes, so (key, story_id) stays
unique in practice. On SQLite the table is rebuilt WITHOUT ROWID (rows stored in
the primary key's B-tree: one random leaf per new row instead of two, plus the
rowid table's); PostgreSQL has no such option and gets the same primary key and
indexes on its heap table.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = "key, published_at, story_id"


def _rebuild_sqlite(primary_key: list[str], *, with_rowid: bool) -> None:
    """Copy story_key into a new table with this primary key (SQLite cannot alter one)."""
    op.create_table(
        "_story_key_new",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("story_id", sa.Integer(), sa.ForeignKey("story.id"), nullable=False),
        sa.PrimaryKeyConstraint(*primary_key),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        f"INSERT INTO _story_key_new ({_COLUMNS}) SELECT {_COLUMNS} FROM story_key"
        f" ORDER BY {', '.join(primary_key)}"
    )
    op.drop_table("story_key")  # and its indexes
    op.rename_table("_story_key_new", "story_key")
    op.create_index("ix_story_key_story_id", "story_key", ["story_id"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(["key", "published_at", "story_id"], with_rowid=False)
        return
    op.drop_index("ix_story_key_key_published", table_name="story_key")
    op.drop_constraint("story_key_pkey", "story_key", type_="primary")
    op.create_primary_key("story_key_pkey", "story_key", ["key", "published_at", "story_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(["key", "story_id"], with_rowid=True)
        op.create_index("ix_story_key_key_published", "story_key", ["key", "published_at"])
        return
    op.drop_constraint("story_key_pkey", "story_key", type_="primary")
    op.create_primary_key("story_key_pkey", "story_key", ["key", "story_id"])
    op.create_index("ix_story_key_key_published", "story_key", ["key", "published_at"])
