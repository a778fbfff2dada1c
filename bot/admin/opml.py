"""OPML import and export of the feed list, parsed defensively.

OPML files come from strangers' feed readers. We parse them with the
standard library's expat, which resolves no external entities, and refuse
any document that declares a DTD or entities at all (billion-laughs and
friends need one); defusedxml is not a dependency.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.admin import audit
from bot.admin.feeds import MAX_URL_LENGTH, is_http_url
from bot.admin.results import ImportReport
from bot.ingest.netguard import host_address, is_public
from bot.ingest.topics import Topic
from bot.ingest.urls import feed_key
from bot.services.lookup import resolve_topic
from bot.storage.db import session_scope
from bot.storage.models import Feed

MAX_BYTES = 1024 * 1024
MAX_FEEDS = 5000
IMPORT_ORIGIN = "opml"

_FORBIDDEN = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class OpmlError(ValueError):
    """The file cannot be imported; the message says why, for the admin."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str | None = None
    topics: tuple[str, ...] = ()


# ---------------------------------------------------------------- parsing (pure)


def _decode(data: bytes) -> str:
    """Bytes to text: a BOM decides, else UTF-8 if the bytes are valid UTF-8 (a prolog
    may name a charset the file was never in), else the XML declaration."""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        declared = _DECLARED_ENCODING.match(data)
        encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        return data.decode(codecs.lookup(encoding).name)
    except (LookupError, UnicodeDecodeError) as exc:
        raise OpmlError(f"it is not readable {encoding} text") from exc


def parse_opml(data: bytes, topics: Sequence[Topic]) -> list[OpmlFeed]:
    """Feeds listed in an OPML document, with the topics their folders or categories name."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"it is larger than {MAX_BYTES // 1024} KB")
    text = _decode(data)
    if _FORBIDDEN.search(text):
        raise OpmlError("it declares a DTD or entities, which are not allowed")
    try:
        root = ET.fromstring(_DECLARATION.sub("", text, count=1))
    except ET.ParseError as exc:
        raise OpmlError(f"it is not well-formed XML ({exc})") from exc
    body = root.find("body") if root.tag == "opml" else None
    if body is None:
        raise OpmlError("it is not an OPML document")
    feeds = list(_outlines(body, topics))
    if len(feeds) > MAX_FEEDS:
        raise OpmlError(f"it lists more than {MAX_FEEDS} feeds")
    return feeds


def _outlines(body: ET.Element, topics: Sequence[Topic]) -> Iterator[OpmlFeed]:
    """Feed outlines in document order; a folder's name may be a topic for those inside.

    Walked with a stack of its own, not by recursion: folders nested a few thousand
    deep (a file fits 50,000 levels) would exhaust Python's recursion limit.
    """
    stack: list[tuple[Iterator[ET.Element], tuple[str, ...]]] = [(iter(body), ())]
    while stack:
        children, folder_topics = stack[-1]
        outline = next(children, None)
        if outline is None:
            stack.pop()
            continue
        if outline.tag != "outline":
            continue
        label = outline.get("title") or outline.get("text") or ""
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:  # a folder
            folder = resolve_topic(label, topics) if label else None
            stack.append((iter(outline), _union(folder_topics, folder)))
            continue
        own = tuple(_category_topics(outline.get("category") or "", topics))
        yield OpmlFeed(url=url, title=label.strip() or None, topics=_union(folder_topics, *own))


def _category_topics(category: str, topics: Sequence[Topic]) -> Iterator[str]:
    """OPML 2.0 categories: comma-separated, slash-delimited paths ("/world,/news/tech")."""
    for path in category.split(","):
        for part in path.split("/"):
            slug = resolve_topic(part, topics) if part.strip() else None
            if slug:
                yield slug


def _union(have: tuple[str, ...], *more: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*have, *(m for m in more if m)]))


def build_opml(feeds: Sequence[OpmlFeed], *, title: str, now: datetime) -> bytes:
    """An OPML 2.0 document listing `feeds`, topics as categories."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.title or feed.url, "xmlUrl": feed.url}
        if feed.title:
            attrs["title"] = feed.title
        if feed.topics:
            attrs["category"] = ",".join(f"/{t}" for t in feed.topics)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# ---------------------------------------------------------------- storage


def importable(url: str, *, allow_private: bool) -> bool:
    """An http(s) URL of at most 2,048 characters; unless private networks are allowed,
    not one naming a private or local address itself (in any spelling a resolver reads
    as one: "http://2130706433/" is 127.0.0.1), which every fetch would refuse
    (a name that resolves to one is refused at its first fetch, as for /addfeed)."""
    if not is_http_url(url) or len(url) > MAX_URL_LENGTH:
        return False
    if allow_private:
        return True
    host = (urlsplit(url).hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return False
    address = host_address(host)
    return address is None or is_public(address)


def import_feeds(
    session: Session,
    feeds: Sequence[OpmlFeed],
    *,
    actor: audit.Actor,
    now: datetime,
    allow_private: bool,
) -> ImportReport:
    """Add the listed feeds that are new (or removed before); count the rest."""
    # Keyed by `feed_key`: another spelling of a stored address is that feed (an
    # enabled one, if two spellings were stored before).
    rows = sorted(session.exec(select(Feed)).all(), key=lambda f: f.enabled)
    stored = {feed_key(f.url): f for f in rows}
    added = present = invalid = 0
    for item in feeds:
        if not importable(item.url, allow_private=allow_private):
            invalid += 1
            continue
        feed = stored.get(feed_key(item.url))
        if feed is not None and feed.enabled:
            present += 1
            continue
        if feed is None:
            feed = Feed(url=item.url, created_at=now)
            stored[feed_key(item.url)] = feed
        # The admin's from now on: a start disables only config feeds the file dropped.
        feed.origin = IMPORT_ORIGIN
        feed.name = (item.title or "")[:200] or feed.name
        feed.topics = " ".join(item.topics) or feed.topics
        feed.enabled, feed.paused, feed.next_check_at = True, False, now
        # A removed feed starts a new failing streak, as /addfeed and /resumefeed give it.
        feed.consecutive_failures, feed.failing_since = 0, None
        session.add(feed)
        added += 1
    report = ImportReport(added, present, invalid)
    detail = f"{added} added, {present} already there, {invalid} invalid"
    audit.record(session, actor, "import-opml", detail, now=now)
    return report


# Another import, /addfeed or a starting process can store one of the file's feeds between
# this import's read and its commit; each retry reads what they committed.
IMPORT_ATTEMPTS = 3


def import_feeds_into(
    engine: Engine,
    feeds: Sequence[OpmlFeed],
    *,
    actor: audit.Actor,
    now: datetime,
    allow_private: bool,
) -> ImportReport:
    """`import_feeds` in a transaction of its own, run again if a feed it adds was added
    meanwhile (the unique URL refuses the commit): that feed then counts as already there."""
    for attempt in range(1, IMPORT_ATTEMPTS + 1):
        try:
            with session_scope(engine) as session:
                return import_feeds(
                    session, feeds, actor=actor, now=now, allow_private=allow_private
                )
        except IntegrityError:
            if attempt == IMPORT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def export_feeds(session: Session) -> list[OpmlFeed]:
    """Every enabled feed, for an OPML export."""
    rows = session.exec(select(Feed).where(col(Feed.enabled)).order_by(col(Feed.id))).all()
    return [OpmlFeed(url=f.url, title=f.name or f.title, topics=f.topic_slugs) for f in rows]
