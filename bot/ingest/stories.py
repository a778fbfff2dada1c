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

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.ingest import story_batch
from bot.ingest.parser import ParsedEntry, entry_identities, with_link
from bot.ingest.recurring import guid_reused
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
    identities, known = _identities(session, feed.id, entries)
    fresh: dict[str, ParsedEntry] = {}  # new identities, first occurrence wins
    edited: dict[str, tuple[str, str]] = {}  # known identity -> (stored, new) headline
    for entry, identity in zip(entries, identities, strict=True):
        if identity not in known:
            fresh.setdefault(identity, entry)
        elif entry.title and entry.title[:400] != known[identity]:
            edited.setdefault(identity, (known[identity], entry.title[:400]))
    if edited:  # an edit is the same item, not sent again: it shows the headline as it is now
        story_store.retitle(session, feed.id, edited)
    listed = set(known) | _renamed(session, feed.id, fresh)
    # Still listed: keep these entries' identities past the retention period.
    touch_listed(session, feed.id, sorted(listed), now=now)
    info = story_batch.FeedInfo(feed.id, feed.display_name, feed.topic_slugs)
    created, joined, story_ids = story_batch.ingest_fresh(
        session,
        feed=info,
        fresh=list(fresh.items()),
        matcher=matcher,
        now=now,
        window=window,
        semantic=semantic,
        shared_links=_shared_links(entries),
    )
    return IngestOutcome(len(fresh), created, joined, story_ids)


def _shared_links(entries: Sequence[ParsedEntry]) -> frozenset[str]:
    """The links this fetch gives to items under different anchors of one page.

    A page of news in brief whose items link to its anchors (".../briefs#fares"): a
    canonical link drops the fragment, so every item has the page's link, which is no
    one article's address. (Items under one link without anchors, a live article's
    updates, still join by it: `bot.ingest.recurring`.)
    """
    anchors: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.link and entry.anchor:
            anchors[entry.link].add(entry.anchor)
    return frozenset(link for link, seen in anchors.items() if len(seen) > 1)


def _identities(
    session: Session, feed_id: int, entries: Sequence[ParsedEntry]
) -> tuple[list[str], dict[str, str]]:
    """Each entry's identity, and which of them the feed stored before, with the stored
    headline.

    An entry under a stored GUID that is another item (`recurring.guid_reused`: another
    link, a headline that is not the same story) takes its link into its identity, as
    `entry_identities` does for items sharing a GUID within one fetch.
    """
    identities = entry_identities(entries)
    stored = story_store.known_entries(session, feed_id, identities)
    rekeyed = list(identities)
    for i, (identity, entry) in enumerate(zip(identities, entries, strict=True)):
        found = stored.get(identity)
        if found is None or not identity.startswith("g:") or not entry.link:
            continue
        if found[0] in (None, entry.link):
            continue  # the common case, the same link again: no fingerprint needed
        stored_link, stored_title = found
        new = (entry.link, fingerprint(entry.title, entry.summary))
        if guid_reused(new, (stored_link, fingerprint(stored_title))):
            rekeyed[i] = with_link(identity, entry.link)
    changed = [r for r, identity in zip(rekeyed, identities, strict=True) if r != identity]
    known = {r: stored[r][1] for r in rekeyed if r in stored}
    if changed:
        again = story_store.known_entries(session, feed_id, changed)
        known.update((identity, title) for identity, (_, title) in again.items())
    return rekeyed, known


def _renamed(session: Session, feed_id: int, fresh: dict[str, ParsedEntry]) -> set[str]:
    """Drop from `fresh` the entries this feed stored before under another GUID; return
    the identities they were stored under.

    Some feeds mint a new GUID on every fetch (LESSONS: FreshRSS falls back to links).
    The same link, title and summary is the same item: stored again, each fetch would
    add a row per item to its story, forever.
    """
    content = {
        identity: (entry.link, entry.title, entry.summary)
        for identity, entry in fresh.items()
        if identity.startswith("g:") and entry.link
    }
    if not content:
        return set()
    found = story_store.known_by_content(session, feed_id, list(content.values()))
    renamed: set[str] = set()
    for identity, triple in content.items():
        stored = found.get(triple)
        if stored is not None:
            del fresh[identity]
            renamed.add(stored)
    return renamed
