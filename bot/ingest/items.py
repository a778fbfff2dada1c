"""Format-neutral raw items: what feedparser entries and JSON Feed items carry.

Pure field extraction; no normalisation (that is ``parser._normalise``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.ingest import images

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class RawItem:
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
    images: tuple[str, ...] = ()  # image URLs as the feed wrote them, best first


def item_from_json(item: Mapping[str, Any]) -> RawItem:
    authors = item.get("authors") or [item.get("author")]
    first_author = authors[0] if isinstance(authors, list) and authors else None
    author = first_author.get("name") if isinstance(first_author, dict) else None
    body_html = string(item.get("content_html")) or _escape(string(item.get("content_text")))
    summary = string(item.get("summary"))
    tags = item.get("tags")
    return RawItem(
        guid=string(item.get("id")) or None,
        link=_url_field(item.get("url")) or _url_field(item.get("external_url")),
        guid_is_link=False,
        title=string(item.get("title")),
        title_is_html=False,  # JSON Feed titles are plain text by spec
        summary_html=_escape(summary) if summary else body_html,
        published=_iso_datetime(item.get("date_published"))
        or _iso_datetime(item.get("date_modified")),
        categories=tuple(string(t) for t in tags) if isinstance(tags, list) else (),
        author=string(author) or None,
        images=images.from_json_feed(item, body_html),
    )


def string(value: object) -> str:
    """Return ``value`` as a string if it is a scalar, else ''.

    NUL characters and lone UTF-16 surrogates are dropped: PostgreSQL refuses a NUL in
    text and no database takes a surrogate, and one in any field of one item failed the
    whole feed's round. A JSON Feed writes them as "\\u0000" and "\\ud83d" (an emoji cut
    in half); an XML one NUL as "&#0;", which feedparser's lenient parse keeps.
    """
    if isinstance(value, str):
        return _UNSTORABLE.sub("", value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _url_field(value: object) -> str | None:
    """Return a URL member only if it is a non-empty string (a number is not a URL)."""
    text = string(value) if isinstance(value, str) else ""
    return text if text.strip() else None


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


def item_from_feedparser(entry: dict[str, Any]) -> RawItem:
    title_detail = entry.get("title_detail") or {}
    content = entry.get("content") or []
    summary = entry.get("summary") or (content[0].get("value") if content else "") or ""
    return RawItem(
        guid=string(entry.get("id")).strip() or None,
        link=string(entry.get("link")) or None,
        guid_is_link=bool(entry.get("guidislink")),
        title=string(entry.get("title")),
        title_is_html=title_detail.get("type") != "text/plain",
        summary_html=string(summary),
        # dict.get skips FeedParserDict's deprecated updated->published key aliasing.
        published=_struct_datetime(dict.get(entry, "published_parsed"))
        or _struct_datetime(dict.get(entry, "updated_parsed")),
        categories=tuple(
            string(tag.get("term")) or string(tag.get("label")) for tag in entry.get("tags") or []
        ),
        author=string(entry.get("author")) or None,
        images=images.from_feedparser(entry, string(summary)),
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


def ttl_seconds(value: object) -> int | None:
    """Convert RSS 2.0 ``<ttl>`` (minutes) to seconds; None when absent or nonsense."""
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if 0 < minutes < 10**6 else None
