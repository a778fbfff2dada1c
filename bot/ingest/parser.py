"""Feed bytes in, normalised entries out: RSS, Atom and JSON Feed.

Owns everything between a fetched body and ``ParsedEntry``: format sniffing,
encoding repair, DTD defusing, plain-text titles and summaries, canonical
links, UTC dates and the per-feed identity keys used by dedup. Pure and
synchronous; `bot.ingest.parse_workers` runs it in worker processes.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from bot.ingest import feedtags
from bot.ingest.items import RawItem, item_from_feedparser, item_from_json, string, ttl_seconds
from bot.ingest.prepared import Prepared
from bot.ingest.urls import canonical_url
from bot.ingest.xmlbytes import (
    better_charset,
    declares_entities,
    media_type,
    mend_surrogate_refs,
    with_charset,
)
from bot.render.plain import collapse_ws, html_to_text, truncate

logger = logging.getLogger(__name__)
feedtags.install()  # feedparser's tag check is quadratic in the tags of an entry

MAX_TITLE = 300
MAX_SUMMARY = 1000
#: Column sizes (bot/storage/models.py Entry): longer values are stored as a hash.
MAX_GUID = 2048
MAX_IDENTITY = 600
DEFAULT_MAX_ENTRIES = 200
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")
# Markup that plain text practically never contains: a closing tag or a line break.
_MARKUP = re.compile(r"</[A-Za-z][\w:-]*\s*>|<br\s*/?>", re.I)
ENTITIES_REFUSED = "entity declarations are not allowed"
# No news feed carries an item from before the web: such a date is a zero or a default
# ("Thu, 01 Jan 1970"), no date at all. Believed, it would keep the item out of every
# briefing (older than the news age, `bot.briefings.grouping.MAX_STORY_AGE`).
EARLIEST_DATE = datetime(1995, 1, 1, tzinfo=UTC)
# A character reference left in plain text after XML decoding: the publisher escaped
# the text twice ("AT&amp;amp;T", "it&amp;#8217;s").
_CHAR_REF = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


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
    image_url: str | None = None  # the first image candidate that passes the link checks
    # The fragment the feed's link had ("#fares" of ".../briefs#fares"): a canonical link
    # has none, and items whose links differ only by it are items of one page.
    anchor: str = ""
    # Worked out in the parse worker for the writer (`bot.ingest.prepare`); not part of
    # the entry's value.
    prepared: Prepared | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed; ``error`` is set (and entries may be empty) when parsing failed."""

    title: str | None
    link: str | None
    ttl_seconds: int | None
    entries: tuple[ParsedEntry, ...]
    error: str | None
    is_feed: bool


def parse_feed(
    body: bytes,
    *,
    url: str,
    content_type: str | None,
    now: datetime,
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> ParsedFeed:
    """Parse and normalise a feed body; never raise (failures come back in ``error``).

    At most ``max_entries`` entries are kept, the newest ones.
    """
    try:
        return _parse(body, url=url, content_type=content_type, now=now, limit=max_entries)
    except Exception as exc:  # the contract is "never raise": a broken feed is data
        logger.warning("feed parse crashed url=%s error=%r", url, exc)
        return failed_feed(f"parse error: {type(exc).__name__}: {exc}")


def failed_feed(error: str, *, is_feed: bool = False) -> ParsedFeed:
    """A feed that did not parse: no entries, and why in ``error``."""
    return ParsedFeed(None, None, None, (), error, is_feed)


def _parse(
    body: bytes, *, url: str, content_type: str | None, now: datetime, limit: int
) -> ParsedFeed:
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url=url, now=now, limit=limit)
    if declares_entities(body):
        return failed_feed(ENTITIES_REFUSED)
    body = mend_surrogate_refs(body)
    result = _run_feedparser(body, content_type)
    charset = better_charset(body, result)
    if charset:
        result = _run_feedparser(body, with_charset(content_type, charset))
    if not result.get("version") and not result.get("entries"):
        return failed_feed(_not_a_feed_reason(body, content_type, result))
    feed = result.get("feed", {})
    link = canonical_url(feed.get("link") or "", url)
    items = [item_from_feedparser(entry) for entry in result.get("entries", [])]
    title = _feed_title(feed.get("title"), feed.get("title_detail"))
    entries = _normalise_all(items, base=link or url, now=now, limit=limit)
    if not entries and title is None and _is_malformed(result):
        # Broken XML that yielded nothing is a failure; an empty valid feed is not.
        return failed_feed(f"parse error: {result.get('bozo_exception')}", is_feed=True)
    return ParsedFeed(
        title=title,
        link=link,
        ttl_seconds=ttl_seconds(feed.get("ttl")),
        entries=entries,
        error=None,
        is_feed=True,
    )


