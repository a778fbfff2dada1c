"""Article full text: extract a page's main text and clean off page furniture.

Pure: takes the HTML a Fetcher downloaded and returns data (`bot.render.article` lays
it out). Hidden elements are pruned first (`bot.fulltext.prune`), and readers'
comment sections after the article (`bot.fulltext.comments`); extraction is
trafilatura's, in up to two passes, with the page's own JSON-LD `articleBody` as a
check and a last resort; the cleaning of what it leaves is ours
(`bot.fulltext.clean`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.settings import Extractor

from bot.fulltext import reasons
from bot.fulltext.body import (
    BodyLine,
    body_lines,
    declared_body,
    declared_text,
    defuse_metadata,
)
from bot.fulltext.clean import clean_lines, clean_paragraphs, is_junk_line, word_count
from bot.fulltext.comments import prune_comments
from bot.fulltext.gaps import restore_headings
from bot.fulltext.intro import intro
from bot.fulltext.lead import standfirst
from bot.fulltext.meta import PageMeta, meta_tags, page_meta
from bot.fulltext.prune import prune_hidden
from bot.fulltext.runs import wrap_loose_text
from bot.fulltext.tree import use_c_lookup, use_guarded_xpaths
from bot.fulltext.vote import (
    needs_vote,
    other_extent,
    quick_extent,
    takes_nothing,
    trim_to_agreement,
)

__all__ = [
    "MIN_CHARS",
    "Article",
    "ExtractionFailure",
    "ExtractionResult",
    "clean_lines",
    "clean_paragraphs",
    "extract_article",
    "hostname",
    "is_junk_line",
]

MIN_CHARS = 300
# The balanced pass runs when the recall one kept less than this share of the page's
# non-link text (it may have taken the wrong block), and the longer cleaned text wins
# (tuned on half the development pages, bench/fulltext_eval.py).
SECOND_PASS_SHARE = 0.2
# The page's JSON-LD articleBody, when it has one, says how long the article is: a
# cleaned text shorter than DECLARED_SHARE of it asks for the second pass, and one still
# shorter than DECLARED_FALLBACK of it gives way to the articleBody itself.
DECLARED_SHARE = 0.8
DECLARED_FALLBACK = 0.5

REASON_EMPTY = reasons.PAGE_EMPTY
REASON_NO_TEXT = reasons.PAGE_NO_TEXT
REASON_NOT_ARTICLE = reasons.PAGE_NOT_ARTICLE
REASON_UNREADABLE = reasons.PAGE_UNREADABLE
REASON_TOO_LARGE = reasons.PAGE_TOO_LARGE
# Extraction costs about 0.1-0.5 ms an element on one core, so a page of 2 MB made of
# 180,000 tiny elements kept a thread busy for a minute, long after its tap was told it
# took too long (a thread cannot be stopped). The largest page of the test corpora has
# 9,888 elements; past this many a page is refused before any extraction runs.
MAX_ELEMENTS = 25_000
# Subtrees trafilatura drops whole before it reads a page (its MANUALLY_CLEANED): an
# inline SVG chart of 30,000 paths costs next to nothing, so it does not count.
_UNCOUNTED = frozenset({"svg", "math", "script", "style", "noscript", "template"})
_UNSEEN = frozenset({"script", "style", "noscript"})  # their text is not the page's text
# The second extractor's vote (`bot.fulltext.vote`) costs about as much as our own
# passes, and on a page near MAX_ELEMENTS a second or more; past this many elements it is
# skipped (the test pages' medians are 440-610 elements; none over it changed on the
# halves tuned on, BENCHMARKS.md "Tenth round").
VOTE_MAX_ELEMENTS = 4_000

# Share of a page's visible text that sits inside links above which it is a link list
# (section front, tag page, search results) rather than an article.
_LINK_DENSITY_LIMIT = 0.5
_GRAM = 3  # link texts are matched in the draft by runs of this many words
_WORD = re.compile(r"\w+")
_TITLE_TEXTS = etree.XPath(
    "//head/title/text() | //meta[@property='og:title' or @name='twitter:title']/@content"
)
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|–—·»]|-|::)\s+")
_TITLE_WORDS = 3  # a part of a <title> shorter than this is a site or section name
# A link goes somewhere: an <a> with an href that is not a script ("javascript:...") or
# the top of the page ("#"): those are buttons styled as links, their text the page's own.
# The href is read as XPath's `translate(normalize-space(@href), 'JAVSCRIPT', 'javscript')`
# read it, in Python (`_goes_somewhere`): those string functions on every href cost more
# than the rest of the page's text sizes (`_text_sizes`) together.
_ANCHORS = etree.XPath("//a[@href]")
_XPATH_SPACE = re.compile("[ \t\r\n]+")  # the whitespace XPath's normalize-space() collapses
_SCRIPT_CASE = str.maketrans("JAVSCRIPT", "javscript")
_MAYBE_NOWHERE = frozenset(" \t\r\njJ#")  # first characters of an href that may be either


@dataclass(frozen=True)
class Article:
    """An article's readable text: a title and plain-text paragraphs."""

    title: str
    paragraphs: tuple[str, ...]
    source: str | None
    url: str
    partial: bool = False  # shorter than min_chars: maybe only a teaser (paywall?)


