"""Flatten trafilatura's XML body into lines of text, each knowing how much of it is links.

Pure. trafilatura hands back <p>, <head>, <list>/<item>, <quote>, <code> and <table>
(<row>/<cell>, or <tr>/<td>/<th> from its readability fallback) blocks with inline <hi>,
<ref> (links, when asked for) and <lb/> (line breaks). The cleaning in
`bot.fulltext.article` needs each line's text and whether it is mostly link text (a menu or
related-links entry) or the page's own words.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from bot.render.plain import BLOCK_TAGS, SKIP_CONTENT_TAGS, tidy

BULLET = "• "
CELL_SEPARATOR = " · "
_LINKED_SHARE = 0.5  # a line at least this much link text is "linked"
_BLOCKS = frozenset({"p", "head", "list", "item", "quote", "code", "table", "row", "cell", "div"})
_SKIP = frozenset({"graphic"})
# trafilatura's own extraction turns a table into <row>/<cell>; when it takes its
# readability fallback instead, the table comes back as HTML (<tr>, <td>, <th>).
_ROWS = ("row", "tr")
_CELLS = frozenset({"cell", "td", "th"})


@dataclass(frozen=True, slots=True)
class BodyLine:
    """One line of the article body."""

    text: str
    block: int  # lines of one block (paragraph, list item, table row) share this number
    link_share: float = 0.0  # share of its characters inside links
    verbatim: bool = False  # code: kept as it is, never cleaned
    heading: bool = False  # a heading's line (trafilatura's <head>)

    @property
    def linked(self) -> bool:
        """Mostly link text."""
        return self.link_share >= _LINKED_SHARE


@dataclass
class _Run:
    """Inline text being gathered: lines as [parts, linked characters]."""

    lines: list[tuple[list[str], list[int]]] = field(default_factory=lambda: [([], [0])])

    def add(self, text: str | None, *, linked: bool) -> None:
        if text:
            self.lines[-1][0].append(text)
            if linked:
                self.lines[-1][1][0] += len("".join(text.split()))

    def newline(self) -> None:
        self.lines.append(([], [0]))


def _inline(element: etree._Element, run: _Run, *, linked: bool) -> None:
    run.add(element.text, linked=linked)
    for child in element:
        if child.tag == "lb":
            run.newline()
        elif child.tag not in _SKIP:
            _inline(child, run, linked=linked or child.tag == "ref")
        run.add(child.tail, linked=linked)


def _has_blocks(element: etree._Element) -> bool:
    return any(child.tag in _BLOCKS for child in element)


def _rows(table: etree._Element) -> Iterator[etree._Element]:
    """The table's own rows (also inside <thead>/<tbody>), not those of a table in a cell."""
    for row in table.iter(*_ROWS):
        if next(row.iterancestors("table"), None) is table:
            yield row


class _Body:
    """Collects BodyLines, one block number per paragraph, item or table row."""

    def __init__(self) -> None:
        self.lines: list[BodyLine] = []
        self._block = 0

    def emit(
        self, run: _Run, *, prefix: str = "", verbatim: bool = False, heading: bool = False
    ) -> None:
        emitted = False
        for parts, linked_chars in run.lines:
            raw = "".join(parts)
            if verbatim:
                texts = [line.rstrip() for line in raw.split("\n")]
            else:
                texts = [" ".join(raw.split())]
            for text in texts:
                if not text.strip():
                    continue
                share = linked_chars[0] / max(1, len("".join(text.split())))
                text = (prefix if not emitted else "") + text
                self.lines.append(BodyLine(text, self._block, min(1.0, share), verbatim, heading))
                emitted = True
        self._block += 1

    def container(self, element: etree._Element) -> None:
        """A block holding other blocks, with loose inline text between them."""
        loose = _Run()
        loose.add(element.text, linked=False)
        for child in element:
            if child.tag in _BLOCKS:
                self.emit(loose)
                loose = _Run()
                self.block(child)
            elif child.tag == "lb":
                loose.newline()
            elif child.tag not in _SKIP:
                _inline(child, loose, linked=child.tag == "ref")
            loose.add(child.tail, linked=False)
        self.emit(loose)

    def block(self, element: etree._Element) -> None:
        tag = element.tag
        if tag == "list":
            for item in element:
                self.item(item)
        elif tag == "table":
            for row in _rows(element):
                self.row(row)
        elif tag == "code":
            run = _Run()
            _inline(element, run, linked=False)
            self.emit(run, verbatim=True)
        elif _has_blocks(element):
            self.container(element)
        else:
            run = _Run()
            _inline(element, run, linked=tag == "ref")
            self.emit(run, heading=tag == "head")

    def item(self, item: etree._Element) -> None:
        if _has_blocks(item):
            self.container(item)
            return
        run = _Run()
        _inline(item, run, linked=False)
        self.emit(run, prefix=BULLET)

    def row(self, row: etree._Element) -> None:
        cells = [cell for cell in row if cell.tag in _CELLS]
        if any(_has_blocks(cell) for cell in cells):
            for cell in cells:
                self.container(cell)
            return
        # A data row: its cells on one line.
        run = _Run()
        for i, cell in enumerate(cells):
            if i:
                run.add(CELL_SEPARATOR, linked=False)
            _inline(cell, run, linked=False)
        self.emit(run)


