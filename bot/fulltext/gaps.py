"""Subheadings trafilatura skipped between two lines of the article.

Pure. When trafilatura finds no container it trusts, it gathers the page's paragraphs,
lists and tables one by one ("wild" text) and leaves the headings out: an article read
so loses every subheading between its paragraphs. A heading (``<h2>``-``<h6>``) is put
back where it stands on the page when the page's text between two lines that follow
each other in the extracted text is that heading's and nothing else: the two lines are
the article's, and nothing of the page lies between them but the heading, so it heads
the second. Not put back: a heading mostly of link text or inside a link (a teaser's
title), inside an aside, a navigation, a form or a footer (a related-links box), one
longer than a heading (`_HEADING_WORDS`) or without a word (a "* * *" divider), one that
repeats the page's title or a line the text already has, and one whose two lines are not
both prose (paragraphs of fifteen words or more holding a sentence, not list items): next
to a list ("Further reading"), a caption or another short line, a heading is as often a
box's as the article's.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

from bot.fulltext.clean import word_count
from bot.render.plain import BLOCK_TAGS, SKIP_CONTENT_TAGS

__all__ = ["restore_headings"]

_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_HEADINGS_XPATH = etree.XPath("//h2|//h3|//h4|//h5|//h6")
_OUTSIDE = frozenset({"a", "aside", "nav", "form", "footer"})  # boxes around, not in, the text
_WORDLIKE = re.compile(r"\w")
_PROSE_WORDS = 15  # the line a heading heads: this many words holding a sentence end
_SENTENCE_END = re.compile(r"[.!?。！？]")
_START = 40  # a line and the text after a heading are compared by their first characters
_HEADING_WORDS = 20  # a "heading" longer than this is a styled paragraph or a teaser
_LINKED_SHARE = 0.5  # a heading at least this much link text is a link
_BULLET = "• "
_SPACE = re.compile(r"\s+")
_BREAKS = BLOCK_TAGS | {"br", "td", "th"}


@dataclass(frozen=True, slots=True)
class _Heading:
    start: int  # its text's place in the page's flattened text
    end: int
    text: str


@dataclass
class _Flat:
    """The page's visible text with runs of whitespace made one space, built in order."""

    parts: list[str]
    size: int = 0
    space: bool = True  # the text so far ends with a space (or is empty)

    def add(self, text: str | None) -> None:
        if not text:
            return
        text = _SPACE.sub(" ", text)
        if self.space:
            text = text.lstrip(" ")
        if text:
            self.parts.append(text)
            self.size += len(text)
            self.space = text.endswith(" ")

    def brk(self) -> None:
        self.add(" ")


def _page_text(tree: HtmlElement) -> tuple[str, list[_Heading]]:
    """The page's visible text, flattened, and the place in it of each heading's text."""
    flat = _Flat([])
    headings: list[_Heading] = []
    open_at: dict[HtmlElement, int] = {}
    links: list[int] = [0]  # characters of link text inside the heading being read
    walk = etree.iterwalk(tree, events=("start", "end"))
    for event, element in walk:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if not tag or tag in SKIP_CONTENT_TAGS:
                walk.skip_subtree()
                continue
            if tag in _BREAKS:
                flat.brk()
            if tag in _HEADINGS and not any(a.tag in _OUTSIDE for a in element.iterancestors()):
                open_at[element] = flat.size
                links[0] = 0
            elif tag == "a" and open_at:
                links[0] += len("".join(element.text_content().split()))
            flat.add(element.text)
            continue
        if tag in _BREAKS:
            flat.brk()
        if element in open_at:
            start = open_at.pop(element)
            text = "".join(flat.parts)[start:].strip() if flat.size > start else ""
            if text and links[0] < _LINKED_SHARE * len("".join(text.split())):
                headings.append(_Heading(start, start + len(text), text))
        if element is not tree:
            flat.add(element.tail)
    return "".join(flat.parts), headings


def _located(page: str, lines: Sequence[str]) -> list[tuple[int, int] | None]:
    """Where each line is in the page's text, searched from the previous one first."""
    places: list[tuple[int, int] | None] = []
    cursor = 0
    for line in lines:
        text = _SPACE.sub(" ", line.removeprefix(_BULLET)).strip()
        at = page.find(text, cursor) if text else -1
        if at < 0 and text:
            at = page.find(text)  # trafilatura may have moved a block (a box, an intro)
        if at < 0:
            places.append(None)
            continue
        places.append((at, at + len(text)))
        cursor = at + len(text)
    return places


