"""Run headlines through the real ingest path (`bot.ingest.stories.ingest_entries`).

For tests and the dedup benches: a migrated SQLite database with feeds, one open
session, and `add` storing one entry the way a refresh does and returning the
story it joined. So what is evaluated is exactly what ingest decides: candidate
keys (and, given a `SemanticDedup`, nearest embeddings), the time window, then
`bot.ingest.dedup.best_match`.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.ingest.embed import load_encoder
from bot.ingest.parser import ParsedEntry
from bot.ingest.semantic import SemanticDedup
from bot.ingest.stories import ingest_entries
from bot.ingest.topics import TopicMatcher
from bot.storage.db import open_database
from bot.storage.models import Entry, Feed

T0 = datetime(2026, 1, 20, 8, 0, tzinfo=UTC)
WINDOW = timedelta(hours=48)  # the shipped default of `dedup.window_hours`


def semantic_or_skip() -> SemanticDedup:
    """The semantic method with the installed model; skip without it (fail in CI).

    CI installs the model (.ci/run) and sets REQUIRE_MODEL=1, so these tests
    never skip there.
    """
    import pytest

    encoder, reason = load_encoder(os.environ.get("BOT_DEDUP__MODEL_PATH", ""))
    if encoder is None:
        if os.environ.get("REQUIRE_MODEL") == "1":
            pytest.fail(f"semantic dedup model required (REQUIRE_MODEL=1): {reason}")
        pytest.skip(f"semantic dedup unavailable: {reason}")
    return SemanticDedup(encoder)


class IngestProbe:
    """A scratch story database fed one entry at a time; use as a context manager."""

    def __init__(
        self,
        path: Path,
        *,
        feeds: int = 2,
        window: timedelta = WINDOW,
        semantic: SemanticDedup | None = None,
    ) -> None:
        self.semantic = semantic
        self.engine = open_database(f"sqlite:///{path}")
        self.window = window
        self.session = Session(self.engine, expire_on_commit=False)
        self.feeds = [
            Feed(url=f"http://127.0.0.1/feed{i}.xml", name=f"Feed {i}") for i in range(feeds)
        ]
        self.session.add_all(self.feeds)
        self.session.flush()
        self._matcher = TopicMatcher.from_topics([])
        self._serial = itertools.count()

    def add(
        self,
        title: str,
        *,
        summary: str = "",
        published_at: datetime = T0,
        feed: int = 0,
        link: str | None = None,
    ) -> int:
        """Ingest one entry from feed number `feed`; return the id of its story."""
        entry = ParsedEntry(
            guid=f"probe-{next(self._serial)}",
            link=link,
            title=title,
            summary=summary,
            published_at=published_at,
            categories=(),
            author=None,
        )
        outcome = ingest_entries(
            self.session,
            feed=self.feeds[feed],
            entries=[entry],
            matcher=self._matcher,
            now=published_at,
            window=self.window,
            semantic=self.semantic,
        )
        if outcome.story_ids:
            return outcome.story_ids[0]
        # Not new: this feed gave the same link, title and summary before (a new GUID only).
        stored = self.session.exec(
            select(Entry.story_id).where(
                Entry.feed_id == self.feeds[feed].id,
                Entry.link == link,
                Entry.title == title,
                Entry.summary == summary,
            )
        ).first()
        assert stored is not None
        return stored

    def close(self) -> None:
        self.session.close()
        self.engine.dispose()

    def __enter__(self) -> IngestProbe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# Two outlets' newsletters under one heading, and one story under one short headline.
ISSUES = (
    (
        "Morning Briefing",
        "Rates rise again as the central bank fights inflation; a storm nears Texas.",
    ),
    (
        "Morning Briefing",
        "Election results arrive from Brazil, and clubs prepare for derby weekend.",
    ),
)
ONE_STORY = (
    ("Queen Elizabeth dies", "Queen Elizabeth II died peacefully at Balmoral, the palace said."),
    ("Queen Elizabeth dies", "Britain's longest-reigning monarch died at Balmoral aged 96."),
)
