"""Telegram's HTML parse mode, re-implemented from TDLib's `parse_html` and `fix_formatted_text`.

The fake Bot API server uses it to reject exactly what Telegram rejects and to record the plain
text and entities a user would see. Offsets in error messages are UTF-8 byte offsets into the
sent HTML; entity offsets and lengths are UTF-16 code units, as the Bot API reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from bot.render.entities import Span

SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "span",
        "tg-spoiler", "tg-emoji", "tg-time", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_SPLITTABLE = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_BLOCKQUOTES = frozenset({"blockquote", "expandable_blockquote"})
_CODE_LIKE = frozenset({"pre", "code"})
# td::is_space counts NUL as space; the parser runs over a NUL-terminated buffer.
_SPACES = frozenset(b" \t\r\n\v\0")
_NAMED_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
_HOST = re.compile(r"^[A-Za-z0-9\u0080-\U0010ffff]([A-Za-z0-9\u0080-\U0010ffff.-]*)(:\d{1,5})?$")


class HtmlParseError(ValueError):
    """Raised with TDLib's message when Telegram would answer `can't parse entities`."""


@dataclass(frozen=True)
class Entity(Span):
    """One MessageEntity as the Bot API reports it (UTF-16 offset and length).

    The bot's own `Span` plus the fields only the server side has to report.
    """

    custom_emoji_id: str | None = None
    unix_time: int | None = None
    date_time_format: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of a Bot API MessageEntity."""
        out: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        for key in ("url", "language", "custom_emoji_id", "unix_time", "date_time_format"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.user_id is not None:
            out["user"] = {"id": self.user_id, "is_bot": False, "first_name": str(self.user_id)}
        return out


@dataclass(frozen=True)
class FormattedText:
    """Plain text plus entities: what the recipient's client renders."""

    text: str
    entities: tuple[Entity, ...] = field(default_factory=tuple)

    def entities_json(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.entities]


def utf16_len(text: str) -> int:
    """Return the length of `text` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(html: str) -> FormattedText:
    """Parse Telegram-HTML like the Bot API does (parse, then fix and trim); raise on error."""
    text, entities = _HtmlParser(html).run()
    return fix_formatted_text(text, entities)


@dataclass
class _Open:
    tag: str
    argument: str
    utf16_offset: int
    out_pos: int
    attrs: dict[str, str]


class _HtmlParser:
    """A byte-level walk over the UTF-8 HTML, mirroring TDLib's state machine."""

    def __init__(self, html: str) -> None:
        self.data = html.encode("utf-8", "surrogatepass") + b"\0"
        self.size = len(self.data) - 1
        self.out = bytearray()
        self.utf16 = 0
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []
        self.bad_surrogate = False

    def run(self) -> tuple[str, list[Entity]]:
        i = 0
        while i < self.size:
            c = self.data[i]
            if c == ord("&"):
                decoded = _decode_entity(self.data, i)
                if decoded is not None:
                    code, i = decoded
                    self._append_code(code)
                    continue
            if c != ord("<"):
                if c & 0xC0 != 0x80:
                    self.utf16 += 2 if c >= 0xF0 else 1
                self.out.append(c)
                i += 1
                continue
            i = self._end_tag(i) if self.data[i + 1] == ord("/") else self._start_tag(i)
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        if self.bad_surrogate:
            raise HtmlParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        # A language on a bare <code> only matters for <pre><code class=...>; drop the rest.
        entities = [
            _with_span(e, e.offset, e.length) if e.type == "code" else e for e in self.entities
        ]
        return self.out.decode("utf-8"), entities

    def _append_code(self, code: int) -> None:
        self.utf16 += 2 if code > 0xFFFF else 1
        if 0xD800 <= code <= 0xDFFF:
            self.bad_surrogate = True
        self.out += chr(code).encode("utf-8", "surrogatepass")

    def _start_tag(self, begin: int) -> int:
        data = self.data
        i = begin + 1
        while data[i] not in _SPACES and data[i] != ord(">"):
            i += 1
        if data[i] == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        tag = _lower(data[begin + 1 : i])
        if tag not in SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
        argument = ""
        attrs: dict[str, str] = {}
        while data[i] != ord(">"):
            i = _skip_spaces(data, i)
            if data[i] == ord(">"):
                break
            name_begin = i
            while data[i] not in _SPACES and data[i] not in b"=>/\"'":
                i += 1
            name = data[name_begin:i].decode("utf-8", "replace")
            if not name:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                )
            i = _skip_spaces(data, i)
            if data[i] != ord("="):
                if data[i] == 0:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if tag == "blockquote" and name == "expandable":
                    argument = "1"
                continue
            i = _skip_spaces(data, i + 1)
            if data[i] == 0:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            value, i = _attribute_value(data, i)
            if data[i] == 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
            attrs[name] = value
            argument = _tag_argument(tag, name, value, argument)
        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        self.stack.append(_Open(tag, argument, self.utf16, len(self.out), attrs))
        return i + 1

    def _end_tag(self, begin: int) -> int:
        data = self.data
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while data[i] not in _SPACES and data[i] != ord(">"):
            i += 1
        name = _lower(data[begin + 2 : i])
        while data[i] in _SPACES and data[i] != 0:
            i += 1
        if data[i] != ord(">"):
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
        top = self.stack[-1]
        if name and name != top.tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{top.tag}>", '
                f'found "</{name}>"'
            )
        if self.utf16 > top.utf16_offset:
            self._close_entity(top)
        self.stack.pop()
        return i + 1

    def _close_entity(self, top: _Open) -> None:
        offset, length = top.utf16_offset, self.utf16 - top.utf16_offset
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last.offset, last.length) == (offset, length)
        if top.tag in _SIMPLE_TAGS:
            self.entities.append(Entity(_SIMPLE_TAGS[top.tag], offset, length))
        elif top.tag == "tg-emoji":
            if not re.fullmatch(r"-?\d{1,19}", top.argument) or int(top.argument) == 0:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            emoji = Entity("custom_emoji", offset, length, custom_emoji_id=top.argument)
            self.entities.append(emoji)
        elif top.tag == "tg-time":
            self._close_time(top, offset, length)
        elif top.tag == "a":
            self._close_link(top, offset, length)
        elif top.tag == "pre":
            if last is not None and same_span and last.type == "code" and last.language:
                self.entities[-1] = Entity("pre", offset, length, language=last.language)
            else:
                self.entities.append(Entity("pre", offset, length))
        elif top.tag == "code":
            if last is not None and same_span and last.type == "pre" and top.argument:
                self.entities[-1] = Entity("pre", offset, length, language=top.argument)
            else:
                self.entities.append(Entity("code", offset, length, language=top.argument or None))
        else:  # blockquote
            kind = "expandable_blockquote" if top.argument else "blockquote"
            self.entities.append(Entity(kind, offset, length))

    def _close_link(self, top: _Open, offset: int, length: int) -> None:
        url = top.argument or self.out[top.out_pos :].decode("utf-8", "replace")
        user = re.fullmatch(r"tg://user\?id=(\d{1,15})", url.strip())
        if user:
            self.entities.append(Entity("text_mention", offset, length, user_id=int(user[1])))
            return
        checked = check_link(url)
        if checked is not None:
            self.entities.append(Entity("text_link", offset, length, url=checked))

    def _close_time(self, top: _Open, offset: int, length: int) -> None:
        unix = top.attrs.get("unix", "")
        if not re.fullmatch(r"\d{1,12}", unix):
            raise HtmlParseError("Invalid Unix time specified")
        fmt = top.attrs.get("format") or None
        self.entities.append(
            Entity("date_time", offset, length, unix_time=int(unix), date_time_format=fmt)
        )


def _lower(raw: bytes) -> str:
    # TDLib lower-cases ASCII only; bytes.lower() does exactly that.
    return raw.lower().decode("utf-8", "replace")


def _skip_spaces(data: bytes, i: int) -> int:
    while data[i] != 0 and data[i] in _SPACES:
        i += 1
    return i


def _attribute_value(data: bytes, i: int) -> tuple[str, int]:
    """Read a quoted string or an unquoted name token starting at `i`."""
    if data[i] not in b"'\"":
        begin = i
        while chr(data[i]).isascii() and (chr(data[i]).isalnum() or data[i] in b".-"):
            i += 1
        if data[i] not in _SPACES and data[i] != ord(">"):
            raise HtmlParseError(f"Unexpected end of name token at byte offset {begin}")
        return _lower(data[begin:i]), i
    quote = data[i]
    i += 1
    value = bytearray()
    while data[i] != quote and data[i] != 0:
        if data[i] == ord("&"):
            decoded = _decode_entity(data, i)
            if decoded is not None:
                code, i = decoded
                value += chr(code).encode("utf-8", "surrogatepass")
                continue
        value.append(data[i])
        i += 1
    if data[i] == quote:
        i += 1
    return value.decode("utf-8", "replace"), i


def _tag_argument(tag: str, name: str, value: str, current: str) -> str:
    if tag == "a" and name == "href":
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    if tag == "blockquote" and name == "expandable":
        return "1"
    return current


def _decode_entity(data: bytes, pos: int) -> tuple[int, int] | None:
    """Decode `&...` at `pos`; return (code point, next position) or None to keep it literal."""
    end = pos + 1
    if data[end] == ord("#"):
        end += 1
        code = 0
        if data[end] == ord("x"):  # lower-case x only
            end += 1
            while chr(data[end]) in "0123456789abcdefABCDEF":
                code = code * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while chr(data[end]) in "0123456789":
                code = code * 10 + data[end] - ord("0")
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while chr(data[end]).isascii() and chr(data[end]).isalpha():
            end += 1
        name = data[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        code = ord(_NAMED_ENTITIES[name])
    if data[end] == ord(";"):
        end += 1
    return code, end


def check_link(url: str) -> str | None:
    """Normalise a link like TDLib's get_checked_link; None when Telegram would drop it."""
    url = url.strip()
    if not url:
        return None
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):(//)?", url)
    if match is None:
        url = "http://" + url
        scheme = "http"
    else:
        scheme = match[1].lower()
    if scheme in ("tg", "ton", "tonsite"):
        return url
    if scheme not in ("http", "https"):
        return None
    rest = url.split("://", 1)[1] if "://" in url else ""
    host, sep, _ = rest.partition("/")
    host = host.rsplit("@", 1)[-1]
    if not host or not _HOST.match(host) or ".." in host:
        return None
    if not sep and "?" not in host and "#" not in host:
        return url + "/"
    return url


# --- fix_formatted_text: entity normalisation, control characters, trimming -------------


def fix_formatted_text(text: str, entities: list[Entity]) -> FormattedText:
    """Apply Telegram's clean-up: nesting rules, control characters, trimming."""
    fixed = _fix_entities(entities)
    text, fixed = _clean_text(text, fixed)
    return _trim(text, fixed)


# TDLib's MessageEntity::get_type_priority: ties on offset and length sort by it.
_PRIORITY = {
    "blockquote": 0, "expandable_blockquote": 0, "pre": 11, "code": 20, "text_link": 49,
    "text_mention": 49, "bold": 90, "italic": 91, "underline": 92, "strikethrough": 93,
    "spoiler": 94, "custom_emoji": 99,
}  # fmt: skip


def _sort_key(e: Entity) -> tuple[int, int, int]:
    priority = 10 if e.type == "pre" and e.language else _PRIORITY.get(e.type, 50)
    return (e.offset, -e.length, priority)


def _drop_intersecting(entities: list[Entity]) -> list[Entity]:
    kept: list[Entity] = []
    last_end = 0
    for e in sorted(entities, key=_sort_key):
        if e.offset >= last_end:
            kept.append(e)
            last_end = e.end
    return kept


def _fix_entities(entities: list[Entity]) -> list[Entity]:
    splittable = [e for e in entities if e.type in _SPLITTABLE]
    quotes = _drop_intersecting([e for e in entities if e.type in _BLOCKQUOTES])
    continuous = _drop_intersecting(
        [e for e in entities if e.type not in _SPLITTABLE and e.type not in _BLOCKQUOTES]
    )
    # Blockquotes may contain continuous entities but not cut through them.
    continuous = [e for e in continuous if all(_nests_or_apart(e, q) for q in quotes)]
    code_spans = [(e.offset, e.end) for e in continuous if e.type in _CODE_LIKE]
    merged = _merge_splittable(splittable)
    pieces = [piece for e in merged for piece in _cut_out(e, code_spans)]
    return sorted([*continuous, *quotes, *pieces], key=_sort_key)


def _nests_or_apart(e: Entity, quote: Entity) -> bool:
    inside = quote.offset <= e.offset and e.end <= quote.end
    return inside or e.end <= quote.offset or e.offset >= quote.end


def _merge_splittable(entities: list[Entity]) -> list[Entity]:
    """Merge overlapping or touching entities of one type, as TDLib's split_entities does."""
    out: list[Entity] = []
    for kind in sorted({e.type for e in entities}):
        spans = sorted((e.offset, e.end) for e in entities if e.type == kind)
        start, end = spans[0]
        for s, t in spans[1:]:
            if s <= end:
                end = max(end, t)
            else:
                out.append(Entity(kind, start, end - start))
                start, end = s, t
        out.append(Entity(kind, start, end - start))
    return out


def _cut_out(entity: Entity, spans: list[tuple[int, int]]) -> list[Entity]:
    """Remove the parts of a splittable entity that lie inside pre/code entities."""
    pieces = [(entity.offset, entity.end)]
    for s, t in spans:
        next_pieces = []
        for a, b in pieces:
            if b <= s or a >= t:
                next_pieces.append((a, b))
                continue
            if a < s:
                next_pieces.append((a, s))
            if b > t:
                next_pieces.append((t, b))
        pieces = next_pieces
    return [Entity(entity.type, a, b - a) for a, b in pieces if b > a]


def _clean_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Replace control characters by spaces, drop CR and a few invisible marks; shift entities."""
    removed: list[int] = []  # UTF-16 positions of removed code units
    out: list[str] = []
    pos = 0
    for ch in text:
        code = ord(ch)
        width = 2 if code > 0xFFFF else 1
        if ch == "\r" or 0x2028 <= code <= 0x202E or code in (0x0333, 0x033F, 0x030A):
            removed.append(pos)
        elif code < 32 and ch != "\n":
            out.append(" ")
        else:
            out.append(ch)
        pos += width
    if not removed:
        return "".join(out), entities

    def shift(p: int) -> int:
        return p - sum(1 for r in removed if r < p)

    shifted = []
    for e in entities:
        start, end = shift(e.offset), shift(e.end)
        if end > start:
            shifted.append(_with_span(e, start, end - start))
    return "".join(out), shifted


def _with_span(e: Entity, offset: int, length: int) -> Entity:
    language = e.language if e.type == "pre" else None
    return replace(e, offset=offset, length=length, language=language)


def _trim(text: str, entities: list[Entity]) -> FormattedText:
    stripped = text.rstrip(" \n")
    if not stripped:
        return FormattedText("", ())
    limit = utf16_len(stripped)
    clipped = [
        _with_span(e, e.offset, min(e.end, limit) - e.offset) for e in entities if e.offset < limit
    ]
    first_entity = min((e.offset for e in clipped), default=limit)
    lead = len(stripped) - len(stripped.lstrip(" \n"))
    lead = min(lead, first_entity)  # only ASCII here, so code points == UTF-16 units
    moved = [_with_span(e, e.offset - lead, e.length) for e in clipped]
    return FormattedText(stripped[lead:], tuple(sorted(moved, key=_sort_key)))
