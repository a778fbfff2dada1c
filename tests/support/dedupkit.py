"""Run headlines through the real ingest path (`bot.ingest.stories.ingest_entries`).

For tests and the dedup benches: a migrated SQLite database with feeds, one open
session, and `add` storing one entry the way a refresh does and returning the
story it joined. So what is evaluated is exactly what ingest decides: candidate
keys, the time window, then `bot.ingest.dedup.best_match`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from bot.ingest.parser import ParsedEntry
from bot.ingest.stories import ingest_entries
from bot.ingest.topics import TopicMatcher
from bot.storage.db import open_database
from bot.storage.models import Feed

T0 = datetime(2026, 1, 20, 8, 0, tzinfo=UTC)
WINDOW = timedelta(hours=48)  # the shipped default of `dedup.window_hours`


class IngestProbe:
    """A scratch story database fed one entry at a time; use as a context manager."""

    def __init__(self, path: Path, *, feeds: int = 2, window: timedelta = WINDOW) -> None:
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
        )
        return outcome.story_ids[0]

    def close(self) -> None:
        self.session.close()
        self.engine.dispose()

    def __enter__(self) -> IngestProbe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