def _page_anchors(body: etree._Element, url: str) -> None:
    """Mark a heading's link to its own place on the page ("#part") as text.

    Self-linked headings (blog and documentation generators add them) are the
    article's own subheadings, not links away from it. Other in-page links stay links:
    "Skip to content", "Continue reading the main story", a table of contents.

    The targets are the page's own hrefs: trafilatura is not given the page's address,
    as resolving every link on every pass cost more than anything read from them (only
    these few are). Each is resolved here against the site's root, as trafilatura
    resolves links, so "#part", "/#part" and the absolute form are all recognised.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    here = {"", url.split("#", 1)[0], origin, origin + "/"}
    for ref in body.xpath(".//head//ref"):
        target = str(ref.get("target") or "")
        if target and origin:
            target = _resolved(origin + "/", target)
        if "#" in target and target.split("#", 1)[0] in here:
            ref.tag = "anchor"


def _resolved(base: str, target: str) -> str:
    try:
        return urljoin(base, target)
    except ValueError:  # a malformed target ("http://[") stays as written
        return target


def body_lines(body: etree._Element, url: str = "") -> list[BodyLine]:
    """The body's text as lines, in order, with block numbers and link shares.

    `url` is the page's own address: links to an anchor on it count as text. `body` is
    trafilatura's, extracted without the address (link targets as the page wrote them).
    """
    _page_anchors(body, url)
    collected = _Body()
    collected.container(body)
    return collected.lines


_LD_MAX_CHARS = 2_000_000  # a JSON-LD block larger than this is not read
_LD_MAX_NODES = 10_000


def _article_bodies(data: object) -> Iterator[str]:
    """articleBody strings anywhere in a JSON-LD document (bounded walk)."""
    stack, seen = [data], 0
    while stack and seen < _LD_MAX_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            body = node.get("articleBody")
            if isinstance(body, str):
                yield body
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def declared_body(tree: HtmlElement) -> str:
    """The longest JSON-LD articleBody the page declares, or ""."""
    best = ""
    for script in tree.xpath('//script[contains(@type, "ld+json")]'):
        raw = script.text or ""
        if "articleBody" not in raw or len(raw) > _LD_MAX_CHARS:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: hostile nesting
            continue
        best = max([best, *_article_bodies(data)], key=len)
    return best.strip()


def declared_text(html: str) -> str:
    """The text of an articleBody that holds HTML, in paragraphs, as `html_to_text` reads it.

    Read with lxml, in time linear in its size: html.parser (behind `html_to_text`)
    looks for the end of unfinished markup as far as the text goes, once per "<", and
    a page's articleBody of 240 KB of "<a x='" kept an extraction thread busy for
    minutes (a thread cannot be stopped at the extraction's time limit).
    """
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, etree.LxmlError):
        return ""
    parts: list[str] = []
    skipping: etree._Element | None = None  # the skipped element we are inside
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""  # comments have no name
        if event == "start":
            if skipping is None and tag in SKIP_CONTENT_TAGS:
                skipping = element
            elif skipping is None:
                parts.append("\n" if tag == "br" else "\n\n" if tag in BLOCK_TAGS else "")
                parts.append(element.text or "" if tag else "")
            continue
        if element is skipping:
            skipping = None
        elif skipping is not None:
            continue
        elif tag in BLOCK_TAGS:
            parts.append("\n\n")
        if element is not root:
            parts.append(element.tail or "")
    return tidy("".join(parts), paragraphs=True)


# trafilatura strips tags from meta contents and JSON-LD with the regex
# `<!--.*?-->|<[^>]*>`, which reads on to the end of the text from every "<" that no ">"
# (or "-->") closes: quadratic, so 240 KB of "<a" in a page's JSON-LD kept an extraction
# thread busy for over a minute after the tap had been told it took too long (a thread
# cannot be stopped). The work is about the number of such "<" times the length of the
# text; past this many characters read, a text is defused before trafilatura sees it.
_STRIP_BUDGET = 20_000_000
_LD_LONG_STRING = 1000  # JSON-LD strings longer than this are no metadata (an articleBody)
_METADATA_SCRIPTS = etree.XPath(
    '//script[@type="application/ld+json" or @type="application/settings+json"]'
)


def _strip_work(text: str, *, decoded: bool) -> int:
    """About how many characters the tag-stripping regex may read in `text`.

    `decoded`: the text is JSON that trafilatura unescapes first ("&lt;", "\\u003c")."""
    openers = text.count("<")
    if not decoded:
        openers += text.count("&") + text.count("\\u") + text.count("\\U")
    return openers * len(text)


def _without_long_strings(data: object) -> object:
    if isinstance(data, dict):
        return {key: _without_long_strings(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_without_long_strings(value) for value in data]
    if isinstance(data, str) and len(data) > _LD_LONG_STRING:
        return ""
    return data


def defuse_metadata(tree: HtmlElement) -> None:
    """Make the page's meta contents and JSON-LD safe for trafilatura's metadata regexes.

    Read `declared_body` first: a JSON-LD block too costly to strip loses its long
    strings (its articleBody), and one still too costly (or not JSON) is dropped.
    """
    for meta in tree.iter("meta"):
        content = meta.get("content") or ""
        if _strip_work(content, decoded=True) > _STRIP_BUDGET:
            meta.set("content", content.replace("<", " "))
    for script in _METADATA_SCRIPTS(tree):
        raw = script.text or ""
        if _strip_work(raw, decoded=False) <= _STRIP_BUDGET:
            continue
        try:
            kept = json.dumps(_without_long_strings(json.loads(raw)), ensure_ascii=False)
        except (ValueError, RecursionError):
            kept = ""
        if kept and _strip_work(kept, decoded=False) <= _STRIP_BUDGET:
            script.text = kept
        else:
            script.getparent().remove(script)
