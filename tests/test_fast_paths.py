"""Shortcuts in headline, places and topic code give what the plain code gives.

Each reference below is the code as it was before the shortcut (kept here, not in
bot/), run on the bench corpus and on texts chosen to hit every branch.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bench._corpus import build_corpus
from bot.ingest import headline, places, topics

TRICKY = [
    "",
    "plain ascii words",
    "Café “déjà vu” — naïve…",
    "Zürich’s ‘quotes’ and Modi’s visit",
    "İstanbul ﬁnal ½ ²",
    "x\u0301y combining",
    "Ελλάδα και Κύπρος",
    "東京 and Osaka",
    "New York’s mayor visits New Delhi, the US and the U.S.A.",
    "new south wales to new zealand",
    "U.K. and UK talks; us and US",
    "Football's FOOTBALL’s s 's ’s a's",
    "São Paulo … Côte d’Ivoire",
]


def _texts() -> Iterator[str]:
    corpus = build_corpus(feeds=40, items=50, now=datetime(2026, 12, 6, tzinfo=UTC))
    for feed in corpus.feeds:
        for item in feed:
            yield item.title
            yield re.sub("<[^>]+>", "", item.summary_html)
    yield from TRICKY
    yield from (text.upper() for text in TRICKY)


TEXTS = list(_texts())


def _strip_accents_plain(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _places_fold_plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _places_in_plain(text: str) -> places.Places:
    raw = re.sub(r"\b(?:U\.S\.A?\.?|US|USA)\b", " usa ", text)
    raw = re.sub(r"\bU\.K\.|\bUK\b", " uk ", raw)
    words = re.findall(r"[a-z]+", _places_fold_plain(raw).replace("'s", ""))
    words = [w for w in words if w != "us"]
    table = places._table()
    countries: set[str] = set()
    local: set[str] = set()
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            found = table.get(tuple(words[i : i + size]))
            if found is not None:
                countries.add(found[0])
                if found[1] is not None:
                    local.add(found[1])
                i += size
                break
        else:
            i += 1
    return places.Places(frozenset(countries), frozenset(local))


def _match_words_plain(text: str) -> tuple[str, ...]:
    def strip(word: str) -> str:
        for suffix in ("'s", "’s"):
            if word.endswith(suffix) and len(word) > len(suffix):
                return word[: -len(suffix)]
        return word

    return tuple(strip(w) for w in topics.words(text))


def test_the_corpus_has_texts_for_every_branch() -> None:
    assert sum(not t.isascii() for t in TEXTS) >= len(TRICKY)
    assert any(places.places_in(t).local for t in TEXTS)


@pytest.mark.parametrize(
    ("fast", "plain"),
    [
        (headline._strip_accents, _strip_accents_plain),
        (places._fold, _places_fold_plain),
        (places.places_in, _places_in_plain),
        (topics.match_words, _match_words_plain),
    ],
    ids=["strip_accents", "places_fold", "places_in", "match_words"],
)
def test_a_shortcut_gives_what_the_plain_code_gives(fast: object, plain: object) -> None:
    assert callable(fast) and callable(plain)
    assert [fast(t) for t in TEXTS] == [plain(t) for t in TEXTS]


def test_summary_tokens_are_the_tokens_tokenize_gives() -> None:
    for text in TEXTS:
        fp = headline.fingerprint("A title", text)
        plain = frozenset(t for t, _, _ in headline._tokenize(headline.strip_ellipsis(text)))
        assert fp.summary_tokens == (plain if text else frozenset())


def test_topic_phrases_match_as_the_plain_scan_does() -> None:
    matcher = topics.TopicMatcher.from_topics(
        [
            topics.Topic("world", "World", ("united nations", "new york", "football")),
            topics.Topic("tech", "Tech", ("chips", "artificial intelligence", "ai")),
        ]
    )
    for text in TEXTS:
        plain = {
            slug
            for slug, phrase in matcher.phrases
            if topics._contains_phrase(_match_words_plain(text), phrase)
        }
        assert matcher.match(feed_topics=(), categories=(), title=text) == plain
