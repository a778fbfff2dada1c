"""Plain-text helpers: HTML fragments to text, whitespace, truncation.

Pure functions; every feed string passes through here before it reaches a
message, so they must survive unbalanced tags, stray ``<``, RTL and emoji.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

ELLIPSIS = "…"

# Elements whose text content is never meant to be read.
SKIP_CONTENT_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})
# Elements that end a line or paragraph when rendered.
BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "aside", "blockquote",
        "pre", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "h1", "h2", "h3",
        "h4", "h5", "h6", "figure", "figcaption", "hr", "address", "main", "nav",
    }
)  # fmt: skip
_WS = re.compile(r"\s+")
_LINE_WS = re.compile(r"[^\S\n]+")
_BREAKS = re.compile(r"\s*\n\s*(?:\n\s*)*")
# Zero-width characters that only add invisible noise to headlines, and control
# characters (C0 other than whitespace, DEL, C1 other than NEL): no text means them,
# and an ESC sequence in a feed title must not reach a log or an admin's terminal.
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
# A word boundary worth cutting at must be in the last part of the text.
_MIN_WORD_CUT = 0.6


class _TextExtractor(HTMLParser):
    """Collect character data, marking block boundaries with newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_CONTENT_TAGS:
            self._skip_depth += 1
        elif tag == "br" or tag in BLOCK_TAGS:
            self.parts.append("\n\n" if tag in BLOCK_TAGS else "\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and <hr/> must not open a skip region the way <script/> would.
        if tag == "br" or tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_CONTENT_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def collapse_ws(text: str) -> str:
    """Return ``text`` with every whitespace run (NBSP included) as one space, trimmed."""
    return _WS.sub(" ", _INVISIBLE.sub("", text)).strip()


def drop_invisible(text: str) -> str:
    """Return ``text`` without zero-width characters, soft hyphens and control characters."""
    return _INVISIBLE.sub("", text)


def fold(text: str) -> str:
    """Return ``text`` for case- and spacing-insensitive comparison: collapsed, casefolded."""
    return collapse_ws(text).casefold()


def html_to_text(fragment: str, *, paragraphs: bool = False) -> str:
    """Return the readable text of an HTML fragment, entities decoded.

    Tags are dropped (``script``/``style`` with their content). Whitespace is
    collapsed to single spaces; with ``paragraphs=True`` block boundaries are
    kept as blank lines (``"\\n\\n"``) instead. Never raises.
    """
    if "<" not in fragment and "&" not in fragment:
        return tidy(fragment, paragraphs=paragraphs)
    extractor = _TextExtractor()
    try:
        extractor.feed(fragment)
        extractor.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is lenient
        pass
    return tidy("".join(extractor.parts), paragraphs=paragraphs)


def tidy(text: str, *, paragraphs: bool) -> str:
    """Whitespace as `html_to_text` leaves it (for text gathered from an element tree)."""
    text = _INVISIBLE.sub("", text)
    if not paragraphs:
        return collapse_ws(text)
    text = _LINE_WS.sub(" ", text.replace("\r", "\n"))
    return _BREAKS.sub(lambda m: "\n\n" if m.group().count("\n") > 1 else "\n", text).strip()


def truncate(text: str, limit: int) -> str:
    """Return ``text`` cut to at most ``limit`` code points, ending in "…" if cut.

    Cuts at a word boundary when one is near the end, and never inside a
    grapheme cluster (see `splits_grapheme`). The one truncation for all text.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    cut = limit - len(ELLIPSIS)
    while cut > 0 and splits_grapheme(text, cut):
        cut -= 1
    head = text[:cut]
    space = max(head.rfind(" "), head.rfind("\n"))
    if space >= int(cut * _MIN_WORD_CUT):
        head = head[:space]
    return head.rstrip(" \n\t,;:-–—") + ELLIPSIS


def splits_grapheme(text: str, index: int) -> bool:
    """Tell whether cutting before ``text[index]`` would split a grapheme cluster.

    Covers what headlines carry: combining and spacing marks (e.g. Devanagari
    vowel signs), variation selectors, emoji modifiers and tag sequences,
    zero-width-joiner sequences and regional-indicator pairs (flags).
    """
    if index <= 0 or index >= len(text):
        return False
    nxt, prev = text[index], text[index - 1]
    if unicodedata.category(nxt) in ("Mn", "Mc", "Me") or nxt == "\u200d":
        return True
    if "\ufe00" <= nxt <= "\ufe0f" or "\U0001f3fb" <= nxt <= "\U0001f3ff":
        return True  # variation selectors, skin-tone modifiers
    if "\U000e0020" <= nxt <= "\U000e007f":
        return True  # tag sequences (subdivision flags)
    if prev == "\u200d" or "\ud800" <= prev <= "\udbff":
        return True  # after a zero-width joiner, or a lone high surrogate
    return _splits_flag(text, index)


def _splits_flag(text: str, index: int) -> bool:
    """Tell whether ``index`` falls inside a regional-indicator pair (a flag)."""
    run = 0
    i = index - 1
    while i >= 0 and "\U0001f1e6" <= text[i] <= "\U0001f1ff":
        run += 1
        i -= 1
    return run % 2 == 1 and "\U0001f1e6" <= text[index] <= "\U0001f1ff"
