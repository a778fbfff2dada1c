"""Bytes-level checks and charset repair for XML feed bodies, before feedparser runs."""

from __future__ import annotations

import re
from typing import Any

import feedparser

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)

_WIDE_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_WIDE_NULL_PATTERNS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
# A character reference that may name a UTF-16 surrogate (U+D800-U+DFFF is 55296-57343):
# only these reach Python, not the many ordinary references of a feed.
_CHAR_REF = re.compile(rb"&#(?:[xX]0*([dD][89a-fA-F][0-9a-fA-F]{2})|0*(5[5-7][0-9]{3}));")
# Encodings feedparser falls back to when the declared one fails to decode.
_FALLBACK_ENCODINGS = frozenset({"windows-1252", "iso-8859-2"})


def declares_entities(body: bytes) -> bool:
    """Return True if the document declares any entity, anywhere.

    Feeds have no use for DTD entities, and stripping them proved fragile (a quoted
    ``>`` in a DOCTYPE fooled it), so any declaration refuses the whole document.
    """
    codec = wide_codec(body)
    if codec is None:
        return _ENTITY_DECL.search(body) is not None
    # UTF-16/32 hides the markup from byte patterns: look in the decoded text.
    return "<!entity" in body.decode(codec, errors="replace").lower()


def mend_surrogate_refs(body: bytes) -> bytes:
    """Rewrite character references to UTF-16 surrogates as the characters they mean.

    Some feeds write an emoji as its two UTF-16 halves ("&#55357;&#56832;"); XML allows
    no reference to a surrogate, and feedparser's lenient parse crashed on one, so one
    such emoji failed the whole feed. A pair becomes one reference ("&#128512;"), a lone
    half U+FFFD.
    """
    if b"&#" not in body:
        return body
    halves = [
        (found.start(), found.end(), code)
        for found in _CHAR_REF.finditer(body)
        if 0xD800 <= (code := _ref_value(found)) <= 0xDFFF
    ]
    if not halves:
        return body
    out: list[bytes] = []
    done = 0  # bytes of body copied or replaced so far
    index = 0
    while index < len(halves):
        start, end, code = halves[index]
        after = halves[index + 1] if index + 1 < len(halves) else None
        out.append(body[done:start])
        if code <= 0xDBFF and after is not None and after[0] == end and after[2] >= 0xDC00:
            joined = 0x10000 + ((code - 0xD800) << 10) + (after[2] - 0xDC00)
            out.append(b"&#%d;" % joined)
            done, index = after[1], index + 2
        else:
            out.append(b"&#xFFFD;")
            done, index = end, index + 1
    out.append(body[done:])
    return b"".join(out)


def _ref_value(found: re.Match[bytes]) -> int:
    hexadecimal, decimal = found.groups()
    return int(hexadecimal, 16) if hexadecimal is not None else int(decimal)


def wide_codec(body: bytes) -> str | None:
    """Return the UTF-16/32 codec a body is in (by BOM or NUL pattern), if any."""
    for bom, codec in _WIDE_BOMS:
        if body.startswith(bom):
            return codec
    for pattern, codec in _WIDE_NULL_PATTERNS:
        if body.startswith(pattern):
            return codec
    return None


def better_charset(body: bytes, result: Any) -> str | None:
    """Return a charset to re-parse with when feedparser's choice is wrong, else None.

    If the bytes are valid UTF-8 (and not plain ASCII), believe the bytes over
    any declaration. If they are not, and feedparser fell back to a guess
    after the declared charset failed, ask charset_normalizer instead.
    """
    used = str(result.get("encoding") or "").lower().replace("_", "-")
    if body.isascii() or used.startswith(("utf-16", "utf-32")) or wide_codec(body):
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        overridden = isinstance(result.get("bozo_exception"), feedparser.CharacterEncodingOverride)
        if overridden and used in _FALLBACK_ENCODINGS:
            guess = _guess_charset(body)
            return guess if guess and guess.lower() != used else None
        return None
    return None if used in ("utf-8", "utf8") else "utf-8"


def _guess_charset(body: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a transitive dependency, keep optional
        return None
    best = from_bytes(body[:65536]).best()
    return best.encoding if best is not None else None


def with_charset(content_type: str | None, charset: str) -> str:
    """Return ``content_type`` with its charset parameter replaced by ``charset``."""
    media = (content_type or "application/xml").split(";", 1)[0].strip()
    return f"{media or 'application/xml'}; charset={charset}"


def media_type(content_type: str | None) -> str:
    """Return the lower-case media type of a Content-Type value, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()