def _between(page: str, headings: Sequence[_Heading], start: int, end: int) -> list[str]:
    """The headings whose text is all the page holds from `start` to `end` (else none)."""
    inside = [h for h in headings if start <= h.start and h.end <= end]
    if not inside:
        return []
    rest = page[start:end]
    for heading in reversed(inside):
        rest = rest[: heading.start - start] + rest[heading.end - start :]
    return [h.text for h in inside] if not rest.strip() else []


def _is_prose(line: str) -> bool:
    """A paragraph of the article: not a list item, fifteen words or more, a sentence."""
    return (
        not line.startswith(_BULLET)
        and word_count(line) >= _PROSE_WORDS
        and _SENTENCE_END.search(line) is not None
    )


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _missing(heading: HtmlElement, known: Collection[str]) -> bool:
    """Whether a heading of the page could be one to put back: not in the text yet."""
    text = heading.text_content()
    return (
        _key(text) not in known
        and _WORDLIKE.search(text) is not None
        and word_count(text) <= _HEADING_WORDS
    )


def _first_text(element: HtmlElement) -> str | None:
    """The first text that is not blank in the element's subtree (not its tail)."""
    if not isinstance(element.tag, str) or element.tag in SKIP_CONTENT_TAGS:
        return None
    if element.text and element.text.strip():
        return element.text
    for child in element:
        text = _first_text(child)
        if text:
            return text
        if child.tail and child.tail.strip():
            return child.tail
    return None


def _text_after(element: HtmlElement) -> str:
    """The first text that is not blank after the element's end, in document order."""
    node: HtmlElement | None = element
    while node is not None:
        if node.tail and node.tail.strip():
            return node.tail
        sibling = node.getnext()
        while sibling is not None:
            text = _first_text(sibling)
            if text:
                return text
            if sibling.tail and sibling.tail.strip():
                return sibling.tail
            sibling = sibling.getnext()
        node = node.getparent()
    return ""


def _heads_one(after: str, starts: Sequence[str]) -> bool:
    """Whether the text after a heading begins one of the prose lines (their starts)."""
    after = after[:_START]
    return bool(after) and any(start[: len(after)] == after[: len(start)] for start in starts)


def restore_headings(
    tree: HtmlElement,
    paragraphs: Sequence[str],
    *,
    titles: Collection[str] = (),
) -> list[str]:
    """`paragraphs` with the page's skipped subheadings put back between their lines.

    Each heading comes back as a paragraph of its own before the paragraph it heads; a
    heading inside a paragraph's lines splits it there. `titles`: the page's headlines.
    """
    if not paragraphs:
        return list(paragraphs)
    known = {_key(line) for p in paragraphs for line in p.split("\n")}
    known |= {_key(title) for title in titles}
    starts = [_key(line)[:_START] for p in paragraphs for line in p.split("\n") if _is_prose(line)]
    if not any(
        _missing(h, known) and _heads_one(_key(_text_after(h)), starts)
        for h in _HEADINGS_XPATH(tree)
    ):
        return list(paragraphs)  # most pages: no walk over the page's text
    page, headings = _page_text(tree)
    headings = [
        h
        for h in headings
        if _key(h.text) not in known
        and word_count(h.text) <= _HEADING_WORDS
        and _WORDLIKE.search(h.text)
    ]
    if not headings:
        return list(paragraphs)
    lines = [(i, line) for i, p in enumerate(paragraphs) for line in p.split("\n")]
    places = _located(page, [line for _, line in lines])
    out: list[list[str]] = []
    last = -1
    for j, (i, line) in enumerate(lines):
        found: list[str] = []
        if (
            j
            and places[j] is not None
            and places[j - 1] is not None
            and _is_prose(line)
            and _is_prose(lines[j - 1][1])
        ):
            found = _between(page, headings, places[j - 1][1], places[j][0])  # type: ignore[index]
        if found:
            out.extend([text] for text in found)
            out.append([line])
        elif i != last or not out:
            out.append([line])
        else:
            out[-1].append(line)
        last = i
    return ["\n".join(group) for group in out]
