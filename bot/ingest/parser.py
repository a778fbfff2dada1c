"""Feed bytes in, normalised entries out: RSS, Atom and JSON Feed.

Owns everything between a fetched body and ``ParsedEntry``: format sniffing,
encoding repair, DTD defusing, plain-text titles and summaries, canonical
links, UTC dates and the per-feed identity keys used by dedup. Pure and
synchronous; ``parse_feed_async`` runs it in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from bot.ingest.urls import canonical_url
from bot.render.plain import collapse_ws, html_to_text, truncate

logger = logging.getLogger(__name__)

MAX_TITLE = 300
MAX_SUMMARY = 1000
# Clock skew and time zones make "a few hours ahead" normal; more is a lie.
FUTURE_TOLERANCE = timedelta(days=1)

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")
# Markup that plain text practically never contains: a closing tag or a line break.
_MARKUP = re.compile(r"</[A-Za-z][\w:-]*\s*>|<br\s*/?>", re.I)
_XML_ENCODING = re.compile(rb"""(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""", re.I)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_ELEMENT_START = re.compile(rb"<[A-Za-z_]")
_SUBSET_END = re.compile(rb"\]\s*>")
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
# Encodings feedparser falls back to when the declared one fails to decode.
_FALLBACK_ENCODINGS = frozenset({"windows-1252", "iso-8859-2"})


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One feed item, normalised: plain text, canonical link, aware UTC date."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    published_at: datetime
    categories: tuple[str, ...]
    author: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed; ``error`` is set (and entries may be empty) when parsing failed."""

    title: str | None
    link: str | None
    ttl_seconds: int | None
    entries: tuple[ParsedEntry, ...]
    error: str | None
    is_feed: bool


@dataclass(frozen=True, slots=True)
class _RawItem:
    """Format-neutral item fields before normalisation."""

    guid: str | None
    link: str | None
    guid_is_link: bool
    title: str
    title_is_html: bool
    summary_html: str
    published: datetime | None
    categories: tuple[str, ...]
    author: str | None


def parse_feed(body: bytes, *, url: str, content_type: str | None, now: datetime) -> ParsedFeed:
    """Parse and normalise a feed body; never raise (failures come back in ``error``)."""
    try:
        return _parse(body, url=url, content_type=content_type, now=now)
    except Exception as exc:  # the contract is "never raise": a broken feed is data
        logger.warning("feed parse crashed url=%s error=%r", url, exc)
        return _failure(f"parse error: {type(exc).__name__}: {exc}")


async def parse_feed_async(
    body: bytes, *, url: str, content_type: str | None, now: datetime
) -> ParsedFeed:
    """Run ``parse_feed`` in a worker thread so the event loop stays responsive."""
    return await asyncio.to_thread(parse_feed, body, url=url, content_type=content_type, now=now)


def _failure(error: str, *, is_feed: bool = False) -> ParsedFeed:
    return ParsedFeed(None, None, None, (), error, is_feed)


def _parse(body: bytes, *, url: str, content_type: str | None, now: datetime) -> ParsedFeed:
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url=url, now=now)
    body, content_type = _defuse_dtd(body, content_type)
    result = _run_feedparser(body, content_type)
    charset = _better_charset(body, result)
    if charset:
        result = _run_feedparser(body, _with_charset(content_type, charset))
    if not result.get("version") and not result.get("entries"):
        return _failure(_not_a_feed_reason(body, content_type, result))
    feed = result.get("feed", {})
    link = canonical_url(feed.get("link") or "", url)
    items = [_item_from_feedparser(entry) for entry in result.get("entries", [])]
    return ParsedFeed(
        title=_feed_title(feed.get("title"), feed.get("title_detail")),
        link=link,
        ttl_seconds=_ttl_seconds(feed.get("ttl")),
        entries=_normalise_all(items, base=link or url, now=now),
        error=None,
        is_feed=True,
    )


def _run_feedparser(body: bytes, content_type: str | None) -> Any:
    # No content-location: feedparser would resolve relative item links (and
    # even non-URL guids) against the feed URL, while we resolve against the
    # channel link first; xml:base is still honoured by feedparser itself.
    headers = {"content-type": content_type} if content_type else {}
    return feedparser.parse(body, response_headers=headers, sanitize_html=True)


# --- bytes-level defences ---------------------------------------------------


