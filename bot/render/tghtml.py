"""Telegram HTML: the one place text enters a message, and where messages are split.

Everything from a feed or a user goes through `escape` (or a builder that calls it);
`split_html_message` packs such fragments into messages of at most `limit` visible
code points and, when a fragment must be cut, cuts its plain text, never a tag or entity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from telegram.constants import MessageLimit

from bot.render.plain import splits_grapheme

MESSAGE_LIMIT: Final[int] = MessageLimit.MAX_TEXT_LENGTH
# Blank line between two blocks packed into one message.
BLOCK_SEPARATOR = "\n\n"

# C0 controls except \t and \n, lone surrogates (not encodable as UTF-8) and the
# noncharacters U+FFFE/U+FFFF: the Bot API rejects or mangles them.
_UNSENDABLE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
_LINK_SCHEMES = frozenset({"http", "https", "tg"})

# Tags TDLib's parse_html accepts (see TELEGRAM.md); anything else is an error.
_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "blockquote", "code", "del", "em", "i", "ins", "pre", "s", "span",
        "strike", "strong", "tg-emoji", "tg-spoiler", "tg-time", "u",
    }
)  # fmt: skip
_TAG = re.compile(
    r"""<(/?)([A-Za-z-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9.-]+))?)*)\s*>"""
)
# TDLib: &lt; &gt; &amp; &quot; (case-sensitive) and &#NN; / &#xHH;, trailing ';' optional.
_ENTITY = re.compile(r"&(?:#x([0-9A-Fa-f]{1,8})|#([0-9]{1,10})|(lt|gt|amp|quot));?")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# A sentence ends at . ! ? … (plus closing quotes/brackets and citation marks, as
# Wikipedia's ".[12]") before whitespace, or at CJK full stops, which need no following space.
_SENTENCE_END = re.compile(r"""[.!?…؟।]["'”’»)\]]*(?:\[\w{1,8}\])*(?=\s)|[。！？]["'”’»)\]」』]*""")


def escape(text: str, *, quote: bool = False) -> str:
    """Return `text` made safe for Telegram HTML: unsendable characters dropped, <>& escaped."""
    text = _UNSENDABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def bold(text: str) -> str:
    """Return `text` escaped and in bold."""
    return f"<b>{escape(text)}</b>"


def italic(text: str) -> str:
    """Return `text` escaped and in italics."""
    return f"<i>{escape(text)}</i>"


def code(text: str) -> str:
    """Return `text` escaped and in monospace."""
    return f"<code>{escape(text)}</code>"


def link(text: str, url: str) -> str:
    """Return a link to `url` showing `text`, or just the escaped text if the URL is unsafe."""
    label = text if text.strip() else url
    if not _is_linkable(url):
        return escape(label)
    return f'<a href="{escape(url, quote=True)}">{escape(label)}</a>'


def bold_html(fragment: str) -> str:
    """Return built HTML (e.g. a link) in bold; raise ValueError if it is not valid."""
    _parse(fragment)
    return f"<b>{fragment}</b>"


def _is_linkable(url: str) -> bool:
    if not url or any(ch.isspace() for ch in url) or _UNSENDABLE.search(url):
        return False
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an invalid IPv6 host in brackets
        return False
    return scheme in _LINK_SCHEMES


@dataclass(frozen=True)
class _Tag:
    ident: int  # tells two sibling <b> elements apart
    name: str
    start: str  # the start tag exactly as written, re-emitted when a cut reopens it


@dataclass(frozen=True)
class _Run:
    text: str  # decoded plain text
    tags: tuple[_Tag, ...]  # open elements, outermost first


def _decode_entity(match: re.Match[str]) -> str:
    hex_digits, dec_digits, name = match.groups()
    if name:
        return _NAMED[name]
    value = int(hex_digits, 16) if hex_digits else int(dec_digits)
    if 0xD800 <= value <= 0xDFFF:
        raise ValueError(f"entity {match.group(0)} is a lone surrogate, which Telegram rejects")
    return chr(value) if 0 < value <= 0x10FFFF else match.group(0)


def _decode_text(raw: str) -> str:
    return _ENTITY.sub(_decode_entity, raw)


def _parse(fragment: str) -> list[_Run]:
    """Parse our own Telegram HTML into styled runs; raise ValueError on what TDLib rejects."""
    runs: list[_Run] = []
    stack: list[_Tag] = []
    pos = 0
    while pos < len(fragment):
        lt = fragment.find("<", pos)
        end = len(fragment) if lt < 0 else lt
        if end > pos:
            runs.append(_Run(_decode_text(fragment[pos:end]), tuple(stack)))
        if lt < 0:
            break
        match = _TAG.match(fragment, lt)
        if match is None:
            raise ValueError(f"stray '<' or malformed tag at offset {lt}")
        _apply_tag(match, stack, ident=lt)
        pos = match.end()
    if stack:
        raise ValueError(f"unclosed tag <{stack[-1].name}>")
    return runs


def _apply_tag(match: re.Match[str], stack: list[_Tag], *, ident: int) -> None:
    closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
    if closing:
        if attrs.strip() or not stack or name not in ("", stack[-1].name):
            raise ValueError(f"unmatched end tag at offset {ident}")
        stack.pop()
        return
    if name not in _SUPPORTED_TAGS:
        raise ValueError(f"unsupported tag <{name}> at offset {ident}")
    stack.append(_Tag(ident, name, match.group(0)))


def visible_length(fragment: str) -> int:
    """Count the code points Telegram shows for `fragment` (tags dropped, entities decoded)."""
    return sum(len(run.text) for run in _parse(fragment))


def _render(runs: Sequence[_Run]) -> str:
    """Serialise runs back to HTML, closing and reopening only the elements that change."""
    out: list[str] = []
    open_tags: tuple[_Tag, ...] = ()
    for run in runs:
        common = 0
        limit = min(len(open_tags), len(run.tags))
        while common < limit and open_tags[common].ident == run.tags[common].ident:
            common += 1
        out.extend(f"</{tag.name}>" for tag in reversed(open_tags[common:]))
        out.extend(tag.start for tag in run.tags[common:])
        out.append(escape(run.text))
        open_tags = run.tags
    out.extend(f"</{tag.name}>" for tag in reversed(open_tags))
    return "".join(out)


def _slice_runs(runs: Sequence[_Run], start: int, stop: int) -> list[_Run]:
    """Return the runs covering plain-text positions [start, stop)."""
    sliced: list[_Run] = []
    offset = 0
    for run in runs:
        lo, hi = max(start, offset), min(stop, offset + len(run.text))
        if lo < hi:
            sliced.append(_Run(run.text[lo - offset : hi - offset], run.tags))
        offset += len(run.text)
    return sliced


def _hard_cut(text: str, start: int, stop: int) -> int:
    """Cut at `stop`, backing off a few code points so a grapheme cluster stays whole."""
    for cut in range(stop, max(start, stop - 16), -1):
        if not splits_grapheme(text, cut):
            return cut
    return stop  # a run of marks too long to keep together: cut it anyway


def _find_cut(text: str, start: int, stop: int) -> int:
    """Return where to end a piece starting at `start` that may not pass `stop`."""
    floor = start + (stop - start) // 4  # a sentence/line cut must keep a useful piece
    newline = text.rfind("\n", floor + 1, stop + 1)
    if newline > start:
        return newline
    ends = [m.end() for m in _SENTENCE_END.finditer(text, start, stop + 1) if m.end() <= stop]
    if ends and ends[-1] > floor:
        return ends[-1]
    for index in range(stop, start, -1):
        if text[index].isspace():
            return index
    return _hard_cut(text, start, stop)


def _split_spans(text: str, *, limit: int, first_limit: int | None = None) -> list[tuple[int, int]]:
    """Return [start, stop) spans of `text`, each at most its window long, whitespace trimmed."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    spans: list[tuple[int, int]] = []
    end = len(text.rstrip())
    start = len(text) - len(text.lstrip())
    window = first_limit if first_limit is not None and first_limit > 0 else limit
    while end - start > window:
        cut = _find_cut(text, start, start + window)
        stop = cut
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        if stop > start:
            spans.append((start, stop))
        start = cut
        while start < end and text[start].isspace():
            start += 1
        window = limit
    if start < end:
        spans.append((start, end))
    return spans


@dataclass(frozen=True)
class Packed:
    """One packed message and the keys of the blocks it holds (e.g. story numbers)."""

    html: str
    keys: tuple[int, ...] = ()


class _Packer:
    """Collect blocks into messages of at most `limit` visible code points and `max_keys` keys."""

    def __init__(self, limit: int, max_keys: int | None) -> None:
        self.limit, self.max_keys = limit, max_keys
        self.messages: list[Packed] = []
        self._parts: list[str] = []
        self._keys: list[int] = []
        self._used = 0

    def room(self) -> int:
        return self.limit - self._used - (len(BLOCK_SEPARATOR) if self._parts else 0)

    def add(self, fragment: str, size: int, key: int | None = None) -> None:
        full = key is not None and self.max_keys is not None and len(self._keys) >= self.max_keys
        if size > self.room() or full:
            self.flush()
        self._used += size + (len(BLOCK_SEPARATOR) if self._parts else 0)
        self._parts.append(fragment)
        if key is not None:
            self._keys.append(key)

    def flush(self) -> None:
        if self._parts:
            self.messages.append(Packed(BLOCK_SEPARATOR.join(self._parts), tuple(self._keys)))
        self._parts, self._keys, self._used = [], [], 0


def pack_messages(
    blocks: Sequence[tuple[str, int | None]],
    *,
    limit: int = MESSAGE_LIMIT,
    max_keys: int | None = None,
    fill: bool = False,
) -> list[Packed]:
    """Pack (HTML block, key or None) pairs into messages; see `split_html_message`.

    A message holds at most `max_keys` keyed blocks (a caller with one button per
    keyed block passes Telegram's button limit); the key of a block cut in pieces
    goes with its first piece. With `fill`, a block that does not fit in what is left
    of a message (a quarter of it or more) is cut to fill it, as a long block is.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    packer = _Packer(limit, max_keys)
    for block, key in blocks:
        runs = _parse(block)
        text = "".join(run.text for run in runs)
        if not text.strip():
            continue
        room = packer.room()
        if len(text) <= limit and (not fill or len(text) <= room or room < limit // 4):
            packer.add(block, len(text), key)
            continue
        first = room if room >= limit // 4 else limit
        for start, stop in _split_spans(text, limit=limit, first_limit=first):
            packer.add(_render(_slice_runs(runs, start, stop)), stop - start, key)
            key = None
    packer.flush()
    return packer.messages


def split_html_message(
    blocks: Sequence[str], *, limit: int = MESSAGE_LIMIT, fill: bool = False
) -> list[str]:
    """Pack HTML blocks into messages of at most `limit` visible code points.

    Blocks are joined by a blank line. A block longer than `limit` is cut on its plain
    text (at a line, sentence or word boundary, else hard) and its open tags are closed
    before the cut and reopened after it, so no tag or entity is ever split. Blank blocks
    are dropped; a block that is not valid Telegram HTML raises ValueError. With `fill`,
    a block is also cut to fill a message's remaining room (long texts in fewer messages).
    """
    packed = pack_messages([(b, None) for b in blocks], limit=limit, fill=fill)
    return [m.html for m in packed]


def plain_text(fragment: str) -> str:
    """Return the text Telegram shows for `fragment`: tags dropped, entities decoded."""
    return "".join(run.text for run in _parse(fragment))


__all__ = [
    "BLOCK_SEPARATOR",
    "MESSAGE_LIMIT",
    "Packed",
    "bold",
    "bold_html",
    "code",
    "escape",
    "italic",
    "link",
    "pack_messages",
    "plain_text",
    "split_html_message",
    "visible_length",
]
