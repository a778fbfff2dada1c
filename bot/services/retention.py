"""Use case: prune what the bot no longer needs, in small committed batches."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.settings import RetentionSettings
from bot.storage import retention as store
from bot.storage.db import session_scope
from bot.tally import Tally

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetentionReport(Tally):
    """Rows each retention step deleted."""

    outbox: int = 0
    stories: int = 0
    articles: int = 0
    audit: int = 0


def _drain(
    engine: Engine, prune: Callable[[Session], int], *, batch: int, stop: Callable[[], bool]
) -> int:
    """Run one pruning query batch after batch, each in its own transaction."""
    total = 0
    while not stop():
        with session_scope(engine) as session:
            deleted = prune(session)
        total += deleted
        if deleted < batch:
            break
    return total


def prune(
    engine: Engine,
    keep: RetentionSettings,
    *,
    now: datetime,
    batch: int = store.BATCH,
    stop: Callable[[], bool] = lambda: False,
) -> RetentionReport:
    """Delete rows older than the configured number of days; return the counts."""

    def days(n: int) -> datetime:
        return now - timedelta(days=n)

    # Deliveries go with their stories, so a story is never pruned before its
    # outbox rows could need it: stories_days should exceed outbox_days.
    margin = min(store.LISTING_MARGIN, timedelta(days=keep.stories_days) / 2)
    steps: dict[str, Callable[[Session], int]] = {
        "outbox": lambda s: store.prune_outbox(s, before=days(keep.outbox_days), limit=batch),
        "stories": lambda s: store.prune_stories(
            s, before=days(keep.stories_days), margin=margin, limit=batch
        ),
        "articles": lambda s: store.prune_articles(s, before=days(keep.articles_days), limit=batch),
        "audit": lambda s: store.prune_audit(s, before=days(keep.audit_days), limit=batch),
    }
    # In this order: outbox rows go before the stories they point at.
    return RetentionReport(
        **{name: _drain(engine, step, batch=batch, stop=stop) for name, step in steps.items()}
    )