@dataclass(frozen=True)
class ExtractionFailure:
    """Why no article could be read from a page, as one line for the user."""

    reason: str


ExtractionResult = Article | ExtractionFailure


def _clean_title(title: str | None, sitename: str | None) -> str:
    """Drop a " | Site name" suffix that some pages keep in their <title>."""
    title = " ".join((title or "").split())
    if sitename:
        for separator in (" | ", " - ", " – ", " — ", " :: "):
            title = title.removesuffix(separator + sitename)
    return title


def _goes_somewhere(href: str) -> bool:
    """Whether an href is a link's, not a script's ("javascript:...") or the page top's ("#")."""
    if href[:1] not in _MAYBE_NOWHERE:
        return True  # most hrefs: one that begins so, read as XPath reads it, goes somewhere
    href = _XPATH_SPACE.sub(" ", href).strip(" ").translate(_SCRIPT_CASE)
    return not (href.startswith("javascript:") or href == "#")


def _links(tree: HtmlElement) -> tuple[HtmlElement, ...]:
    """The page's links that go somewhere, in document order."""
    return tuple(a for a in _ANCHORS(tree) if _goes_somewhere(a.get("href", "")))


def _text_sizes(tree: HtmlElement, links: set[HtmlElement]) -> tuple[int, int]:
    """Characters of the page's visible text, and of those inside `links`.

    Each text is counted stripped; text inside a script, style or noscript is not, but the
    tail after one is; a comment's or a processing instruction's tail is not (lxml's
    `iterwalk`, which this replaced, never gave them). One pass over the body's elements in
    lxml's own order (`iter`), which makes each once; a walk with "start" and "end" events
    made each twice. What lies inside a script or a link is found first, from those few
    elements (`_inside`).
    """
    total = linked = 0
    for body in tree.iter("body"):
        if any(a.tag == "body" for a in body.iterancestors()):
            continue  # counted with the outer one
        unseen = _inside(body.iter(*_UNSEEN))
        in_link = _inside(a for a in body.iter("a") if a in links)  # a link's text: below it
        for element in body.iter(etree.Element):  # as the walk: no comment, nor its tail
            if element in unseen:
                continue  # nothing in a script counts, not even its nodes' tails
            text = element.text
            if text and element.tag not in _UNSEEN:
                size = len(text.strip())
                total += size
                linked += size if element in links or element in in_link else 0
            tail = element.tail
            if tail and element is not body:
                size = len(tail.strip())  # the tail belongs to the parent
                total += size
                linked += size if element in in_link else 0
    return total, linked


def _inside(elements: Iterable[etree._Element]) -> set[etree._Element]:
    """The nodes below any of `elements` (not the elements themselves, unless below another)."""
    below: set[etree._Element] = set()
    for element in elements:
        if element not in below:  # one below another: its nodes are there already
            below.update(element.iterdescendants())
    return below


@dataclass(frozen=True)
class _Page:
    """The parsed page, its links and the sizes of its visible text (all, and inside links)."""

    tree: HtmlElement
    links: tuple[HtmlElement, ...]  # read once: the tree does not change while it is read
    total: int
    linked: int

    @classmethod
    def of(cls, tree: HtmlElement) -> _Page:
        links = _links(tree)
        return cls(tree, links, *_text_sizes(tree, set(links)))

    @property
    def link_density(self) -> float:
        """Share of the page's visible text that is link text."""
        return self.linked / self.total if self.total else 0.0

    @property
    def prose(self) -> int:
        """Characters of visible text outside links."""
        return self.total - self.linked


