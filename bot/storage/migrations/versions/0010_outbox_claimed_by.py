"""outbox.claimed_by: which worker holds a `sending` row

On PostgreSQL several workers share the outbox. A row said only that someone was
sending it (`sending`, a lease), so a worker that died while others lived left its
rows to their leases. `claimed_by` is the claiming worker's id, which is also the key
of the advisory lock that worker holds while it lives (bot/storage/presence.py): the
living hand back a dead worker's rows soon after it goes. NULL on SQLite (one worker
per file) and on rows claimed before this revision.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("claimed_by", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "claimed_by")  # SQLite ≥ 3.35 drops a plain column in place
