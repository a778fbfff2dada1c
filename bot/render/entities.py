"""A Telegram message's own formatting (entities) as Telegram HTML, pure.

An admin types a broadcast with bold, links, spoilers… and Telegram hands us
plain text plus entities whose offsets count UTF-16 code units. We rebuild
the HTML ourselves rather than use PTB's `Message.text_html`, because we cut
the command and the #topic off the front (offsets must shift with them) and
PTB emits `<tg-emoji>` for custom emoji, which Telegram refuses from bots
without a Fragment username. Text between tags goes through `tghtml.escape`.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from bot.render.tghtml import escape

# Entities Telegram finds by itself in plain text (url, mention, hashtag, …)
# need no tag; custom emoji fall back to the emoji character in the text.
_SIMPLE_TAGS = {
    "bold": "b",
    "italic": "i",
    "underline": "u",
    "strikethrough": "s",
    "spoiler": "tg-spoiler",
    "code": "code",
    "blockquote": "blockquote",
}
_BLOCKQUOTES = frozenset({"blockquote", "expandable_blockquote"})
_CODE_LIKE = frozenset({"code", "pre"})
_SPLITTABLE = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
# TDLib's order for entities that start and end together: outer first.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
}


@dataclass(frozen=True)
class Span:
    """One message entity; `offset` and `length` count UTF-16 code units (Bot API)."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class BroadcastText:
    """A `/broadcast [#topic] text` message taken apart."""

    topic: str | None  # as typed, without the '#'
    html: str  # the text with its formatting, as Telegram HTML
    plain: str  # the visible text (for the length check)


@dataclass(frozen=True)
class _Tag:
    key: tuple[int, int, int, int, int]  # nesting order; also tells equal tags apart
    open: str
    close: str
    blockquote: bool
    code_like: bool


def _utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of each code point index of `text`, plus one for the end."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


def _tag(span: Span, index: int, start: int, end: int) -> _Tag | None:
    kind = span.type
    if kind in _SIMPLE_TAGS:
        name = _SIMPLE_TAGS[kind]
        open_, close = f"<{name}>", f"</{name}>"
    elif kind == "expandable_blockquote":
        open_, close = "<blockquote expandable>", "</blockquote>"
    elif kind == "pre" and span.language:
        lang = escape(span.language, quote=True)
        open_, close = f'<pre><code class="language-{lang}">', "</code></pre>"
    elif kind == "pre":
        open_, close = "<pre>", "</pre>"
    elif kind == "text_link" and span.url:
        open_, close = f'<a href="{escape(span.url, quote=True)}">', "</a>"
    elif kind == "text_mention" and span.user_id is not None:
        open_, close = f'<a href="tg://user?id={int(span.user_id)}">', "</a>"
    else:
        return None
    quote = kind in _BLOCKQUOTES
    # Blockquotes outermost, then links and code (never split), then the styles,
    # which are closed and reopened around them as needed.
    group = 0 if quote else 2 if kind in _SPLITTABLE else 1
    key = (group, start, -(end - start), _PRIORITY.get(kind, 50), index)
    return _Tag(key, open_, close, quote, kind in _CODE_LIKE)


def entities_to_html(text: str, spans: Sequence[Span], *, start: int = 0) -> str:
    """Render `text[start:]` with the entities that fall in it as Telegram HTML.

    `start` is a code point index; entities before it are dropped, entities
    across it are clipped. Overlapping styles are closed and reopened so the
    tags always nest; inside code and pre only blockquotes stay open.
    """
    offsets = _utf16_offsets(text)
    placed: list[tuple[int, int, _Tag]] = []
    for index, span in enumerate(spans):
        lo = max(bisect.bisect_left(offsets, span.offset), start)
        hi = min(bisect.bisect_left(offsets, span.offset + span.length), len(text))
        tag = _tag(span, index, lo, hi) if lo < hi else None
        if tag is not None:
            placed.append((lo, hi, tag))
    cuts = sorted({start, len(text), *(p for lo, hi, _ in placed for p in (lo, hi))})
    out: list[str] = []
    stack: list[_Tag] = []
    for lo, hi in itertools.pairwise(cuts):
        if lo < start:
            continue
        wanted = _active(placed, lo, hi)
        common = 0
        while common < min(len(stack), len(wanted)) and stack[common] == wanted[common]:
            common += 1
        out.extend(tag.close for tag in reversed(stack[common:]))
        out.extend(tag.open for tag in wanted[common:])
        out.append(escape(text[lo:hi]))
        stack = wanted
    out.extend(tag.close for tag in reversed(stack))
    return "".join(out)


def _active(placed: Sequence[tuple[int, int, _Tag]], lo: int, hi: int) -> list[_Tag]:
    """The tags covering [lo, hi), outermost first."""
    tags = sorted((tag for a, b, tag in placed if a <= lo and hi <= b), key=lambda t: t.key)
    code = next((t for t in tags if t.code_like), None)
    if code is not None:  # Telegram: pre and code contain nothing else
        tags = [t for t in tags if t.blockquote] + [code]
    return tags


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _skip_word(text: str, i: int) -> int:
    while i < len(text) and not text[i].isspace():
        i += 1
    return i


def split_broadcast(text: str, spans: Sequence[Span]) -> BroadcastText:
    """Take `/broadcast[@bot] [#topic] text` apart, keeping the text's own formatting."""
    i = _skip_space(text, _skip_word(text, 0))  # past the command
    topic = None
    if text.startswith("#", i):
        end = _skip_word(text, i)
        topic, i = text[i + 1 : end], _skip_space(text, end)
    html = entities_to_html(text, spans, start=i)
    return BroadcastText(topic=topic, html=html, plain=text[i:].strip())
