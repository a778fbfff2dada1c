"""retention indexes: story_key and delivery by story, for pruning stories

Deleting a story makes the database look up its story keys and deliveries
(the deletes themselves and the foreign-key checks); neither table had an
index leading with story_id, so each pruned story cost a full table scan.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_story_key_story_id", "story_key", ["story_id"])
    op.create_index("ix_delivery_story_id", "delivery", ["story_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_story_id", table_name="delivery")
    op.drop_index("ix_story_key_story_id", table_name="story_key")
