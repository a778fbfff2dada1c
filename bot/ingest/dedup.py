"""Cross-source story dedup: similarity of headline fingerprints and candidate keys.

Pure functions of their arguments (fingerprints: `bot.ingest.headline`, re-exported).
`bot.ingest.story_batch` looks candidates up by `candidate_keys` in the
``story_key(key, story_id, published_at)`` table and lets `best_match` decide.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Mapping

from rapidfuzz import fuzz

from bot.ingest.headline import Fingerprint, fingerprint, fold, strip_ellipsis, weight
from bot.ingest.lexicon import OPPOSITE_WORDS
from bot.ingest.places import places_conflict

__all__ = [
    "Fingerprint",
    "best_match",
    "candidate_keys",
    "fingerprint",
    "match_score",
    "semantic_similarity",
    "similarity",
    "similarity_bound",
    "strip_ellipsis",
]

# Chosen by cross-validation on the STS headlines dev set (bench/dedup_eval.py):
# the higher of the two per-year thresholds that keep precision >= 0.95 (the
# bar is 0.93 on unseen data; the rest is margin), for each method.
SAME_STORY_THRESHOLD = 0.61
# The semantic method (bench/dedup_eval.py): cosine of the headline embeddings
# times the same number/date and opposites penalties, at or above this; a
# lexical score at or above LEXICAL_BESIDE_SEMANTIC also merges.
SEMANTIC_THRESHOLD = 0.74
LEXICAL_BESIDE_SEMANTIC = 0.70
NEAR_PREFIX, NEAR_FUZZY = 0.9, 0.8  # credit for "Syria"/"Syrian", "Morsi"/"Mursi"
OPPOSITES_FACTOR = 0.7
PLACES_FACTOR = 0.7  # each title names a place the other does not: "visit UK" / "… Australia"
# Two short headlines over summaries with no word in common are two issues of a heading
# several outlets use ("Morning Briefing", "Letters"), not one story: see `_other_issues`.
GENERIC_TITLE_TOKENS = 3
SUMMARY_TOKENS_TO_TELL = 6
OTHER_ISSUES_FACTOR = 0.5
MAX_KEY_TOKENS = 6  # C(6, 2) = 15 pair keys at most
KEY_PREFIX = 4  # "Syria"/"Syrian" share the key form "syri"


_OPPOSITES = tuple((fold(x), fold(y)) for x, y in OPPOSITE_WORDS)
_OPPOSITE_WORDS = frozenset(word for pair in _OPPOSITES for word in pair)


def _near_match(x: str, y: str) -> float:
    """Credit two different tokens that are variants: "Syria"/"Syrian", "Morsi"/"Mursi"."""
    if x[0] != y[0]:
        return 0.0  # cheap gate: variants of a name keep their first letter
    shortest = min(len(x), len(y))
    if x[:4] == y[:4]:
        prefix = next((i for i in range(4, shortest) if x[i] != y[i]), shortest)
        if prefix >= 0.8 * shortest:
            return NEAR_PREFIX
    if shortest >= 5 and fuzz.ratio(x, y, score_cutoff=80):
        return NEAR_FUZZY
    return 0.0


def _shared_weight(wa: dict[str, float], wb: dict[str, float]) -> float:
    """Sum the weight both titles share: exact tokens, compounds, then near matches."""
    shared = sum(min(w, wb[t]) for t, w in wa.items() if t in wb)
    rest_a = [t for t in wa if t not in wb]
    rest_b = [t for t in wb if t not in wa]
    if not rest_a or not rest_b:
        return shared  # no compound nor near match without unshared tokens on both sides
    shared += _compounds(wa, rest_a, wb, rest_b) + _compounds(wb, rest_b, wa, rest_a)
    for token in sorted(rest_a, key=lambda t: -wa[t]):
        first = token[0]  # `_near_match` credits nothing across first letters
        credits = [(_near_match(token, other), other) for other in rest_b if other[0] == first]
        credit, other = max(credits, default=(0.0, ""))
        if credit > 0:
            shared += credit * min(wa[token], wb[other])
            rest_b.remove(other)
    return shared


def _compounds(
    wa: dict[str, float], rest_a: list[str], wb: dict[str, float], rest_b: list[str]
) -> float:
    """Credit compounds one title writes whole and the other as two words; consume them.

    "horsemeat"/"horse meat", "gangrape"/"gang-rape", "reelection"/"re-election".
    """
    shared = 0.0
    for token in [t for t in rest_a if len(t) >= 6 and not t[0].isdigit()]:
        if not token.startswith(tuple(rest_b)):
            continue  # no pair (x, y) below can match
        for x, y in itertools.permutations(rest_b, 2):
            if token.startswith(x) and fold(token[len(x) :]) == y:
                shared += min(wa[token], wb[x] + wb[y])
                rest_a.remove(token)
                rest_b.remove(x)
                rest_b.remove(y)
                break
    return shared


def _overlap(a: Fingerprint, b: Fingerprint) -> tuple[float, float]:
    """Return weighted Jaccard and weighted containment (shared / smaller) of titles."""
    shared = _shared_weight(a.weight_of, b.weight_of)
    total_a, total_b = sum(a.weights), sum(b.weights)
    union = total_a + total_b - shared
    if union <= 0:
        return 0.0, 0.0
    return shared / union, min(1.0, shared / min(total_a, total_b))


def _specifics_factor(a: frozenset[str], b: frozenset[str]) -> float:
    """Penalise disagreeing numbers and dates: "kills 23" is not "kills 10"."""
    if not a or not b:
        return 1.0 if not (a or b) else 0.95
    if a < b or b < a:
        return 0.95
    agreement = len(a & b) / len(a | b)
    return 0.55 + 0.45 * agreement


def _summary_bonus(a: Fingerprint, b: Fingerprint) -> float:
    """Nudge by summary agreement; containment copes with a truncated summary."""
    if not a.summary_tokens or not b.summary_tokens:
        return 0.0
    shared = len(a.summary_tokens & b.summary_tokens)
    containment = shared / min(len(a.summary_tokens), len(b.summary_tokens))
    return 0.15 * max(0.0, containment - 0.5)


def _contradicts(a: Fingerprint, b: Fingerprint) -> bool:
    """Tell whether the titles differ by a pair of opposites ("open"/"close")."""
    sa, sb = set(a.tokens), set(b.tokens)
    only_a, only_b = sa - sb, sb - sa
    if only_a.isdisjoint(_OPPOSITE_WORDS) or only_b.isdisjoint(_OPPOSITE_WORDS):
        return False  # each side needs one of a pair (most pairs scored have none)
    return any(
        (x in only_a and y in only_b) or (y in only_a and x in only_b) for x, y in _OPPOSITES
    )


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Score in [0, 1] how likely two fingerprints report the same story."""
    if not a.tokens or not b.tokens:
        return 0.0
    jaccard, containment = _overlap(a, b)
    fuzzy = fuzz.token_sort_ratio(a.text, b.text) / 100.0
    score = 0.5 * jaccard + 0.3 * containment + 0.2 * fuzzy
    score *= _vetoes(a, b)
    return min(1.0, score + _summary_bonus(a, b))


