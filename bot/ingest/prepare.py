"""What storing an entry needs that depends on the entry alone, worked out beside the parse.

The one writer (`bot.ingest.story_batch`) is a refresh's bottleneck: fetch and parse
finish long before it does, and the parse workers (`bot.ingest.process_pool`) then sit
idle. So a worker also works out, for each entry it parsed, its dedup fingerprint
(with the summary tokens and places a full score reads), its candidate keys and the
topics its categories, title and summary match; the writer is left with matching
against stored stories and the writes. The same pure functions run in either place,
so the writer decides exactly as if it had computed them itself; it does so for an
entry that arrives without them (a parse in this process) or with topics matched by
other topic settings (`TopicMatcher.signature`).
"""

from __future__ import annotations

from dataclasses import replace

from bot.ingest import dedup
from bot.ingest.parser import ParsedEntry, ParsedFeed
from bot.ingest.prepared import Prepared
from bot.ingest.topics import TopicMatcher

__all__ = ["Prepared", "prepare_entry", "prepare_feed"]


def prepare_entry(entry: ParsedEntry, matcher: TopicMatcher) -> Prepared:
    """Work out what the writer would for `entry` (`bot.ingest.story_batch.ingest_fresh`)."""
    fp = dedup.fingerprint(entry.title, entry.summary)
    _ = fp.summary_tokens, fp.places  # derived on first use: here, not in the writer
    topics = matcher.entry_topics(
        categories=entry.categories, title=entry.title, summary=entry.summary
    )
    keys = tuple(dedup.candidate_keys(fp))
    return Prepared(fp, keys, topics, matcher.signature, entry.categories)


def prepare_feed(parsed: ParsedFeed, matcher: TopicMatcher) -> ParsedFeed:
    """`parsed` with each entry carrying its `Prepared` (entries are otherwise unchanged)."""
    entries = tuple(replace(e, prepared=prepare_entry(e, matcher)) for e in parsed.entries)
    return replace(parsed, entries=entries)
