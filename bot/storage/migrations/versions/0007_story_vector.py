"""story_vector: one headline embedding per story, for semantic dedup

Written only while the semantic dedup method is active (the [semantic] extra
and a model are installed); empty otherwise. Existing stories get no vector:
they are still found through their story keys.

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_vector",
        sa.Column("story_id", sa.Integer(), sa.ForeignKey("story.id"), primary_key=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_story_vector_published_at", "story_vector", ["published_at"])


def downgrade() -> None:
    op.drop_index("ix_story_vector_published_at", table_name="story_vector")
    op.drop_table("story_vector")
