"""Retention queries: delete old rows one small batch at a time.

Each function deletes at most `limit` rows and returns how many it deleted;
the caller commits between batches, so no statement holds SQLite's write lock
for long and the ticks of other jobs keep running in between.

An entry's identity must stay known while its feed still lists the item,
or the next refresh would take it for a new one and deliver it again.
`Entry.seen_at` therefore means "last seen listed": `touch_listed` moves it
forward (at most once a day) whenever a refresh meets a known entry, and a
story is pruned only when every entry of it went unlisted for the whole
retention period while its feed kept being fetched successfully.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select, update

from bot.storage.models import (
    ArticleText,
    AuditEntry,
    Delivery,
    Entry,
    Feed,
    Outbox,
    Story,
    StoryKey,
    StoryTopic,
    StoryVector,
)

BATCH = 500
TOUCH_EVERY = timedelta(days=1)  # how stale "last seen listed" may get before a write
# A feed must have been fetched well after an entry's last listing before that
# entry counts as gone: full refetches come at least daily (see refresh's
# NOT_MODIFIED_TRUST), and touches are a day apart.
LISTING_MARGIN = timedelta(days=3)
DONE_STATUSES = ("sent", "failed", "cancelled")


def touch_listed(
    session: Session, feed_id: int, identities: Sequence[str], *, now: datetime
) -> None:
    """Record that the feed still lists these (already stored) entries."""
    for i in range(0, len(identities), BATCH):
        session.exec(
            update(Entry)
            .where(
                col(Entry.feed_id) == feed_id, col(Entry.identity).in_(identities[i : i + BATCH])
            )
            .where(col(Entry.seen_at) < now - TOUCH_EVERY)
            .values(seen_at=now)
        )


def prune_outbox(session: Session, *, before: datetime, limit: int = BATCH) -> int:
    """Delete finished (sent, failed, cancelled) outbox rows created before `before`."""
    ids = session.exec(
        select(Outbox.id)
        .where(col(Outbox.status).in_(DONE_STATUSES), col(Outbox.created_at) < before)
        .limit(limit)
    ).all()
    if ids:
        session.exec(delete(Outbox).where(col(Outbox.id).in_(ids)))
    return len(ids)


def prune_stories(
    session: Session, *, before: datetime, margin: timedelta = LISTING_MARGIN, limit: int = BATCH
) -> int:
    """Delete stories first seen before `before` none of whose entries may still be listed.

    An entry may still be listed when it was seen listed since `before`, or
    when its feed has not been fetched successfully since (a feed that is
    down or paused keeps its entries until it comes back and drops them).
    """
    alive_since = before + margin
    maybe_listed = (
        select(Entry.id)
        .join(Feed, col(Feed.id) == col(Entry.feed_id))
        .where(col(Entry.story_id) == col(Story.id))
        .where(
            sa.or_(
                col(Entry.seen_at) >= before,
                col(Feed.last_success_at).is_(None),
                col(Feed.last_success_at) < alive_since,
            )
        )
        .exists()
    )
    ids = list(
        session.exec(
            select(Story.id).where(col(Story.first_seen_at) < before, ~maybe_listed).limit(limit)
        ).all()
    )
    if not ids:
        return 0
    for table in (Delivery, ArticleText, StoryTopic, StoryKey, StoryVector, Entry):
        session.exec(delete(table).where(col(table.story_id).in_(ids)))
    session.exec(delete(Story).where(col(Story.id).in_(ids)))
    return len(ids)


def _prune_older(session: Session, key: Any, stamp: Any, before: datetime, limit: int) -> int:
    """Delete up to `limit` rows whose `stamp` column is before `before`, by `key`.

    `key` and `stamp` are two columns of one model (typed Any: SQLModel types a
    column as its value type); the model to delete from is `key`'s class.
    """
    ids = session.exec(select(col(key)).where(col(stamp) < before).limit(limit)).all()
    if ids:
        session.exec(delete(key.class_).where(col(key).in_(ids)))
    return len(ids)


def prune_articles(session: Session, *, before: datetime, limit: int = BATCH) -> int:
    """Delete cached article texts fetched before `before` (a tap fetches again)."""
    return _prune_older(session, ArticleText.story_id, ArticleText.fetched_at, before, limit)


def prune_audit(session: Session, *, before: datetime, limit: int = BATCH) -> int:
    """Delete admin audit rows written before `before`."""
    return _prune_older(session, AuditEntry.id, AuditEntry.created_at, before, limit)
