"""A subscriber's mute words and personal keywords, and the one rule that applies them (pure).

Briefings, instant mode and /latest all ask `StoryFilter.admits` which stories
a chat gets. Words compare as the topic matcher compares keywords: whole words,
case-insensitive, any script, possessives folded ("football's" is "football");
a user's text is never a regular expression.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.ingest.topics import contains_phrase, join_words, match_words

MUTE = "mute"
FOLLOW = "follow"
KINDS = (MUTE, FOLLOW)
MAX_ENTRIES = 50  # mute words and keywords together, per subscriber
MAX_LENGTH = 64  # characters of one word or phrase, as typed


def normalise_phrase(text: str) -> str | None:
    """The stored form of a word or phrase: its match words joined by spaces; None if none."""
    found = match_words(text)
    return join_words(found) if found else None


@dataclass(frozen=True)
class StoryFilter:
    """A chat's mutes and follows, each a tuple of match words."""

    mutes: tuple[tuple[str, ...], ...] = ()
    follows: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def from_phrases(cls, *, mutes: Iterable[str], follows: Iterable[str]) -> StoryFilter:
        """Build from stored phrases (already `normalise_phrase`d)."""
        return cls(
            mutes=tuple(w for p in sorted(mutes) if (w := match_words(p))),
            follows=tuple(w for p in sorted(follows) if (w := match_words(p))),
        )

    @property
    def empty(self) -> bool:
        return not self.mutes and not self.follows

    def muted(self, title: str, summary: str = "") -> bool:
        """True when a mute word or phrase occurs in the headline or summary."""
        return bool(self.mutes) and _any_phrase(self.mutes, title, summary)

    def followed(self, title: str, summary: str = "") -> bool:
        """True when a personal keyword occurs in the headline or summary."""
        return bool(self.follows) and _any_phrase(self.follows, title, summary)

    def admits(self, *, title: str, summary: str, in_topics: bool) -> bool:
        """The rule: never a muted story; otherwise one of the chat's topics, or a keyword."""
        if self.muted(title, summary):
            return False
        return in_topics or self.followed(title, summary)


NO_FILTER = StoryFilter()


def _any_phrase(phrases: Iterable[tuple[str, ...]], title: str, summary: str) -> bool:
    text = _story_words(title, summary)
    return any(contains_phrase(text, phrase) for phrase in phrases)


@lru_cache(maxsize=20_000)
def _story_words(title: str, summary: str) -> tuple[str, ...]:
    """A story's match words; cached, since a compose tick asks for each story per chat."""
    return match_words(f"{title}\n{summary}")