def similarity_bound(a: Fingerprint, b: Fingerprint, floor: float = 0.0) -> float:
    """At least `similarity(a, b)`, a few times cheaper; or any value below `floor` if it is.

    Each compound or near-match credit consumes unshared tokens of both titles and is
    at most their weight on either side; a near match needs one first letter and gives
    at most NEAR_PREFIX. The numbers factor is exact, the other vetoes at most 1, the
    summary bonus at most 0.075, and the fuzzy ratio 1 unless that clears `floor`.

    Without a compound, every credit (shared token or near match) pairs tokens of one
    first letter, one each: the credits of a letter come to at most the lighter side's
    weight of it. That looser bound needs no token set and settles most pairs below
    the floor (73 % of 120,000 corpus pairs, at ~1/3 of the cost); the rest take the
    tighter one.
    """
    if not a.tokens or not b.tokens:
        return 0.0
    wa, wb = a.weight_of, b.weight_of
    compound = _compound_possible(a, wb, b.tokens) or _compound_possible(b, wa, a.tokens)
    if floor > 0.0 and not compound and _score_bound(a, b, _by_letter(a, b)) + _SLACK < floor:
        return floor / 2  # below the floor even with a perfect fuzzy ratio
    common = wa.keys() & wb.keys()
    shared = common_a = common_b = 0.0
    for token in common:
        x, y = wa[token], wb[token]
        shared += x if x <= y else y
        common_a += x
        common_b += y
    rest_a, rest_b = a.total - common_a, b.total - common_b
    if rest_a > _SLACK and rest_b > _SLACK:
        if compound:
            shared += min(rest_a, rest_b)  # bounded by either side's weight only
        else:  # the lighter side's weight of a letter, less its shared tokens' (at most)
            taken: dict[str, float] = {}  # the shared tokens' weight (the lighter side)
            for token in common:
                x, y = wa[token], wb[token]
                taken[token[0]] = taken.get(token[0], 0.0) + (x if x <= y else y)
            letters_a = a.letters
            for letter, in_b in b.letters.items():
                in_a = letters_a.get(letter)
                if in_a is not None:
                    room = (in_a if in_a <= in_b else in_b) - taken.get(letter, 0.0)
                    shared += NEAR_PREFIX * (room if room > 0.0 else 0.0)
    if _score_bound(a, b, shared) + _SLACK < floor:
        return floor / 2  # below the floor even with a perfect fuzzy ratio
    total_a, total_b = a.total, b.total
    shared = min(shared + _SLACK, total_a, total_b)
    jaccard, containment = shared / (total_a + total_b - shared), shared / min(total_a, total_b)
    score = 0.5 * jaccard + 0.3 * containment
    score += 0.2 * fuzz.token_sort_ratio(a.text, b.text) / 100.0
    return min(1.0, score * _specifics_factor(a.specifics, b.specifics) + 0.15 * 0.5) + _SLACK


