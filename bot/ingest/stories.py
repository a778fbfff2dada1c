"""Merge new entries into cross-source stories: dedup, topic matching and inserts.

Candidate stories come from the `story_key` index (read once per feed by
`bot.ingest.story_batch`), so the cost of an insert does not grow with the
number of stored stories. With the semantic method (`bot.ingest.semantic`) the
stories whose headline embeddings lie nearest join the candidates, and each
candidate's cosine goes with it. The decision itself is
`bot.ingest.dedup.best_match`; the evaluation (bench/dedup_eval.py), the
benchmarks and the tests all run this module, not a copy of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.ingest import story_batch
from bot.ingest.parser import ParsedEntry, entry_identities
from bot.ingest.semantic import SemanticDedup
from bot.ingest.topics import TopicMatcher
from bot.storage import stories as story_store
from bot.storage.models import Feed
from bot.storage.retention import touch_listed

# The memoised fingerprint, shared with the batch path (one cache).
fingerprint = story_batch.fingerprint


@dataclass(frozen=True)
class IngestOutcome:
    new_entries: int = 0
    new_stories: int = 0
    merged: int = 0
    story_ids: tuple[int, ...] = ()


def ingest_entries(
    session: Session,
    *,
    feed: Feed,
    entries: Sequence[ParsedEntry],
    matcher: TopicMatcher,
    now: datetime,
    window: timedelta,
    semantic: SemanticDedup | None = None,
) -> IngestOutcome:
    """Store the entries this feed has not seen and attach each to a story.

    The feed's new entries are decided and written together, with either method
    (`bot.ingest.story_batch`): a handful of statements per feed, not per entry.
    """
    assert feed.id is not None
    identities = entry_identities(entries)
    known = story_store.known_identities(session, feed.id, identities)
    # Still listed: keep these entries' identities past the retention period.
    touch_listed(session, feed.id, sorted(known), now=now)
    fresh: dict[str, ParsedEntry] = {}  # new identities, first occurrence wins
    for entry, identity in zip(entries, identities, strict=True):
        if identity not in known:
            fresh.setdefault(identity, entry)
    info = story_batch.FeedInfo(feed.id, feed.display_name, feed.topic_slugs)
    created, joined, story_ids = story_batch.ingest_fresh(
        session,
        feed=info,
        fresh=list(fresh.items()),
        matcher=matcher,
        now=now,
        window=window,
        semantic=semantic,
    )
    return IngestOutcome(len(fresh), created, joined, story_ids)
