"""Topic matching: which configured topics an entry belongs to (pure).

A topic matches when the feed is filed under it, when an entry category
equals its slug or name, or when one of its keywords occurs as whole words
(case-insensitive, Unicode aware). Keywords are plain words or phrases, never
regular expressions supplied by users.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise


@dataclass(frozen=True)
class Topic:
    """A configured topic: `slug` in commands, `name` shown to users, keywords to match."""

    slug: str
    name: str
    keywords: tuple[str, ...] = ()


# Chinese and Japanese are written without spaces: a run of kanji and kana is a whole
# sentence to \w+, so "東京" would never be a word of "東京で新しい路線". Each of their
# characters is a word of its own, and a keyword of several is matched as a phrase.
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_WORD_RE = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_CJK_WORD_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+(?:['’][^\W{_CJK}]+)*", re.UNICODE)
_CJK_CHAR = re.compile(rf"[{_CJK}]")


def words(text: str) -> tuple[str, ...]:
    """Split text into case-folded, NFKC-normalised words (a CJK character is one)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # The simpler expression where it gives the same words: most text has no CJK at all.
    plain = folded.isascii() or _CJK_CHAR.search(folded) is None
    found = _WORD_RE if plain else _CJK_WORD_RE
    return tuple(found.findall(folded))


def join_words(found: Sequence[str]) -> str:
    """Words back into one phrase as written: spaces between them, none between two
    CJK characters ("tram line", "東京")."""
    joined = found[0] if found else ""
    for before, word in pairwise(found):
        cjk = _CJK_CHAR.fullmatch(before) and _CJK_CHAR.fullmatch(word)
        joined += word if cjk else f" {word}"
    return joined


def match_words(text: str) -> tuple[str, ...]:
    """Words as keywords compare them: folded, and without an English possessive.

    "Football's" and "FOOTBALL" both become "football", so a keyword or a mute
    word matches every spelling of the same whole word.
    """
    return tuple(
        w[:-2] if len(w) > 2 and (w.endswith("'s") or w.endswith("’s")) else w for w in words(text)
    )  # inline: a function call per word cost a refresh ~2 % of its store


def contains_phrase(haystack: Sequence[str], phrase: Sequence[str]) -> bool:
    """True when `phrase` occurs in `haystack` as consecutive whole words (both `match_words`)."""
    return _contains_phrase(haystack, phrase)


def _contains_phrase(haystack: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    if n == 0 or n > len(haystack):
        return False
    if n == 1:
        return phrase[0] in haystack
    first = phrase[0]
    return any(
        haystack[i] == first and tuple(haystack[i : i + n]) == tuple(phrase)
        for i in range(len(haystack) - n + 1)
    )


@dataclass(frozen=True)
class TopicMatcher:
    """Precompiled topics; build once from settings with `from_topics`."""

    slugs: tuple[str, ...]
    labels: dict[str, str]  # folded slug or name -> slug
    phrases: tuple[tuple[str, tuple[str, ...]], ...]  # (slug, keyword words)

    @classmethod
    def from_topics(cls, topics: Iterable[Topic]) -> TopicMatcher:
        labels: dict[str, str] = {}
        phrases: list[tuple[str, tuple[str, ...]]] = []
        slugs: list[str] = []
        for topic in topics:
            slugs.append(topic.slug)
            labels[" ".join(words(topic.slug))] = topic.slug
            labels[" ".join(words(topic.name))] = topic.slug
            phrases.extend((topic.slug, match_words(k)) for k in topic.keywords if words(k))
        return cls(slugs=tuple(slugs), labels=labels, phrases=tuple(phrases))

    @cached_property
    def signature(self) -> str:
        """A digest of the topics: entry topics matched elsewhere (`bot.ingest.prepare`)
        are used only by a matcher with the same signature."""
        view = repr((self.slugs, sorted(self.labels.items()), self.phrases))
        return hashlib.blake2b(view.encode(), digest_size=12).hexdigest()

    def match(
        self,
        *,
        feed_topics: Iterable[str],
        categories: Iterable[str],
        title: str,
        summary: str = "",
    ) -> frozenset[str]:
        """Return the slugs of every topic the entry belongs to."""
        return self.feed_topics(feed_topics) | self.entry_topics(
            categories=categories, title=title, summary=summary
        )

    def feed_topics(self, feed_topics: Iterable[str]) -> frozenset[str]:
        """The topics an entry belongs to because its feed is filed under them."""
        return frozenset(slug for slug in feed_topics if slug in self.slugs)

    def entry_topics(
        self, *, categories: Iterable[str], title: str, summary: str = ""
    ) -> frozenset[str]:
        """The topics an entry belongs to by its own categories, title and summary."""
        found: set[str] = set()
        for category in categories:
            slug = self.labels.get(" ".join(words(category)))
            if slug:
                found.add(slug)
        if self.phrases:
            text = match_words(f"{title}\n{summary}")
            present = frozenset(text)  # a phrase whose first word is absent cannot occur
            found.update(
                slug
                for slug, phrase in self.phrases
                if phrase and phrase[0] in present and _contains_phrase(text, phrase)
            )
        return frozenset(found)