def _by_letter(a: Fingerprint, b: Fingerprint) -> float:
    """The most title weight two titles can share when neither has a compound of the
    other's tokens: per first letter, the lighter side's weight of it."""
    letters_a, shared = a.letters, 0.0
    for letter, in_b in b.letters.items():
        in_a = letters_a.get(letter)
        if in_a is not None:
            shared += in_a if in_a <= in_b else in_b
    return shared


def _score_bound(a: Fingerprint, b: Fingerprint, shared: float) -> float:
    """The most `similarity` can be with at most `shared` title weight in common."""
    total_a, total_b = a.total, b.total
    shared = min(shared + _SLACK, total_a, total_b)
    jaccard, containment = shared / (total_a + total_b - shared), shared / min(total_a, total_b)
    factor = _specifics_factor(a.specifics, b.specifics)
    return min(1.0, (0.5 * jaccard + 0.3 * containment + 0.2) * factor + 0.075)


_SLACK = 1e-9  # sums taken in another order (or subtracted) may differ by a few ulps


def _compound_possible(a: Fingerprint, wb: dict[str, float], tokens_b: tuple[str, ...]) -> bool:
    """Tell whether a token only `a` has starts with a token of the other title, whose
    weights are `wb` and tokens `tokens_b` ("horsemeat"/"horse")."""
    # A loop, not any() over a generator: twice for each of ~800,000 pairs a refresh.
    for token in a.long:  # noqa: SIM110
        if token not in wb and token.startswith(tokens_b):
            return True
    return False


def semantic_similarity(cosine: float, a: Fingerprint, b: Fingerprint) -> float:
    """Score the embeddings' cosine, vetoed by conflicting numbers, dates and opposites."""
    return cosine * _vetoes(a, b)


