"""places: mute words and keywords; forum topics as subscribers; channels managed by users

Existing chats keep their ids; the new columns are NULL for them (a chat is its
own Telegram chat, General topic included).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat") as batch:
        batch.add_column(sa.Column("parent_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("thread_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("inactive_reason", sa.String(length=200), nullable=True))
        batch.create_index("ix_chat_parent_id", ["parent_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("thread_id", sa.Integer(), nullable=True))
    op.create_table(
        "chat_filter",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("phrase", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chat.id"]),
        sa.PrimaryKeyConstraint("chat_id", "kind", "phrase"),
    )

    op.create_table(
        "channel_manager",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["chat.id"]),
        sa.PrimaryKeyConstraint("user_id", "channel_id"),
    )


def downgrade() -> None:
    op.drop_table("channel_manager")
    op.drop_table("chat_filter")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("thread_id")
    with op.batch_alter_table("chat") as batch:
        batch.drop_index("ix_chat_parent_id")
        batch.drop_column("inactive_reason")
        batch.drop_column("thread_id")
        batch.drop_column("parent_id")
