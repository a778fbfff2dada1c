"""A second extractor's vote on where the article starts and ends.

Pure. trafilatura (the recall pass, the balanced one as a check) keeps the article's
container and, on many news templates, what the template prints around the article
inside that container: related headlines, promos, section links, bylines. Arc90's
readability algorithm (Readability.js descends from it), in readability-lxml, is of
another family: it scores candidate
containers by the paragraphs' text, commas and class names, and takes the best one with
its siblings. Where the two agree on most of the article, the short lines that only ours
has *before* the first line both hold or *after* the last one are what the template
prints around the article, and go. Prose (fifteen words or more holding a sentence) and code
stay wherever they are, and so does everything between the first and last shared line;
when the two disagree on most of the text, nothing changes (either may have taken the
wrong block, and nothing says which). Measured in BENCHMARKS.md ("Tenth round").
Two refinements (BENCHMARKS.md, "Fourteenth session: the vote"): on a page where the
template's short lines outweigh the article, the two still agree when every line of
ours that stays lies within what the other took; and past a heading right after the
last shared line ("More news"), teasers (prose shorter than a paragraph) go too.

trafilatura carries a lighter port of the same algorithm (`quick_extent`), about four
times faster. It is asked first, and when it agrees and would take nothing away,
readability-lxml need not run: the port's answers differ on a third of the pages, so
only its "nothing goes" is taken (BENCHMARKS.md, "Thirteenth session").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from copy import deepcopy

from lxml import etree
from lxml.html import HtmlElement
from readability.readability import Unparseable
from trafilatura.readability_lxml import Document as QuickDocument

from bot.fulltext.clean import word_count
from bot.fulltext.readability_lxml import readability_document
from bot.render.plain import BLOCK_TAGS, SKIP_CONTENT_TAGS

__all__ = ["needs_vote", "other_extent", "quick_extent", "takes_nothing", "trim_to_agreement"]

_GRAM = 3  # lines are matched by runs of this many words
_LINE_AGREES = 0.5  # a line is the other's when this share of its word runs is in it
_TEXT_AGREES = 0.5  # the two agree when such lines hold this share of our characters
_STAYING_LINES = 2  # ...or when all of at least this many lines that stay lie within
_TEASER_WORDS = 40  # under a heading after the article, prose shorter than this goes
_PROSE_WORDS = 15  # a line of this many words holding a sentence is prose, and stays
_WORD = re.compile(r"\w+")
_BREAKS = BLOCK_TAGS | {"br", "td", "th"}  # where the other's text breaks into lines
# A sentence ends somewhere in the line: a caption that closes on its credit
# ("... the agency said.(Photo via AP)") is still prose.
_SENTENCE_END = re.compile(r"[。！？]|[.!?][\"'”’»)\]]*(?:\s|$)")
Gram = tuple[str, ...]

# readability-lxml logs a page it cannot read with a traceback; a page that neither
# extractor can read is no error of ours.
logging.getLogger("readability.readability").setLevel(logging.CRITICAL)
logger = logging.getLogger(__name__)


def _grams(text: str) -> set[Gram]:
    """The text's runs of three words (casefolded); a shorter text is one run."""
    words = _WORD.findall(text.casefold())
    if len(words) < _GRAM:
        return {tuple(words)} if words else set()
    # zip of the word list and its shifts makes the same tuples as slicing each run out,
    # in about two thirds of the time (this runs on every line of both texts in the vote).
    return set(zip(*(words[k:] for k in range(_GRAM)), strict=False))


def _lines(root: etree._Element) -> list[str]:
    """The element's text broken into lines where a block or a line break starts or ends."""
    lines: list[str] = []
    parts: list[str] = []

    def flush() -> None:
        text = " ".join("".join(parts).split())
        if text:
            lines.append(text)
        parts.clear()

    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""  # comments have no name
        if tag in _BREAKS:
            flush()
        if event == "start":
            parts.append(element.text or "" if tag and tag not in SKIP_CONTENT_TAGS else "")
        elif element is not root:
            parts.append(element.tail or "")
    flush()
    return lines


def quick_extent(tree: HtmlElement) -> set[Gram] | None:
    """The word runs of trafilatura's port of the same algorithm, or None if it finds none.

    A lighter fork of readability-lxml (no second, lenient try; no look for the page's
    ``<article>``), about four times faster: asked first.
    """
    try:
        summary = QuickDocument(deepcopy(tree)).summary()  # it rewrites the tree it reads
    except Exception:  # a heuristic of another project on a hostile page: it abstains
        logger.debug("trafilatura's readability failed on a page", exc_info=True)
        return None
    return _summary_grams(summary)


def other_extent(tree: HtmlElement) -> set[Gram] | None:
    """The word runs of readability-lxml's article on this page, or None if it finds none.

    Each of its lines gives its runs of three words, and a line of one or two words its
    words: a short line of ours agrees only with the same short line. It gets the page
    as our passes saw it (hidden elements already pruned), as a tree it copies
    (`bot.fulltext.readability_lxml`: on a page of the usual shape, no markup written
    and parsed again, and none of its cleaner's work on attributes the answer's text
    does not depend on).
    """
    try:
        summary = readability_document(tree).summary(html_partial=True)
    except Unparseable:
        return None
    except Exception:  # a heuristic of another project on a hostile page: it abstains
        logger.debug("readability-lxml failed on a page", exc_info=True)
        return None
    return _summary_grams(summary)


