"""A learned last word on the lines the cleaning rules keep: logistic regression, weights here.

Pure, standard library only: the weights were fitted offline (numpy, a script kept out of
the project) and are constants below; nothing is learned at run time. A line the layout
rules of `bot.ingest.article_clean` keep is dropped when the model gives it a probability
of being the article's text below `DROP_BELOW` (0.5); the model never brings a dropped
line back (that way lost on the development halves) and never touches code.

What it learned from (development halves only, 3,068 labelled lines, 240 furniture): the
candidate lines of trafilatura's passes on the 31 Readability test pages that are in the
"tune" half of both splits (`bench/fulltext_eval.py`; a line is the article's when at
least half its word triples are in expected.html, furniture when at most a fifth) and on
the 487 pages of the "diag" half of trafilatura's evaluation snippets
(`bench/fulltext_snippets.py`; a line holding a "with" snippet is the article's, one
holding a "without" snippet furniture). L2-regularised (lambda 10 on standardised
features), every line weighted alike.

What weighs most (weight times the feature's spread, sign: towards the article): lines
in a block of several lines (+0.64), list items (+0.49), share of the page's words
before the line (-0.44), the page's share of link words (+0.40), the line's own link
share (-0.36), after the last paragraph of prose (-0.33), before the first one (-0.31),
words against the page's median line (+0.30), lines past the last prose (-0.26), a stub
of five words or fewer without a sentence end (+0.26: the rules' survivors of that kind
are subheadings), title case (-0.25), headline-like (20 words or fewer, no sentence
end: -0.23), neighbours' link shares (-0.20, -0.18). Cost: about 5 µs a line.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from bot.ingest.article_body import BULLET, BodyLine

_WORDS = re.compile(r"\w+")
_ENDS_SENTENCE = re.compile(r"[.!?…:;。！？：；]['\"”’»)\]」』）]*$")
_DIGIT = re.compile(r"\d")
_CAPITALISED = re.compile(r"\b[^\W\d_][^\W_]*\b")
_PROSE_MIN_WORDS = 15
_ALL_LINKS = 0.9
_SEPARATORS = re.compile(r"\s[|·•»/–—-]\s|\|")

FEATURES = (
    "bias",
    "log_words",
    "ends_sentence",
    "link_share",
    "all_link",
    "from_start",
    "from_end",
    "after_last_prose",
    "lines_after_prose",
    "before_first_prose",
    "prev_link",
    "next_link",
    "repeated",
    "bullet",
    "ellipsis",
    "digit_share",
    "title_case",
    "separators",
    "block_lines",
    "page_link_share",
    "block_link",
    "window_link",
    "words_before",
    "relative_words",
    "stub",
    "headline_like",
)

# Fitted weights, one per feature, in `FEATURES` order (see the module's doc).
WEIGHTS: tuple[float, ...] = (
    3.039,  # bias
    0.2049,  # log_words
    0.0254,  # ends_sentence
    -1.6442,  # link_share
    0.4628,  # all_link
    0.0637,  # from_start
    -0.7207,  # from_end
    -1.2566,  # after_last_prose
    -0.5103,  # lines_after_prose
    -1.1894,  # before_first_prose
    -0.6526,  # prev_link
    -0.5577,  # next_link
    -0.1468,  # repeated
    1.68,  # bullet
    -0.5374,  # ellipsis
    1.0721,  # digit_share
    -0.9236,  # title_case
    -0.023,  # separators
    1.1775,  # block_lines
    5.6012,  # page_link_share
    -0.7275,  # block_link
    0.021,  # window_link
    -1.3388,  # words_before
    0.2664,  # relative_words
    0.7328,  # stub
    -0.5314,  # headline_like
)
DROP_BELOW = 0.5  # a line the rules keep goes when its probability is below this


def _is_prose(text: str, words: int) -> bool:
    text = text.rstrip()
    return (
        words >= _PROSE_MIN_WORDS
        and _ENDS_SENTENCE.search(text) is not None
        and not text.endswith(("...", "…"))
    )


def line_features(lines: Sequence[BodyLine]) -> list[tuple[float, ...]]:
    """One feature vector per line, in `FEATURES` order, from the line and its neighbours."""
    n = len(lines)
    if not n:
        return []
    texts = [line.text.removeprefix(BULLET) for line in lines]
    tokens = [_WORDS.findall(text.casefold()) for text in texts]
    counts = [len(t) for t in tokens]
    prose = [_is_prose(text, count) for text, count in zip(texts, counts, strict=True)]
    last = max((i for i in range(n) if prose[i]), default=-1)
    first = next((i for i in range(n) if prose[i]), n)
    keys = Counter(" ".join(t) for t in tokens)
    blocks = Counter(line.block for line in lines)
    total = sum(counts) or 1
    page_link = sum(c * line.link_share for c, line in zip(counts, lines, strict=True)) / total
    block_link: dict[int, float] = {}
    for line in lines:
        block_link[line.block] = max(block_link.get(line.block, 0.0), line.link_share)
    shares = [line.link_share for line in lines]
    median = sorted(counts)[n // 2] or 1
    before = 0
    vectors: list[tuple[float, ...]] = []
    for i, line in enumerate(lines):
        text = texts[i]
        count = counts[i]
        chars = len(text) or 1
        capitals = _CAPITALISED.findall(text)
        sentence = _ENDS_SENTENCE.search(text.rstrip()) is not None
        title_case = sum(w[0].isupper() for w in capitals) / len(capitals) if capitals else 0.0
        vectors.append(
            (
                1.0,
                math.log1p(count),
                float(sentence),
                line.link_share,
                float(line.link_share >= _ALL_LINKS),
                i / n,
                (n - 1 - i) / n,
                float(last >= 0 and i > last),
                math.log1p(max(0, i - last)) if last >= 0 else 0.0,
                float(i < first),
                lines[i - 1].link_share if i else 1.0,
                lines[i + 1].link_share if i < n - 1 else 1.0,
                float(keys[" ".join(tokens[i])] > 1),
                float(line.text.startswith(BULLET)),
                float(text.rstrip().endswith(("...", "…"))),
                len(_DIGIT.findall(text)) / chars,
                title_case,
                min(3.0, float(len(_SEPARATORS.findall(text)))),
                math.log1p(blocks[line.block]),
                page_link,
                block_link[line.block],
                sum(shares[max(0, i - 2) : i + 3]) / len(shares[max(0, i - 2) : i + 3]),
                before / total,
                math.log1p(count) - math.log1p(median),
                float(count <= 5 and not sentence),
                float(count <= 20 and not sentence),
            )
        )
        before += count
    return vectors


def article_probability(features: Sequence[float]) -> float:
    """The model's probability that a line with these features is the article's."""
    z = sum(w * x for w, x in zip(WEIGHTS, features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def decide(candidates: Sequence[BodyLine], kept: Sequence[BodyLine]) -> list[BodyLine]:
    """The lines of `kept` (the rules' choice among `candidates`) the model does not drop.

    Features are read on `candidates` (the lines before the layout rules, so a line's
    neighbours are those the page printed); code is never dropped.
    """
    if not kept:
        return []
    chosen = {id(line) for line in kept}
    return [
        line
        for line, features in zip(candidates, line_features(candidates), strict=True)
        if id(line) in chosen and (line.verbatim or article_probability(features) >= DROP_BELOW)
    ]
