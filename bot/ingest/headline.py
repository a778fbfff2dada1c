"""Headline fingerprints for story dedup: tokens, their weights, summary and places.

Pure functions of their arguments; `bot.ingest.dedup` scores pairs of fingerprints.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from functools import lru_cache

from bot.ingest import lexicon
from bot.ingest.lexicon import DATE_WORDS, NUMBER_WORDS, spelling
from bot.ingest.places import Places, demonym_country, places_in

_TOKEN_RE = re.compile(r"\w+(?:[.,'’]\w+)*")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th|s|m|bn|k|pc)?")
_ELLIPSIS_RE = re.compile(r"(?:\.\.\.|…)\s*$")


@dataclass(frozen=True, slots=True, eq=False)
class Fingerprint:
    """Normalised view of one entry's headline (and, secondarily, its summary).

    The summary's tokens and the title's places are derived on first use: only
    `similarity` reads them, for the few pairs `similarity_bound` lets through.
    """

    tokens: tuple[str, ...]  # canonical content tokens of the title, sorted, unique
    weights: tuple[float, ...]  # intrinsic weight of each token, parallel to tokens
    specifics: frozenset[str]  # numbers and date words of the title
    text: str  # canonical tokens joined by spaces, for rapidfuzz
    title: str = ""  # as given, for `places`
    summary: str = ""  # as given, for `summary_tokens`
    # Derived from tokens and weights once, for the many pairs a fingerprint is scored in.
    weight_of: dict[str, float] = field(init=False, repr=False)
    total: float = field(init=False, repr=False)  # sum of the weights
    letters: dict[str, float] = field(init=False, repr=False)  # by first letter
    long: tuple[str, ...] = field(init=False, repr=False)  # compound candidates
    _summary_tokens: frozenset[str] | None = field(init=False, repr=False)
    _summary_sent: str | None = field(init=False, repr=False)  # see `__reduce__`
    _places: Places | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        weight_of = dict(zip(self.tokens, self.weights, strict=True))
        letters: dict[str, float] = {}
        for token, weight in weight_of.items():
            letters[token[0]] = letters.get(token[0], 0.0) + weight
        object.__setattr__(self, "weight_of", weight_of)
        object.__setattr__(self, "total", sum(self.weights))
        object.__setattr__(self, "letters", letters)
        object.__setattr__(self, "long", tuple(t for t in self.tokens if len(t) >= 6))
        object.__setattr__(self, "_summary_tokens", None)
        object.__setattr__(self, "_summary_sent", None)
        object.__setattr__(self, "_places", None)

    @property
    def summary_tokens(self) -> frozenset[str]:
        """Canonical tokens of the summary (without a truncation mark)."""
        if self._summary_tokens is None:
            if self._summary_sent is not None:  # worked out in another process
                tokens = frozenset(self._summary_sent.split())
                object.__setattr__(self, "_summary_sent", None)
            else:
                tokens = _tokens(strip_ellipsis(self.summary)) if self.summary else frozenset()
            object.__setattr__(self, "_summary_tokens", tokens)
        assert self._summary_tokens is not None
        return self._summary_tokens

    @property
    def places(self) -> Places:
        """Countries and cities named in the title."""
        if self._places is None:
            object.__setattr__(self, "_places", places_in(self.title))
        assert self._places is not None
        return self._places

    def _view(self) -> tuple[object, ...]:
        return (self.tokens, self.weights, self.specifics, self.text, self.summary_tokens)

    def __eq__(self, other: object) -> bool:
        """Equal when every token, weight, summary token and place is."""
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self._view() == other._view() and self.places == other.places

    def __hash__(self) -> int:
        return hash((self.tokens, self.specifics, self.text))

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle every field, but the summary tokens as one string, split on first use.

        A parse worker sends fingerprints with its entries (`bot.ingest.prepare`), and in
        a full refresh hundreds of parsed feeds wait for the writer: as a set of separate
        strings the summary tokens took ~1 KB an entry more. Tokens hold no whitespace
        (`_TOKEN_RE` words, stripped of "." and "'").
        """
        summary = self._summary_tokens
        sent = " ".join(sorted(summary)) if summary is not None else self._summary_sent
        values = [getattr(self, name) for name in _FIELDS]
        values[_FIELDS.index("_summary_tokens")] = None
        values[_FIELDS.index("_summary_sent")] = sent
        return _restore, (tuple(values),)


_FIELDS = tuple(f.name for f in fields(Fingerprint))


def _restore(values: tuple[object, ...]) -> Fingerprint:
    """Rebuild a pickled `Fingerprint` (`Fingerprint.__reduce__`): its fields as they were."""
    fp = object.__new__(Fingerprint)
    for name, value in zip(_FIELDS, values, strict=True):
        object.__setattr__(fp, name, value)
    return fp


def _strip_accents(text: str) -> str:
    """Fold accents and typographic apostrophes so outlets' spellings agree."""
    if text.isascii():  # nothing to fold (the common case)
        return text
    text = text.replace("’", "'").replace("‘", "'")
    if text.isascii():  # only typographic apostrophes: NFKD would change nothing
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():  # no combining mark left to drop ("…" became "...")
        return decomposed
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_FOLDING = lexicon.build_folding(lexicon.stem)


