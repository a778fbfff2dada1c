"""Article full text: extract a page's main text and clean off page furniture.

Pure: takes the HTML a Fetcher downloaded and returns data (`bot.render.article` lays
it out). Extraction is trafilatura's; the cleaning of what it leaves (app and newsletter
prompts, comment prompts, link lists...) is ours, as documented, anchored line patterns
plus a few layout heuristics.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import trafilatura
from lxml import etree
from lxml.html import HtmlElement

from bot.ingest.article_body import BULLET, BodyLine, body_lines
from bot.render.plain import fold

MIN_CHARS = 300
# The recall pass runs when the precise one kept less than this share of the page's text,
# and wins when it is longer than the precise one by this factor (tuned on half the
# development pages, bench/fulltext_eval.py).
RECALL_SHARE = 0.2
RECALL_GAIN = 1.3

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


def _compile(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)


# One breadcrumb: one to four words without separators or sentence punctuation.
_CRUMB = r"([^\s<>»›|/.!?]+( [^\s<>»›|/.!?]+){0,3})"
_SOCIAL = r"(facebook|twitter|x|linkedin|whatsapp|telegram|e-?mail|reddit|pinterest|messenger)"

# Lines that are page furniture, never article text. Each matches a whole line.
_JUNK_LINES = _compile(
    # Comment prompts: "What is your opinion on this topic?", "Leave the first comment",
    # "Join the conversation", "Comments (12)", "Show 5 comments".
    r"^(what is|what's|what are) your (opinion|view|views|thoughts|take)\b.{0,80}$",
    r"^(be the first to )?(leave|post|write|add)( the first| a| your)? comments?\b.{0,40}$",
    r"^be the first to comment\b.{0,40}$",
    r"^(join|start) the (conversation|discussion|debate)\b.{0,60}$",
    r"^(show|view|read|load|hide|see)( all| more)?( \d+)? comments?\b.{0,20}$",
    r"^(\d+ )?comments?\s*(\(\d+\)|:?\s*\d+)?$",
    # App promotion: "Download our app for breaking news alerts", "Get the app".
    r"^(download|get|install|try) (our|the)( free| new)?( [\w-]+){0,3} apps?\b.{0,80}$",
    # Newsletter sign-up boxes.
    r"^(sign up|subscribe|register)\b.{0,100}\bnewsletters?\b.{0,100}$",
    r"^.{0,80}\bnewsletters?\b.{0,80}\b(sign up|subscribe|inbox)\b.{0,80}$",
    # Cookie notices and consent buttons.
    r"^(we|this (web)?site|our (web)?site) uses? cookies\b.*$",
    r"^(accept|allow|reject|decline|manage)( all)? cookies\b.{0,40}$",
    r"^.{0,100}\bcookie (policy|settings|preferences|consent)\b.{0,100}$",
    # Navigation crumbs: "Home > World > Europe", "News | Local", "Home / City".
    rf"^{_CRUMB}((\s*[>»›|]\s*|\s/\s){_CRUMB})+$",
    # Share buttons: "Share on Facebook", "Share this article", "Facebook Twitter Email".
    r"^(share|tweet|pin|send)( this)?( article| story| page| link)?"
    rf"(( on| via| to| with)? {_SOCIAL})?$",
    rf"^(({_SOCIAL}|print|copy link|share)[\s,|·•/]*){{1,10}}$",
    r"^follow us (on|at)\b.{0,80}$",
    # Advertising labels: "Advertisement", "Sponsored content", "Story continues below".
    r"^(advertisement|advertising|ad|sponsored( content)?|paid content|anzeige|werbung)"
    r"(\s*[-–—:]?\s*(story|article) continues (below|after (the )?(ad|advertisement))\.?)?$",
    r"^(story|article) continues below( advertisement)?\.?$",
    # Reading aids: "4 min read", "Listen to this article".
    r"^(\d+\s*(min|mins|minutes?)( read| reading time)|reading time:?\s*\d+.{0,12})$",
    r"^listen to (this )?(article|story)\b.{0,30}$",
    # Paywall prompts.
    r"^(subscribe|sign in|log in|register)( now)? to (continue|keep) reading\b.{0,80}$",
    r"^already (a subscriber|have an account)\b.{0,60}$",
    # Photo credits and bare bylines: "Photo: Reuters", "By Jane Doe · 14 March 2024".
    r"^(photo|image|foto|picture|illustration|video)( credit)?\s*[:©/].{0,80}$",
    r"^(by|written by)\s+[^\s.!?]+(\s+[^\s.!?]+){0,3}(\s*[·|,–—-]\s*[^.!?]{0,60})?$",
)
# Headings of related-content lists ("Read more:", "Most read", "Related: <headline>"):
# the heading goes, and so do the headline-like lines that follow it.
_LIST_HEADING = re.compile(
    r"^(read more|read also|also read|related( stories| articles| coverage| content)?|see also"
    r"|more on this( story| topic)?|more from [\w ]{1,30}|recommended( for you| stories)?"
    r"|you (may|might) also like|most (read|popular|viewed|shared)|trending( now)?|top stories"
    r"|latest news)(\s*[:\-–—»›]?\s*$|\s*[:\-–—»›]\s*.{0,200}$)",
    re.IGNORECASE,
)
_ENDS_SENTENCE = re.compile(r"[.!?…:;。！？：；]['\"”’»)\]」』）]*$")
# Chinese, Japanese and Korean script: no spaces between words, so such characters are
# counted (two to a word) where lines are measured in words.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_BULLET = BULLET
_HEADLINE_MAX_WORDS = 20
_STUB_MAX_WORDS = 5
_ALL_LINKS = 0.9  # a line with this share of link text is a link, not prose


def is_junk_line(line: str) -> bool:
    """Tell whether a line is page furniture matched by one of the documented patterns."""
    line = line.removeprefix(_BULLET)
    return any(pattern.match(line) for pattern in _JUNK_LINES)


def _ends_sentence(line: str) -> bool:
    return _ENDS_SENTENCE.search(line) is not None


def word_count(line: str) -> int:
    """Words in a line; CJK characters count two to a word."""
    cjk = len(_CJK.findall(line))
    return len(_CJK.sub(" ", line).split()) + (cjk + 1) // 2


def _is_stub(line: str) -> bool:
    """A few words without sentence punctuation: a menu entry, link or label."""
    return word_count(line) <= _STUB_MAX_WORDS and not _ends_sentence(line)


def _drop_list_blocks(lines: Sequence[BodyLine]) -> list[BodyLine]:
    """Drop related-content headings and the linked headline-like lines after them."""
    kept: list[BodyLine] = []
    in_list = False
    for line in lines:
        text = line.text.removeprefix(_BULLET)
        if line.verbatim:
            in_list = False
        elif _LIST_HEADING.match(text):
            in_list = True
            continue
        elif (
            in_list
            and line.linked
            and not _ends_sentence(text)
            and word_count(text) <= _HEADLINE_MAX_WORDS
        ):
            continue
        in_list = False
        kept.append(line)
    return kept


def _drop_stubs(lines: Sequence[BodyLine]) -> list[BodyLine]:
    """Drop linked short unpunctuated lines at the edges or next to another such line.

    Those are link lists (menus, tags, related links). A lone one between real
    paragraphs is kept: it is most likely a subheading. Lines that are not links
    (list items, numbered subheadings, code) are the article's own and stay.
    """
    stub = [
        line.linked and not line.verbatim and _is_stub(line.text.removeprefix(_BULLET))
        for line in lines
    ]
    last = len(lines) - 1
    return [
        line
        for i, line in enumerate(lines)
        if not stub[i]
        or not (i in (0, last) or (i > 0 and stub[i - 1]) or (i < last and stub[i + 1]))
    ]


def _drop_link_runs(lines: Sequence[BodyLine]) -> list[BodyLine]:
    """Drop lines that are all links and no sentence: a menu or headline list run together."""
    return [
        line
        for line in lines
        if line.verbatim
        or line.link_share < _ALL_LINKS
        or _ends_sentence(line.text)
        or word_count(line.text) <= _STUB_MAX_WORDS  # left to _drop_stubs
    ]


def _drop_repeats(lines: Sequence[BodyLine], *, title: str) -> list[BodyLine]:
    """Drop a line equal to the title or to the line kept just before it."""
    kept: list[BodyLine] = []
    for line in lines:
        folded = fold(line.text)
        if not line.verbatim and (
            folded == fold(title) or (kept and folded == fold(kept[-1].text))
        ):
            continue
        kept.append(line)
    return kept


def clean_lines(lines: Iterable[BodyLine], *, title: str = "") -> list[str]:
    """Remove page furniture from body lines; return the kept text as paragraphs."""
    kept = [line for line in lines if line.verbatim or not is_junk_line(line.text)]
    kept = _drop_repeats(_drop_stubs(_drop_link_runs(_drop_list_blocks(kept))), title=title)
    grouped: dict[int, list[str]] = {}
    for line in kept:
        grouped.setdefault(line.block, []).append(line.text)
    return ["\n".join(texts) for texts in grouped.values()]


def clean_paragraphs(paragraphs: Iterable[str], *, title: str = "") -> list[str]:
    """Clean plain-text paragraphs whose links are unknown: any line may be a link."""
    lines = [
        BodyLine(" ".join(raw.split()), index, link_share=0.5)
        for index, paragraph in enumerate(paragraphs)
        for raw in paragraph.split("\n")
        if raw.strip()
    ]
    return clean_lines(lines, title=title)


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
    )
    if document is None or isinstance(document, dict) or document.body is None:
        return None
    title = _clean_title(document.title, document.sitename)
    paragraphs = clean_lines(body_lines(document.body), title=title)
    return _Draft(title, document.sitename or None, paragraphs)


def _needs_recall(draft: _Draft | None, tree: HtmlElement, min_chars: int) -> bool:
    """Whether the precise pass may have missed text: too little, or little of the page's."""
    if draft is None or draft.chars < min_chars:
        return True
    total, linked = _text_sizes(tree)
    return draft.chars < RECALL_SHARE * (total - linked)


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
    if _needs_recall(draft, tree, min_chars):
        if (draft is None or draft.chars < min_chars) and _link_density(tree) > _LINK_DENSITY_LIMIT:
            # Little prose on a page of links: a section front, not an article.
            return ExtractionFailure(REASON_NOT_ARTICLE)
        second = _draft(tree, url, precise=False)
        if second is not None and (draft is None or second.chars > RECALL_GAIN * draft.chars):
            draft = second
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
