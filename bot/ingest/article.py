"""Article full text: extract a page's main text and clean off page furniture.

Pure: takes the HTML a Fetcher downloaded and returns data (`bot.render.article` lays
it out). Extraction is trafilatura's, in up to two passes, with the page's own JSON-LD
`articleBody` as a check and a last resort; the cleaning of what it leaves is ours
(`bot.ingest.article_clean`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.settings import set_date_params

from bot.ingest.article_body import BodyLine, body_lines, declared_body
from bot.ingest.article_clean import clean_lines, clean_paragraphs, is_junk_line
from bot.render.plain import html_to_text

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
# The recall pass runs when the precise one kept less than this share of the page's text,
# and wins when it is longer than the precise one by this factor (tuned on half the
# development pages, bench/fulltext_eval.py).
RECALL_SHARE = 0.2
RECALL_GAIN = 1.3
# The page's JSON-LD articleBody, when it has one, says how long the article is: a
# cleaned text shorter than DECLARED_SHARE of it asks for the recall pass, and one still
# shorter than DECLARED_FALLBACK of it gives way to the articleBody itself.
DECLARED_SHARE = 0.8
DECLARED_FALLBACK = 0.5

REASON_EMPTY = "the page is empty"
REASON_NO_TEXT = "the page has too little text (paywall?)"
REASON_NOT_ARTICLE = "not an article page"
REASON_UNREADABLE = "the page could not be parsed as HTML"

# Share of a page's visible text that sits inside links above which it is a link list
# (section front, tag page, search results) rather than an article.
_LINK_DENSITY_LIMIT = 0.5


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


def _text_sizes(tree: HtmlElement) -> tuple[int, int]:
    """Characters of the page's visible text, and of those inside links."""
    visible = "[not(ancestor::script or ancestor::style or ancestor::noscript)]"
    total = sum(len(t.strip()) for t in tree.xpath(f"//body//text(){visible}"))
    linked = sum(len(t.strip()) for t in tree.xpath(f"//body//a//text(){visible}"))
    return total, linked


def _link_density(tree: HtmlElement) -> float:
    """Share of the page's visible text that is link text."""
    total, linked = _text_sizes(tree)
    return linked / total if total else 0.0


def _too_little_text(tree: HtmlElement) -> ExtractionFailure:
    if _link_density(tree) > _LINK_DENSITY_LIMIT:
        return ExtractionFailure(REASON_NOT_ARTICLE)
    return ExtractionFailure(REASON_NO_TEXT)


@dataclass(frozen=True)
class _Draft:
    title: str
    source: str | None
    paragraphs: list[str]

    @property
    def chars(self) -> int:
        return sum(len(p) for p in self.paragraphs)


def _draft(tree: HtmlElement, url: str, *, precise: bool) -> _Draft | None:
    """One trafilatura pass, cleaned. `precise` favours precision, else recall."""
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=precise,
        favor_recall=not precise,
        include_comments=False,
        include_tables=True,  # some pages lay the article out in a table
        include_links=True,  # link text tells menus from the article's own short lines
        with_metadata=True,
        # The date is not shown; htmldate's extensive search would load dateparser's
        # 200 locales on the first page that needs it (seconds, once per process).
        date_extraction_params=set_date_params(extensive=False),
    )
    if document is None or isinstance(document, dict) or document.body is None:
        return None
    title = _clean_title(document.title, document.sitename)
    paragraphs = clean_lines(body_lines(document.body), title=title)
    return _Draft(title, document.sitename or None, paragraphs)


def _needs_recall(draft: _Draft | None, tree: HtmlElement, min_chars: int, declared: str) -> bool:
    """Whether the precise pass may have missed text: too little, or little of the page's."""
    if draft is None or draft.chars < min_chars:
        return True
    if draft.chars < DECLARED_SHARE * len(declared):
        return True
    total, linked = _text_sizes(tree)
    return draft.chars < RECALL_SHARE * (total - linked)


def _declared_draft(declared: str, draft: _Draft | None) -> _Draft:
    """The page's articleBody as the article's text (it may hold HTML or plain text)."""
    text = html_to_text(declared, paragraphs=True) if "<" in declared else declared
    lines = [
        BodyLine(" ".join(line.split()), index)
        for index, paragraph in enumerate(text.split("\n\n"))
        for line in paragraph.split("\n")
        if line.strip()
    ]
    title = draft.title if draft else ""
    return _Draft(title, draft.source if draft else None, clean_lines(lines, title=title))


def extract_article(
    html: bytes | str, *, url: str, min_chars: int = MIN_CHARS
) -> Article | ExtractionFailure:
    """Extract and clean an article's title and paragraphs from a downloaded page.

    trafilatura runs favouring precision; when that leaves too little text, or
    much less than the page holds, it runs again favouring recall and the longer
    cleaned result wins. Text shorter than `min_chars` is still returned, marked
    `partial` (a teaser or a very short page), unless the page is a link list.
    """
    if not html or not html.strip():
        return ExtractionFailure(REASON_EMPTY)
    try:
        tree = trafilatura.load_html(html)
    except (ValueError, TypeError, etree.LxmlError):
        tree = None
    if tree is None:
        return ExtractionFailure(REASON_UNREADABLE)
    draft = _draft(tree, url, precise=True)
    declared = declared_body(tree)
    if _needs_recall(draft, tree, min_chars, declared):
        short = draft is None or draft.chars < min_chars
        if short and not declared and _link_density(tree) > _LINK_DENSITY_LIMIT:
            # Little prose on a page of links: a section front, not an article.
            return ExtractionFailure(REASON_NOT_ARTICLE)
        second = _draft(tree, url, precise=False)
        if second is not None and (draft is None or second.chars > RECALL_GAIN * draft.chars):
            draft = second
    if declared and (draft is None or draft.chars < DECLARED_FALLBACK * len(declared)):
        draft = _declared_draft(declared, draft)
    if draft is None or not draft.paragraphs:
        return _too_little_text(tree)
    partial = draft.chars < min_chars
    if partial and _link_density(tree) > _LINK_DENSITY_LIMIT:
        return ExtractionFailure(REASON_NOT_ARTICLE)
    return Article(
        title=draft.title or hostname(url),
        paragraphs=tuple(draft.paragraphs),
        source=draft.source,
        url=url,
        partial=partial,
    )


def hostname(url: str) -> str:
    """The site an article came from, without "www.", for a byline."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return host.removeprefix("www.") or url