def _is_malformed(result: Any) -> bool:
    exc = result.get("bozo_exception")
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    return bool(result.get("bozo")) and exc is not None and not isinstance(exc, benign)


def _run_feedparser(body: bytes, content_type: str | None) -> Any:
    # No content-location: feedparser would resolve relative item links (and
    # even non-URL guids) against the feed URL, while we resolve against the
    # channel link first; xml:base is still honoured by feedparser itself.
    headers = {"content-type": content_type} if content_type else {}
    return feedparser.parse(body, response_headers=headers, sanitize_html=True)


def _not_a_feed_reason(body: bytes, content_type: str | None, result: Any) -> str:
    media = media_type(content_type)
    head = body[:2048].lower()
    if "html" in media:
        return f"not a feed (got {media})"
    if b"<html" in head or b"<!doctype html" in head:
        # A login or error page served under a feed's type: name what it really is.
        return f"not a feed (got an HTML page{f' labelled {media}' if media else ''})"
    exc = result.get("bozo_exception")
    return f"parse error: {exc or 'no RSS, Atom or JSON Feed document found'}"


# --- JSON Feed (feedparser 6 does not read it) -------------------------------


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if "json" in media_type(content_type):
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _parse_json_feed(body: bytes, *, url: str, now: datetime, limit: int) -> ParsedFeed:
    """Parse a JSON Feed 1.0/1.1 document (https://jsonfeed.org/version/1.1)."""
    try:
        doc = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        return failed_feed(f"parse error: invalid JSON: {exc}")
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not (
        isinstance(doc.get("items"), list) or "jsonfeed.org" in str(version)
    ):
        return failed_feed("not a feed (got JSON that is not a JSON Feed)")
    link = canonical_url(string(doc.get("home_page_url")), url)
    raw_items = [item for item in doc.get("items") or [] if isinstance(item, dict)]
    return ParsedFeed(
        title=_feed_title(string(doc.get("title")), None),
        link=link,
        ttl_seconds=None,
        entries=_normalise_all(
            [item_from_json(item) for item in raw_items], base=link or url, now=now, limit=limit
        ),
        error=None,
        is_feed=True,
    )


def _feed_title(title: str | None, detail: Mapping[str, Any] | None) -> str | None:
    if not title:
        return None
    is_html = detail is not None and detail.get("type") != "text/plain"
    return truncate(_plain(title, is_html=is_html), MAX_TITLE) or None


# --- normalisation --------------------------------------------------------------


def _plain(text: str, *, is_html: bool) -> str:
    """Return plain text; "text" typed titles that carry real markup are treated as HTML.

    Atom 0.3 defaults to text/plain and many feeds mislabel HTML titles, but
    a literal ``<blink>`` in a title declared as text must survive. Character references
    left in plain text were escaped twice by the publisher: decoded once more, or
    readers would see "&amp;" where the outlet meant "&".
    """
    if is_html or _MARKUP.search(text):
        return html_to_text(text)
    if _CHAR_REF.search(text):
        text = html.unescape(text)
    return collapse_ws(text)


