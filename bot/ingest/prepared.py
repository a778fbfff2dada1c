"""What a parse worker works out for the writer about one entry (`bot.ingest.prepare`).

A value of its own, apart from the code that computes it, so that the parser's
`ParsedEntry` can carry it without the parser importing the preparation (which imports
the parser).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.ingest.headline import Fingerprint


class _Entry(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def categories(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Prepared:
    """An entry's fingerprint, candidate keys and own topics (`TopicMatcher.entry_topics`)."""

    fingerprint: Fingerprint
    keys: tuple[int, ...]
    topics: frozenset[str]
    topics_of: str  # the `TopicMatcher.signature` the topics were matched with
    categories: tuple[str, ...]  # the entry's, as matched (the same object: pickled once)

    def fits(self, entry: _Entry) -> bool:
        """Whether this was worked out from `entry`'s title, summary and categories (an
        entry copied with `dataclasses.replace` keeps its `prepared`)."""
        fp = self.fingerprint
        return (fp.title, fp.summary, self.categories) == (
            entry.title,
            entry.summary,
            entry.categories,
        )