def _grams(text: str, size: int = _GRAM) -> list[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    return [tuple(words[i : i + size]) for i in range(len(words) - size + 1)]


def _link_text_share(page: _Page, draft: _Draft) -> float:
    """Share of the draft's words that are the page's link texts (a section front's teasers).

    Measured on the page, not on trafilatura's lines: its whole-page fallback loses the
    links, and runs a menu together into one line. A word counts when a run of three
    words holding it is in a link text, so one- and two-word menu entries never match
    inside prose, a menu run together still matches, and the cost stays linear.
    """
    words = _WORD.findall(" ".join(draft.paragraphs).casefold())
    # A text of one or two words is matched word by word.
    size = max(1, min(_GRAM, len(words)))
    linked = {gram for a in page.links for gram in _grams(a.text_content(), size)}
    covered = [False] * len(words)
    for i in range(len(words) - size + 1):
        if tuple(words[i : i + size]) in linked:
            covered[i : i + size] = [True] * size
    return sum(covered) / len(words) if words else 0.0


def _is_link_list(page: _Page, draft: _Draft | None) -> bool:
    """A page of links whose extracted text is its link texts: a section front, not an article.

    Decided on what was extracted, however short: a news brief of two sentences under a
    large menu is still an article (the extractors found prose that no link holds).
    """
    if page.link_density <= _LINK_DENSITY_LIMIT:
        return False
    if draft is None or not draft.paragraphs:
        return True
    return _link_text_share(page, draft) > _LINK_DENSITY_LIMIT


def _too_little_text(page: _Page) -> ExtractionFailure:
    if page.link_density > _LINK_DENSITY_LIMIT:
        return ExtractionFailure(REASON_NOT_ARTICLE)
    return ExtractionFailure(REASON_NO_TEXT)


@dataclass(frozen=True)
class _Draft:
    title: str
    source: str | None
    paragraphs: list[str]
    raw: list[BodyLine]  # trafilatura's lines before cleaning

    @property
    def chars(self) -> int:
        return sum(len(p) for p in self.paragraphs)


def page_headlines(tree: HtmlElement) -> tuple[str, ...]:
    """The page's own titles (<title>, og:title, twitter:title) and their parts.

    A <title> often adds the site's name or section after a separator ("Headline | Site",
    "Headline - Section - Site"); each part of three words or more counts on its own.
    """
    texts = [" ".join(t.split()) for t in _TITLE_TEXTS(tree) if isinstance(t, str)]
    parts = [part for text in texts for part in _TITLE_SEPARATOR.split(text)]
    return tuple(dict.fromkeys(t for t in [*texts, *parts] if word_count(t) >= _TITLE_WORDS))


def _draft(
    tree: HtmlElement,
    url: str,
    *,
    recall: bool,
    meta: PageMeta,
    headlines: tuple[str, ...] = (),
) -> _Draft | None:
    """One trafilatura pass, cleaned: `recall` favours recall, else trafilatura's balanced default.

    The balanced mode also weighs its own result against its fallback extractors
    (readability, justext) and retries a short one, which `favor_recall` skips: on
    trafilatura's evaluation pages it kept text the recall pass lost (BENCHMARKS.md,
    "Fourteenth session: links and missed snippets").

    The page's title and site name come from `meta`, read once a page: trafilatura's own
    metadata step would look for authors, dates and tags on each pass (`meta`).
    """
    # No `url=`: trafilatura would resolve every link's target against it on each pass,
    # and only the headings' self-links are read (`body_lines` resolves those the same
    # way). Output "txt", not "python": the body is all we read, and "python" also
    # renders it as text (`document.text`) on each pass. Neither changes the body's text.
    document = trafilatura.bare_extraction(tree, options=_RECALL if recall else _BALANCED)
    if document is None or isinstance(document, dict) or document.body is None:
        return None
    title = _clean_title(meta.title, meta.sitename)
    raw = body_lines(document.body, url)
    paragraphs = clean_lines(raw, title=title, headlines=headlines)
    return _Draft(title, meta.sitename, paragraphs, raw)


def _options(*, recall: bool) -> Extractor:
    """trafilatura's settings for a pass, made once: `bare_extraction` would read its
    configuration again on every call (the settings never change, and no pass changes them)."""
    return Extractor(
        output_format="txt",
        recall=recall,
        comments=False,
        tables=True,  # some pages lay the article out in a table
        links=True,  # link text tells menus from the article's own short lines
        with_metadata=False,
    )


_RECALL = _options(recall=True)
_BALANCED = _options(recall=False)


def _needs_second(draft: _Draft | None, page: _Page, min_chars: int, declared: str) -> bool:
    """Whether the first pass may have missed text: too little, or little of the page's."""
    if draft is None or draft.chars < min_chars:
        return True
    if draft.chars < DECLARED_SHARE * len(declared):
        return True
    return draft.chars < SECOND_PASS_SHARE * page.prose


def _longer(first: _Draft | None, second: _Draft | None) -> _Draft | None:
    if first is None or (second is not None and second.chars > first.chars):
        return second
    return first


def _uncleaned(draft: _Draft) -> _Draft:
    """The extracted lines without the layout rules: better than nothing (junk still goes)."""
    paragraphs: dict[int, list[str]] = {}
    for line in draft.raw:
        if line.verbatim or not is_junk_line(line.text):
            paragraphs.setdefault(line.block, []).append(line.text)
    return replace(draft, paragraphs=["\n".join(texts) for texts in paragraphs.values()])


def _plain(declared: str) -> str:
    """The text of the page's articleBody (it may hold HTML or plain text)."""
    return declared_text(declared) if "<" in declared else declared


def _declared_draft(declared: str, draft: _Draft | None) -> _Draft:
    """The page's articleBody as the article's text (it may hold HTML or plain text)."""
    text = _plain(declared)
    lines = [
        BodyLine(" ".join(line.split()), index)
        for index, paragraph in enumerate(text.split("\n\n"))
        for line in paragraph.split("\n")
        if line.strip()
    ]
    title = draft.title if draft else ""
    source = draft.source if draft else None
    return _Draft(title, source, clean_lines(lines, title=title), lines)


def extract_article(
    html: bytes | str, *, url: str, min_chars: int = MIN_CHARS
) -> Article | ExtractionFailure:
    """Extract and clean an article's title and paragraphs from a downloaded page.

    Hidden elements and the readers' comments after the article go first, and text left
    loose beside blocks gets a paragraph of its own (`runs`). trafilatura runs
    favouring recall; when that leaves too little text, or much less than the page holds,
    it runs again in its balanced mode and the longer cleaned result wins. Text shorter
    than `min_chars` is still returned, marked `partial` (a teaser or a very short page),
    unless the page is a link list (one that does not declare itself an article). When
    the cleaning leaves nothing of what trafilatura found, its lines are shown without
    the layout rules rather than nothing; when the page without its hidden elements and
    comments gives no cleaned text, the whole page is read again (text a script would
    reveal beats no text, or a menu).
    """
    if not html or not html.strip():
        return ExtractionFailure(REASON_EMPTY)
    tree = _parse(html)
    if tree is None:
        return ExtractionFailure(REASON_UNREADABLE)
    elements = _element_count(tree, stop=MAX_ELEMENTS)
    if elements > MAX_ELEMENTS:
        return ExtractionFailure(REASON_TOO_LARGE)
    vote = elements <= VOTE_MAX_ELEMENTS
    declared = declared_body(tree)
    defuse_metadata(tree)
    pruned = prune_hidden(tree) + prune_comments(tree)
    wrap_loose_text(tree)
    result, cleaned = _extract(tree, url, min_chars, declared, vote=vote)
    if not cleaned and pruned and (whole := _parse(html)) is not None:
        defuse_metadata(whole)
        wrap_loose_text(whole)
        again, cleaned = _extract(whole, url, min_chars, declared, vote=vote)
        if cleaned:
            return again
    return result


def _element_count(tree: HtmlElement, *, stop: int) -> int:
    """The elements extraction reads on the page, counted up to one past `stop`.

    Every node below `tree` but texts (elements, comments, processing instructions), less
    each outermost `_UNCOUNTED` subtree whole. lxml counts them in C (`iter`): a walk with a
    stack of our own, which stopped past `stop`, took twice as long on the test pages.
    """
    if tree.tag in _UNCOUNTED:
        return 0  # the page is one such subtree
    count = sum(1 for _ in tree.iter())
    for element in tree.iter(*_UNCOUNTED):
        if not _below_uncounted(element, tree):  # a nested one goes with the outermost
            count -= sum(1 for _ in element.iter())
    return min(count, stop + 1)


def _below_uncounted(element: HtmlElement, top: HtmlElement) -> bool:
    """Whether an ancestor of `element` below `top` is one of the `_UNCOUNTED`."""
    for ancestor in element.iterancestors():
        if ancestor is top:
            return False
        if ancestor.tag in _UNCOUNTED:
            return True
    return False


use_c_lookup()  # element classes chosen in C: about 7 % of an extraction (tree)
use_guarded_xpaths()  # trafilatura's attribute tests only where the attribute is (tree)


def _parse(html: bytes | str) -> HtmlElement | None:
    try:
        return trafilatura.load_html(html)
    except (ValueError, TypeError, etree.LxmlError):
        return None


def _extract(
    tree: HtmlElement, url: str, min_chars: int, declared: str, *, vote: bool
) -> tuple[Article | ExtractionFailure, bool]:
    """The article on this tree, and whether it is cleaned text (not a failure or a last resort).

    `vote`: a second extractor may trim the text's edges (`_voted`).
    """
    page = _Page.of(tree)
    headlines = page_headlines(tree)
    meta = page_meta(tree, url)
    tags = meta_tags(tree)  # the tree does not change while it is read
    draft = _draft(tree, url, recall=True, meta=meta, headlines=headlines)
    if _needs_second(draft, page, min_chars, declared):
        draft = _longer(draft, _draft(tree, url, recall=False, meta=meta, headlines=headlines))
    # A page that declares an article is one, however many links its text holds (a blog
    # post of links with a line on each): only other pages are refused as link lists.
    if not declared and not tags.declares_article and _is_link_list(page, draft):
        return ExtractionFailure(REASON_NOT_ARTICLE), False
    if declared and (draft is None or draft.chars < DECLARED_FALLBACK * len(declared)):
        draft = _declared_draft(declared, draft)
    cleaned = draft is not None and bool(draft.paragraphs)
    if draft is not None and not draft.paragraphs:
        draft = _uncleaned(draft)
    if draft is None or not draft.paragraphs:
        return _too_little_text(page), False
    paragraphs = _voted(tree, draft) if cleaned and vote else draft.paragraphs
    if cleaned:
        paragraphs = _with_headings(tree, paragraphs, draft, headlines)
    chars = sum(len(p) for p in paragraphs)
    lead = (
        standfirst(
            tree,
            paragraphs,
            titles=(draft.title, *headlines),
            declared=_plain(declared),
            descriptions=tags.descriptions,
        )
        if cleaned
        else None
    )
    if lead and not is_junk_line(lead):
        paragraphs = [lead, *paragraphs]
    if cleaned:
        found = intro(
            tree,
            paragraphs,
            headlines=(draft.title, *headlines),
            descriptions=tags.descriptions,
        )
        paragraphs = [*(text for text in found if not is_junk_line(text)), *paragraphs]
    article = Article(
        title=draft.title or hostname(url),
        paragraphs=tuple(paragraphs),
        source=draft.source,
        url=url,
        partial=chars < min_chars,
    )
    return article, cleaned


def _with_headings(
    tree: HtmlElement, paragraphs: list[str], draft: _Draft, headlines: tuple[str, ...]
) -> list[str]:
    """The text with the subheadings trafilatura skipped between its lines (`gaps`)."""
    restored = restore_headings(tree, paragraphs, titles=(draft.title, *headlines))
    known = set(paragraphs)
    return [p for p in restored if p in known or not is_junk_line(p)]


def _voted(tree: HtmlElement, draft: _Draft) -> list[str]:
    """The cleaned text less what a second extractor says lies around the article.

    Asked only when some line could go (`bot.fulltext.vote`). trafilatura's port of
    the algorithm answers first, in about a quarter of the time; when it agrees with ours
    on most of the text and would take nothing away, that is the answer. Otherwise
    readability-lxml decides, as it did alone: on the development pages this gives the
    same text for about a third of readability-lxml's runs (BENCHMARKS.md, "Thirteenth
    session").
    """
    verbatim = {line.text for line in draft.raw if line.verbatim}
    if not needs_vote(draft.paragraphs, verbatim):
        return draft.paragraphs
    quick = quick_extent(tree)
    if quick is not None and takes_nothing(draft.paragraphs, quick, verbatim=verbatim):
        return draft.paragraphs
    other = other_extent(tree)
    if other is None:
        return draft.paragraphs
    return trim_to_agreement(draft.paragraphs, other, verbatim=verbatim)


def hostname(url: str) -> str:
    """The site an article came from, without "www.", for a byline."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return host.removeprefix("www.") or url
