"""chat language and display settings, story images, outbox send options

Every new column is nullable: NULL on a chat means "the configured default",
so existing chats follow the config until they choose; existing stories have
no image and existing outbox rows are plain text messages.

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CHAT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("language", sa.String(length=8)),
    ("link_preview", sa.String(length=8)),
    ("lead_image", sa.Boolean()),
    ("summaries", sa.Boolean()),
    ("max_items", sa.Integer()),
    ("quiet", sa.Boolean()),
)


def upgrade() -> None:
    with op.batch_alter_table("chat") as batch:
        for name, type_ in _CHAT_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("story") as batch:
        batch.add_column(sa.Column("image_url", sa.String(length=2048), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("options", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("options")
    with op.batch_alter_table("story") as batch:
        batch.drop_column("image_url")
    with op.batch_alter_table("chat") as batch:
        for name, _ in reversed(_CHAT_COLUMNS):
            batch.drop_column(name)