def _summary_grams(summary: str) -> set[Gram] | None:
    # Its answer is a <div>, or on a damaged page a whole document: read either.
    try:
        # A parser per call: extractions run on several threads at once.
        root = etree.fromstring(summary, etree.HTMLParser()) if summary.strip() else None
    except etree.LxmlError:
        return None
    if root is None:
        return None
    body = root.find("body")
    grams = {gram for line in _lines(body if body is not None else root) for gram in _grams(line)}
    return grams or None


def _is_prose(text: str) -> bool:
    """Fifteen words or more holding a sentence, and not a teaser cut short ("...")."""
    return (
        word_count(text) >= _PROSE_WORDS
        and _SENTENCE_END.search(text) is not None
        and not text.rstrip().endswith(("...", "…"))
    )


def _trimmable(text: str, verbatim: Collection[str]) -> bool:
    """A line the vote may drop: not prose, not code."""
    return text not in verbatim and not _is_prose(text)


def needs_vote(paragraphs: Sequence[str], verbatim: Collection[str] = ()) -> bool:
    """Whether the vote could change anything: some line is neither prose nor code."""
    return any(_trimmable(line, verbatim) for p in paragraphs for line in p.split("\n"))


def _agrees(line: str, other: set[Gram]) -> bool:
    grams = _grams(line)
    return bool(grams) and len(grams & other) >= _LINE_AGREES * len(grams)


def takes_nothing(
    paragraphs: Sequence[str], other: set[Gram], *, verbatim: Collection[str] = ()
) -> bool:
    """Whether `other` agrees with most of the text and no line at its edges could go:
    `trim_to_agreement` would keep every line."""
    lines = [line for p in paragraphs for line in p.split("\n")]
    shared = _shared_span(lines, other, verbatim)
    if shared is None:
        return False
    first, last = shared
    return not any(_trimmable(line, verbatim) for line in lines[:first] + lines[last + 1 :])


def _shared_span(
    lines: Sequence[str], other: set[Gram], verbatim: Collection[str]
) -> tuple[int, int] | None:
    """The first and last line the other holds, when the two agree on the article; else
    None (either may have taken the wrong block, and nothing says which).

    They agree when the lines the other holds are at least half of the text's characters,
    or, on a page where what the template prints around the article outweighs it (a
    list of headlines, a job board, an advertisers' column), when every line of ours that
    would stay anyway (prose, code) lies between the first and last line the other holds,
    and there are at least two such lines: the other took the same article, and what
    only ours has around it is short lines.
    """
    shared = [_agrees(line, other) for line in lines]
    if not any(shared):
        return None
    span = shared.index(True), len(shared) - 1 - shared[::-1].index(True)
    total = sum(len(line) for line in lines)
    agreed = sum(len(line) for line, ok in zip(lines, shared, strict=True) if ok)
    if agreed >= _TEXT_AGREES * total:
        return span
    staying = [j for j, line in enumerate(lines) if not _trimmable(line, verbatim)]
    first, last = span
    inside = len(staying) >= _STAYING_LINES and first <= staying[0] and staying[-1] <= last
    return span if inside else None


def _teasers_from(lines: Sequence[str], last: int, verbatim: Collection[str]) -> int:
    """Where short prose after the article may go too: past a heading right after the last
    shared line (a short line holding no sentence: "More news", "External links"), the
    template's teasers follow, a sentence or two each. `len(lines)` when there is none."""
    after = last + 1
    if after < len(lines):
        heading = lines[after]
        if _trimmable(heading, verbatim) and _SENTENCE_END.search(heading) is None:
            return after + 1
    return len(lines)


def _goes(
    line: str, j: int, span: tuple[int, int], teasers: int, verbatim: Collection[str]
) -> bool:
    first, last = span
    if first <= j <= last or line in verbatim:
        return False
    return not _is_prose(line) or (j >= teasers and word_count(line) < _TEASER_WORDS)


def trim_to_agreement(
    paragraphs: Sequence[str], other: set[Gram], *, verbatim: Collection[str] = ()
) -> list[str]:
    """Drop the lines before the first and after the last line the other extractor holds.

    Only lines that are neither prose nor code (`verbatim`: code lines, as extracted) go,
    and only when the two agree on the article (`_shared_span`); and after a heading
    right after the last shared line, prose shorter than a paragraph (teasers) goes too.
    Paragraphs keep their lines in order; one left empty goes.
    """
    lines = [(i, line) for i, p in enumerate(paragraphs) for line in p.split("\n")]
    texts = [line for _, line in lines]
    shared = _shared_span(texts, other, verbatim)
    if shared is None:
        return list(paragraphs)
    teasers = _teasers_from(texts, shared[1], verbatim)
    kept: dict[int, list[str]] = {}
    for j, (i, line) in enumerate(lines):
        if not _goes(line, j, shared, teasers, verbatim):
            kept.setdefault(i, []).append(line)
    return ["\n".join(kept_lines) for kept_lines in kept.values()]