def _normalise_all(
    items: Sequence[RawItem], *, base: str, now: datetime, limit: int
) -> tuple[ParsedEntry, ...]:
    """Normalise up to ``limit`` items, newest first, kept in document order.

    Empty items (e.g. the cut-off tail of truncated XML) are dropped and do not count.
    """
    order: Sequence[int] = range(len(items))
    if len(items) > limit:  # only then does choosing cost a sort
        order = sorted(order, key=lambda i: _published(items[i].published, now, i), reverse=True)
    kept: list[tuple[int, ParsedEntry]] = []
    for index in order:
        entry = _normalise(items[index], base=base, now=now, position=index)
        if entry.title or entry.link or entry.summary:
            kept.append((index, entry))
            if len(kept) >= limit:
                break
    if len(items) > limit:
        logger.info("feed has %d items, kept the %d newest", len(items), len(kept))
    return tuple(entry for _, entry in sorted(kept, key=lambda pair: pair[0]))


def _normalise(item: RawItem, *, base: str, now: datetime, position: int = 0) -> ParsedEntry:
    summary = truncate(html_to_text(item.summary_html), MAX_SUMMARY)
    raw_link = item.link
    link = canonical_url(item.link, base) if item.link else None
    if link is None and item.guid and (item.guid_is_link or item.guid.startswith("http")):
        raw_link = item.guid
        link = canonical_url(item.guid)  # RSS 2.0: a permalink guid is the item's URL
    title = _plain(item.title, is_html=item.title_is_html)
    if not title:
        title = _SENTENCE_END.split(summary, maxsplit=1)[0] if summary else link or ""
    return ParsedEntry(
        guid=_fit(item.guid, MAX_GUID) if item.guid else None,
        link=link,
        title=truncate(title, MAX_TITLE),
        summary=summary,
        published_at=_published(item.published, now, position),
        categories=_unique(html_to_text(term) for term in item.categories),
        author=html_to_text(item.author or "") or None,
        image_url=next(filter(None, (canonical_url(i, base) for i in item.images)), None),
        anchor=raw_link.partition("#")[2].strip()[:200] if link and raw_link else "",
    )


def _published(value: datetime | None, now: datetime, position: int = 0) -> datetime:
    """Return ``value`` in UTC; missing or future dates become ``now``.

    A date ahead of the fetch (a local time labelled GMT, clock skew, a typo) is not
    when the item was published: kept, it would sort above every newer story until then.
    Undated items are a second apart in document order (feeds list the newest first),
    so newest-first lists keep the feed's order instead of showing its tail first.
    Dates before ``EARLIEST_DATE`` count as missing.
    """
    now_utc = now.astimezone(UTC)
    if value is None or value < EARLIEST_DATE:
        return now_utc - timedelta(seconds=position)
    return min(value.astimezone(UTC), now_utc)


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
    Keys longer than the column hold become ``"sha256:" + hex`` of the key.
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
            key = base
        elif base.startswith("g:") and entry.link and link_counts[(base, entry.link)] == 1:
            keys.append(with_link(base, entry.link))
            continue
        else:
            key = f"{base}|h:{_content_hash(entry)}"
        keys.append(_fit(key, MAX_IDENTITY))
    return keys


def with_link(identity: str, link: str) -> str:
    """The identity of an item whose GUID the feed gives other items too: its link added."""
    return _fit(f"{identity}|l:{link}", MAX_IDENTITY)


def _fit(value: str, limit: int) -> str:
    """Return value, or a hash of it when it is longer than its column (``limit`` chars).

    The same long value always gives the same hash, so lookups and inserts agree
    (a truncated value stored but looked up whole broke every later refresh).
    """
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _base_identity(entry: ParsedEntry) -> str:
    if entry.guid:
        return f"g:{entry.guid}"
    if entry.link:
        return f"l:{entry.link}"
    return f"h:{_content_hash(entry)}"


def _content_hash(entry: ParsedEntry) -> str:
    # A separator keeps ("ab", "c") and ("a", "bc") apart.
    return hashlib.sha1(f"{entry.title}\n{entry.summary}".encode()).hexdigest()