@lru_cache(maxsize=20_000)  # pure; a word recurs across headlines (~3 MB at most)
def fold(word: str) -> str:
    """Stem a lower-case word, then fold demonyms and news paraphrases to one form."""
    country = demonym_country(word)
    if country is not None:
        return country
    stemmed = lexicon.stem(spelling(word))
    return _FOLDING.get(stemmed, stemmed)


_GENERIC_STEMS = frozenset(fold(w) for w in lexicon.GENERIC)


def _is_title_case(words: list[str]) -> bool:
    """Tell whether most words are capitalised, which makes capitals uninformative."""
    alpha = [w for w in words if w[0].isalpha()]
    upper = sum(1 for w in alpha if w[0].isupper())
    return bool(alpha) and upper >= 0.6 * len(alpha)


_PHRASES = lexicon.phrases()
_SECONDS = frozenset(second for _, second in _PHRASES) | lexicon.MAGNITUDES


def _words(text: str) -> list[str]:
    """The words of `text`; a phrase of `lexicon.phrases` as its one word ("steps down" ->
    "resign"), and a figure's magnitude word left out ("$356 million" -> "$356")."""
    words = _TOKEN_RE.findall(_strip_accents(text))
    i = 1
    while i < len(words):
        second = words[i].lower()
        if second in _SECONDS:  # a cheap gate: few words end a phrase
            first = words[i - 1]
            one = _PHRASES.get((first.lower(), second))
            if one is not None:
                capital = first[0].isupper() and one.islower()
                words[i - 1 : i + 1] = [one.capitalize() if capital else one]
                continue
            if second in lexicon.MAGNITUDES and first[0].isdigit():
                del words[i]  # as `_word` reads "$356M": the figure alone
                continue
        i += 1
    return words


def _tokenize(text: str) -> list[tuple[str, bool, bool]]:
    """Return (canonical token, is_specific, looks_proper) for each content word."""
    words = _words(text)
    capitals_informative = not _is_title_case(words)
    out: list[tuple[str, bool, bool]] = []
    for position, raw in enumerate(words):
        info = _word(raw)
        if info is None:
            continue
        token, specific, acronym, capitalised = info
        proper = acronym or (capitals_informative and position > 0 and capitalised)
        out.append((token, specific, proper))
    return out


def _tokens(text: str) -> frozenset[str]:
    """The canonical tokens of `text` (those `_tokenize` gives, without their flags)."""
    found = (_word(raw) for raw in _words(text))
    return frozenset(info[0] for info in found if info is not None)


@lru_cache(maxsize=30_000)  # pure; words recur across headlines and summaries (~7 MB at most)
def _word(raw: str) -> tuple[str, bool, bool, bool] | None:
    """(canonical token, is_specific, is an acronym, is capitalised) of a word; None: skip it."""
    word = re.sub(r"'s?$", "", raw)
    if _NUMBER_RE.fullmatch(word.lower()):
        return lexicon.canonical_number(word.lower()), True, False, False
    acronym = len(word) > 1 and word.replace(".", "").isupper()
    lower = word.replace(".", "").replace("'", "").lower()
    if acronym and lower == "us":
        lower = "usa"  # "US"/"U.S." is a country, "us" a stop word
    lower = NUMBER_WORDS.get(lower, lower)
    if lower.isdigit():
        return lower, True, False, False
    if lower in lexicon.STOP_WORDS or len(lower) < 2:
        return None
    return fold(lower), lower in DATE_WORDS, acronym, word[0].isupper()


def weight(token: str, *, specific: bool, proper: bool) -> float:
    """Weigh a token by intrinsic signs of rarity: length, capitals, digits.

    Generic news words and descriptors weigh half: outlets add descriptors to the same
    report ("Star X dies aged 74" / "X dies"), as they add adverbs ("formally").
    """
    if specific:
        return 1.5
    weight = 0.4 + 0.15 * len(token)
    if proper:
        weight *= 1.5
    if token in _WEAK_STEMS or (token.endswith("ly") and not proper and _is_adverb(token)):
        weight *= 0.5
    return weight


_WEAK_STEMS = _GENERIC_STEMS | frozenset(fold(w) for w in lexicon.DESCRIPTORS)
_NOT_ADVERBS = frozenset(lexicon.NOT_ADVERBS)


def _is_adverb(token: str) -> bool:
    """Tell whether an "-ly" word is taken for an adverb: not one of the common "-ly"
    nouns (`lexicon.NOT_ADVERBS`), nor a name by its looks ("-ley"; a capitalised one
    where capitals tell is not asked)."""
    return len(token) >= 5 and not token.endswith("ley") and token not in _NOT_ADVERBS


def strip_ellipsis(text: str) -> str:
    """Drop a trailing "..." or "…" that marks a truncated summary."""
    return _ELLIPSIS_RE.sub("", text.strip())


def fingerprint(title: str, summary: str = "") -> Fingerprint:
    """Build the fingerprint of an entry from its title and optional summary."""
    best: dict[str, float] = {}
    specifics: set[str] = set()
    for token, specific, proper in _tokenize(title):
        best[token] = max(best.get(token, 0.0), weight(token, specific=specific, proper=proper))
        if specific:
            specifics.add(token)
    tokens = tuple(sorted(best))
    return Fingerprint(
        tokens=tokens,
        weights=tuple(best[t] for t in tokens),
        specifics=frozenset(specifics),
        text=" ".join(tokens),
        title=title,
        summary=summary,
    )