def _defuse_dtd(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """Remove a DOCTYPE internal subset that declares entities.

    feedparser drops nested entities, but a single large literal entity
    referenced many times (quadratic blow-up) makes expat bail and then
    feedparser's loose parser expands it without limit. Feeds have no need
    for DTD entities, so the whole internal subset goes.
    """
    codec = _wide_codec(body)
    if codec is None:
        return _strip_internal_subset(body), content_type
    if "<!ENTITY".encode(codec) not in body:
        return body, content_type
    # UTF-16/32 hides the markup from byte regexes: transcode, then strip.
    text = body.decode(codec, errors="replace").lstrip("\ufeff")
    utf8 = _XML_ENCODING.sub(rb"\1\2utf-8\2", text.encode("utf-8"), count=1)
    return _strip_internal_subset(utf8), _with_charset(content_type, "utf-8")


def _strip_internal_subset(body: bytes) -> bytes:
    doctype = _DOCTYPE.search(body)
    if doctype is None or _ELEMENT_START.search(body, 0, doctype.start()):
        return body
    first_element = _ELEMENT_START.search(body, doctype.end())
    open_bracket = body.find(b"[", doctype.end())
    close_angle = body.find(b">", doctype.end())
    if open_bracket < 0 or (0 <= close_angle < open_bracket):
        return body  # no internal subset
    if first_element and first_element.start() < open_bracket:
        return body
    end = _SUBSET_END.search(body, open_bracket)
    subset_end = end.start() if end else len(body)
    if not re.search(rb"<!ENTITY", body[open_bracket:subset_end], re.I):
        return body
    if end is None:
        # An unterminated subset: nothing after it can be trusted as a document.
        return body[: doctype.start()]
    logger.info("stripped DTD internal subset with entity declarations")
    return body[:open_bracket] + b">" + body[end.end() :]


def _wide_codec(body: bytes) -> str | None:
    """Return the UTF-16/32 codec a body is in (by BOM or NUL pattern), if any."""
    for bom, codec in _WIDE_BOMS:
        if body.startswith(bom):
            return codec
    for pattern, codec in _WIDE_NULL_PATTERNS:
        if body.startswith(pattern):
            return codec
    return None


def _better_charset(body: bytes, result: Any) -> str | None:
    """Return a charset to re-parse with when feedparser's choice is wrong, else None.

    If the bytes are valid UTF-8 (and not plain ASCII), believe the bytes over
    any declaration. If they are not, and feedparser fell back to a guess
    after the declared charset failed, ask charset_normalizer instead.
    """
    used = str(result.get("encoding") or "").lower().replace("_", "-")
    if body.isascii() or used.startswith(("utf-16", "utf-32")) or _wide_codec(body):
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


def _with_charset(content_type: str | None, charset: str) -> str:
    """Return ``content_type`` with its charset parameter replaced by ``charset``."""
    media = (content_type or "application/xml").split(";", 1)[0].strip()
    return f"{media or 'application/xml'}; charset={charset}"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _not_a_feed_reason(body: bytes, content_type: str | None, result: Any) -> str:
    media = _media_type(content_type)
    head = body[:2048].lower()
    if "html" in media or b"<html" in head or b"<!doctype html" in head:
        return f"not a feed (got {media or 'an HTML page'})"
    exc = result.get("bozo_exception")
    return f"parse error: {exc or 'no RSS, Atom or JSON Feed document found'}"


# --- JSON Feed (feedparser 6 does not read it) -------------------------------


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if "json" in _media_type(content_type):
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _parse_json_feed(body: bytes, *, url: str, now: datetime) -> ParsedFeed:
    """Parse a JSON Feed 1.0/1.1 document (https://jsonfeed.org/version/1.1)."""
    try:
        doc = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        return _failure(f"parse error: invalid JSON: {exc}")
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not (
        isinstance(doc.get("items"), list) or "jsonfeed.org" in str(version)
    ):
        return _failure("not a feed (got JSON that is not a JSON Feed)")
    link = canonical_url(_string(doc.get("home_page_url")), url)
    raw_items = [item for item in doc.get("items") or [] if isinstance(item, dict)]
    return ParsedFeed(
        title=_feed_title(_string(doc.get("title")), None),
        link=link,
        ttl_seconds=None,
        entries=_normalise_all(map(_item_from_json, raw_items), base=link or url, now=now),
        error=None,
        is_feed=True,
    )


def _item_from_json(item: Mapping[str, Any]) -> _RawItem:
    authors = item.get("authors") or [item.get("author")]
    first_author = authors[0] if isinstance(authors, list) and authors else None
    author = first_author.get("name") if isinstance(first_author, dict) else None
    body_html = _string(item.get("content_html")) or _escape(_string(item.get("content_text")))
    summary = _string(item.get("summary"))
    tags = item.get("tags")
    return _RawItem(
        guid=_string(item.get("id")) or None,
        link=_url_field(item.get("url")) or _url_field(item.get("external_url")),
        guid_is_link=False,
        title=_string(item.get("title")),
        title_is_html=False,  # JSON Feed titles are plain text by spec
        summary_html=_escape(summary) if summary else body_html,
        published=_iso_datetime(item.get("date_published"))
        or _iso_datetime(item.get("date_modified")),
        categories=tuple(_string(t) for t in tags) if isinstance(tags, list) else (),
        author=_string(author) or None,
    )


def _string(value: object) -> str:
    """Return ``value`` as a string if it is a scalar, else ''."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _url_field(value: object) -> str | None:
    """Return a URL member only if it is a non-empty string (a number is not a URL)."""
    return value if isinstance(value, str) and value.strip() else None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _iso_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- feedparser entries -------------------------------------------------------


def _item_from_feedparser(entry: dict[str, Any]) -> _RawItem:
    title_detail = entry.get("title_detail") or {}
    content = entry.get("content") or []
    summary = entry.get("summary") or (content[0].get("value") if content else "") or ""
    return _RawItem(
        guid=_string(entry.get("id")).strip() or None,
        link=_string(entry.get("link")) or None,
        guid_is_link=bool(entry.get("guidislink")),
        title=_string(entry.get("title")),
        title_is_html=title_detail.get("type") != "text/plain",
        summary_html=_string(summary),
        # dict.get skips FeedParserDict's deprecated updated->published key aliasing.
        published=_struct_datetime(dict.get(entry, "published_parsed"))
        or _struct_datetime(dict.get(entry, "updated_parsed")),
        categories=tuple(
            _string(tag.get("term")) or _string(tag.get("label")) for tag in entry.get("tags") or []
        ),
        author=_string(entry.get("author")) or None,
    )


def _struct_datetime(value: Any) -> datetime | None:
    """Convert feedparser's UTC ``time.struct_time`` to an aware datetime."""
    if value is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in value[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _feed_title(title: str | None, detail: Mapping[str, Any] | None) -> str | None:
    if not title:
        return None
    is_html = detail is not None and detail.get("type") != "text/plain"
    return truncate(_plain(title, is_html=is_html), MAX_TITLE) or None


def _ttl_seconds(value: object) -> int | None:
    """Convert RSS 2.0 ``<ttl>`` (minutes) to seconds; None when absent or nonsense."""
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if 0 < minutes < 10**6 else None


# --- normalisation --------------------------------------------------------------


def _plain(text: str, *, is_html: bool) -> str:
    """Return plain text; "text" typed titles that carry real markup are treated as HTML.

    Atom 0.3 defaults to text/plain and many feeds mislabel HTML titles, but
    a literal ``<blink>`` in a title declared as text must survive.
    """
    if is_html or _MARKUP.search(text):
        return html_to_text(text)
    return collapse_ws(text)


def _normalise_all(
    items: Iterable[_RawItem], *, base: str, now: datetime
) -> tuple[ParsedEntry, ...]:
    """Normalise items, dropping the empty ones (e.g. the cut-off tail of truncated XML)."""
    entries = (_normalise(item, base=base, now=now) for item in items)
    return tuple(e for e in entries if e.title or e.link or e.summary)


def _normalise(item: _RawItem, *, base: str, now: datetime) -> ParsedEntry:
    summary = truncate(html_to_text(item.summary_html), MAX_SUMMARY)
    link = canonical_url(item.link, base) if item.link else None
    if link is None and item.guid and (item.guid_is_link or item.guid.startswith("http")):
        link = canonical_url(item.guid)  # RSS 2.0: a permalink guid is the item's URL
    title = _plain(item.title, is_html=item.title_is_html)
    if not title:
        title = _SENTENCE_END.split(summary, maxsplit=1)[0] if summary else link or ""
    return ParsedEntry(
        guid=item.guid,
        link=link,
        title=truncate(title, MAX_TITLE),
        summary=summary,
        published_at=_published(item.published, now),
        categories=_unique(html_to_text(term) for term in item.categories),
        author=html_to_text(item.author or "") or None,
    )


def _published(value: datetime | None, now: datetime) -> datetime:
    """Return ``value`` in UTC; missing or far-future dates become ``now``."""
    now_utc = now.astimezone(UTC)
    if value is None:
        return now_utc
    value = value.astimezone(UTC)
    return now_utc if value > now_utc + FUTURE_TOLERANCE else value


def _unique(terms: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    kept: list[str] = []
    for term in terms:
        key = term.casefold()
        if term and key not in seen:
            seen.add(key)
            kept.append(truncate(term, 100))
    return tuple(kept)


# --- identity -------------------------------------------------------------------


def entry_identities(entries: Sequence[ParsedEntry]) -> list[str]:
    """Return one stable identity key per entry, unique within the feed.

    ``"g:" + guid``, else ``"l:" + link``, else ``"h:" + sha1(title, summary)``.
    Feeds that reuse one guid (or one link) for several items get every
    member of the colliding group suffixed with its link or content hash, so
    the key depends only on the item itself, never on its position.
    """
    bases = [_base_identity(entry) for entry in entries]
    base_counts = Counter(bases)
    link_counts = Counter((base, entry.link) for base, entry in zip(bases, entries, strict=True))
    keys = []
    for base, entry in zip(bases, entries, strict=True):
        if base_counts[base] == 1:
            keys.append(base)
        elif base.startswith("g:") and entry.link and link_counts[(base, entry.link)] == 1:
            keys.append(f"{base}|l:{entry.link}")
        else:
            keys.append(f"{base}|h:{_content_hash(entry)}")
    return keys


def _base_identity(entry: ParsedEntry) -> str:
    if entry.guid:
        return f"g:{entry.guid}"
    if entry.link:
        return f"l:{entry.link}"
    return f"h:{_content_hash(entry)}"


def _content_hash(entry: ParsedEntry) -> str:
    # A separator keeps ("ab", "c") and ("a", "bc") apart.
    return hashlib.sha1(f"{entry.title}\n{entry.summary}".encode()).hexdigest()