def _other_issues(a: Fingerprint, b: Fingerprint) -> bool:
    """Tell whether two short headlines head summaries that share no word.

    A feed's own recurring heading is told apart by its history (`bot.ingest.recurring`);
    two outlets' newsletters both called "Morning Briefing" have none in common, and by
    the headline alone they were one story. Their summaries tell: one story's summaries
    share its names and words, two issues' share none. Only short headlines are read so:
    a long headline two outlets print word for word is one story (wire copy), whatever
    each says below it; and an entry without a summary of some length is never split.
    """
    if len(a.tokens) > GENERIC_TITLE_TOKENS or len(b.tokens) > GENERIC_TITLE_TOKENS:
        return False
    heading = set(a.tokens) | set(b.tokens)
    words_a, words_b = a.summary_tokens - heading, b.summary_tokens - heading
    if len(words_a) < SUMMARY_TOKENS_TO_TELL or len(words_b) < SUMMARY_TOKENS_TO_TELL:
        return False
    return words_a.isdisjoint(words_b)


def _vetoes(a: Fingerprint, b: Fingerprint) -> float:
    """Multiply the penalties for conflicting numbers/dates, opposites and places, and
    for two issues of one heading."""
    factor = _specifics_factor(a.specifics, b.specifics)
    if _contradicts(a, b):
        factor *= OPPOSITES_FACTOR
    if places_conflict(a.places, b.places):
        factor *= PLACES_FACTOR
    if _other_issues(a, b):
        factor *= OTHER_ISSUES_FACTOR
    return factor


def match_score(a: Fingerprint, b: Fingerprint, cosine: float | None = None) -> float:
    """Score a pair relative to its method's threshold: >= 1.0 means the same story.

    Without a cosine (lexical method, or a story stored without a vector) the
    lexical score decides; with one, either the semantic score or a high
    lexical score may.
    """
    lexical = similarity(a, b)
    if cosine is None:
        return lexical / SAME_STORY_THRESHOLD
    semantic = semantic_similarity(cosine, a, b) / SEMANTIC_THRESHOLD
    return max(semantic, lexical / LEXICAL_BESIDE_SEMANTIC)


def best_match(
    fp: Fingerprint,
    candidates: Iterable[tuple[int, Fingerprint]],
    *,
    cosines: Mapping[int, float] | None = None,
) -> int | None:
    """Return the id of the candidate story `fp` belongs to, or None: ingest's decision.

    Candidates are (story id, fingerprint of one of its entries); a story may
    appear several times. `cosines` holds, per story, the cosine of `fp`'s
    embedding with the story's (semantic method). The highest `match_score`
    at or above 1.0 wins; on a tie the later candidate does.
    """
    cosines = cosines or {}
    best_id, best_score = None, 1.0
    for story_id, other in candidates:
        cosine = cosines.get(story_id)
        floor = best_score * SAME_STORY_THRESHOLD
        bound = similarity_bound(fp, other, floor) if cosine is None else math.inf
        if bound / SAME_STORY_THRESHOLD < best_score:
            continue  # cannot reach the best score so far (nor the threshold)
        score = match_score(fp, other, cosine)
        if score >= best_score:
            best_id, best_score = story_id, score
    return best_id


def _key(*parts: str) -> int:
    """Hash parts into a stable signed 64-bit key (not Python's salted hash())."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _key_form(token: str) -> str:
    """Shorten a token to a prefix, so near matches ("Syria"/"Syrian") share keys."""
    return token if token[0].isdigit() else token[:KEY_PREFIX]


def candidate_keys(fp: Fingerprint) -> list[int]:
    """Return lookup keys: pairs among the heaviest title tokens (at most 15 keys)."""
    # Rank by context-free weight (no capitals bonus) so both outlets pick alike.
    forms = {_key_form(t): weight(t, specific=t in fp.specifics, proper=False) for t in fp.tokens}
    ranked = sorted(forms, key=lambda form: (-forms[form], form))[:MAX_KEY_TOKENS]
    if len(ranked) == 1:
        return [_key(ranked[0])]
    return [_key(x, y) for x, y in itertools.combinations(sorted(ranked), 2)]
