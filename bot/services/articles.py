"""Use case: a story's full text, fetched once, extracted, cached, rendered.

Bounded on every side, because one tap makes the bot download and parse a
page chosen by whoever wrote the feed: one fetch per story at a time (taps on
the same story share it), a page cap and deadline of its own (well under the
feed limits), extraction in a few worker processes (`bot.ingest.process_pool`) with a
time limit that stops the work, and at
most `fulltext.max_messages` messages a tap, the last with a "Read on" button when more
is kept (up to `fulltext.max_read_on_messages`), then a link to the page.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session

from bot.delivery.message import Button, OutMessage
from bot.fulltext.article import MIN_CHARS, Article, ExtractionFailure, extract_article
from bot.ingest.fetcher import Fetcher, FetchPolicy, FetchResult, FetchStatus
from bot.ingest.process_pool import ProcessPool, TimedOut, WorkerDied
from bot.ops import metrics
from bot.render import texts, tghtml
from bot.render.article import render_article
from bot.render.i18n import EN, Lang
from bot.render.stories import fulltext_callback
from bot.services.context import Services, fetch_policy
from bot.settings import FulltextSettings, Settings
from bot.storage.models import ArticleText, Feed, Story

logger = logging.getLogger(__name__)

EXTRACT_WORKERS = 2  # the default of `fulltext.extract_workers`
PAGE_CONCURRENCY = 4  # pages fetched at once per page fetcher (one per tap, not per feed)
# Extraction is CPU-bound and a hostile page can make it slow: it runs in worker
# processes of its own, off the event loop's GIL, on the second core, and one over its
# time limit is killed. A tap is interactive, so its workers run ahead of the nice-10
# feed parses (`bot.ingest.parse_workers.NICENESS`); the event loop that answers everyone
# else still comes first (on a shared core, nice 5 gets a quarter beside nice 0).
EXTRACT_NICENESS = 5

# Room a paged text's messages keep for the closing line ("Continue reading: <link>"):
# the blank line before it and its words in any catalogue (checked by the tests), the
# link's URL counted apart. A URL too long for it leaves the line a message of its own.
CLOSING_ROOM = 40

_extraction: ProcessPool | None = None
# One flight per story per database; (id(engine), story_id) -> the shared work.
_flights: dict[tuple[int, int, str, int], asyncio.Future[list[OutMessage]]] = {}


def extraction_pool(workers: int = EXTRACT_WORKERS) -> ProcessPool:
    """This process's full-text extraction workers (each imports `bot.fulltext.article`).

    `workers`: how many, when this call creates the pool (the first call of the process:
    the bot's start, with `fulltext.extract_workers`).
    """
    global _extraction
    if _extraction is None:
        _extraction = ProcessPool(
            workers,
            name="fulltext-extract",
            niceness=EXTRACT_NICENESS,
            preload=("bot.fulltext.article",),
        )
    return _extraction


def start_extraction_workers(workers: int = EXTRACT_WORKERS) -> None:
    """Start the extraction workers now; they import in the background (a few ms here)."""
    extraction_pool(workers).start_workers()


@dataclass(frozen=True)
class StoryRef:
    id: int
    title: str
    link: str | None
    source: str


def _load(session: Session, story_id: int) -> tuple[StoryRef | None, ArticleText | None]:
    story = session.get(Story, story_id)
    if story is None or story.id is None:
        return None, None
    feed = session.get(Feed, story.feed_id) if story.feed_id is not None else None
    source = feed.display_name if feed is not None else story.source_name
    ref = StoryRef(story.id, story.title, story.link, source)
    return ref, session.get(ArticleText, story_id)


async def is_cached(services: Services, story_id: int) -> bool:
    """Whether a tap on this story is answered from the database (no fetch)."""
    return await services.db(lambda s: s.get(ArticleText, story_id) is not None)


def _failure(ref: StoryRef, reason: str, lang: Lang) -> list[str]:
    """Why there is no text (`reason` as stored: a fetch error stays as the fetcher said it)."""
    link = tghtml.link(ref.link, ref.link) if ref.link else lang(texts.FULLTEXT_NO_LINK)
    return [lang(texts.FULLTEXT_FAILED, reason=tghtml.escape(lang(reason)), link=link)]


def _budget(fs: FulltextSettings) -> int:
    """Characters worth keeping: one message more than we show, so "more" stays known."""
    return (max(fs.max_messages, fs.max_read_on_messages) + 1) * tghtml.MESSAGE_LIMIT


def _trimmed(paragraphs: list[str], budget: int) -> list[str]:
    kept: list[str] = []
    total = 0
    for paragraph in paragraphs:
        if total >= budget:
            break
        kept.append(paragraph[: budget - total + 1])
        total += len(paragraph)
    return kept


def _render(
    ref: StoryRef, cached: ArticleText, fs: FulltextSettings, lang: Lang, start: int = 0
) -> list[OutMessage]:
    """The text's messages from message `start` on: at most `fs.max_messages` of them.

    When more is kept, the last one has a "Read on" button for the next ones; past all
    that is kept, a link to the page.
    """
    if not cached.ok:
        return _plain(_failure(ref, cached.error or texts.FULLTEXT_UNKNOWN_REASON, lang))
    paragraphs = [p for p in cached.body.split("\n\n") if p.strip()]
    article = Article(
        title=ref.title or cached.title,
        paragraphs=tuple(_trimmed(paragraphs, _budget(fs))),
        source=ref.source,
        url=ref.link or "",
    )
    parts = render_article(article, source_name=ref.source)
    if len(parts) > fs.max_messages:
        # Past the cap, filled messages carry more of the text per message, each leaving
        # room for the closing line, so a tap's last message takes it (whatever the
        # language: the layout, and so where "Read on" starts, must not depend on it).
        room = tghtml.MESSAGE_LIMIT - CLOSING_ROOM - len(ref.link or "")
        limit = room if room >= tghtml.MESSAGE_LIMIT // 2 else tghtml.MESSAGE_LIMIT
        parts = render_article(article, source_name=ref.source, fill=True, limit=limit)
    readable = min(len(parts), max(fs.max_messages, fs.max_read_on_messages))
    if start and start >= readable:  # a "Read on" button older than the text now stored
        return _plain([lang(texts.FULLTEXT_BUTTON_STALE)])
    link = tghtml.link(ref.link or "", ref.link or "")
    if len(parts) <= fs.max_messages:
        if sum(len(p) for p in paragraphs) >= MIN_CHARS:
            return _plain(parts)
        # Little text: show it, and say it may be only a teaser.
        return _plain(_with_last_line(parts, lang(texts.FULLTEXT_PARTIAL, link=link)))
    stop = min(start + fs.max_messages, readable)
    if stop >= len(parts):  # the rest of the text
        return _plain(parts[start:])
    messages = _plain(_with_last_line(parts[start:stop], lang(texts.FULLTEXT_CONTINUE, link=link)))
    if stop >= readable:
        return messages
    last = min(stop + fs.max_messages, readable)
    label = (
        lang(texts.FULLTEXT_READ_ON, first=stop + 1, last=last, total=readable)
        if last > stop + 1
        else lang(texts.FULLTEXT_READ_ON_ONE, first=last, total=readable)
    )
    button = Button(label, fulltext_callback(ref.id, stop))
    return [*messages[:-1], replace(messages[-1], keyboard=((button,),))]


def _plain(parts: list[str]) -> list[OutMessage]:
    return [OutMessage(part) for part in parts]


def _with_last_line(parts: list[str], more: str) -> list[str]:
    """Append a closing line to the last message, or as a message of its own."""
    kept = parts
    joined = f"{kept[-1]}\n\n{more}"
    if tghtml.visible_length(joined) <= tghtml.MESSAGE_LIMIT:
        return [*kept[:-1], joined]
    return [*kept, more]


async def fulltext_messages(
    services: Services, story_id: int, lang: Lang = EN, *, start: int = 0
) -> list[OutMessage]:
    """Messages (Telegram HTML) with the story's full text, or one line saying why not.

    `start` is the first message of text to show (a "Read on" tap). The article itself
    is never translated; only our framing (failure, "continue", "read on").
    """
    key = (id(services.engine), story_id, lang.code, start)
    flight = _flights.get(key)
    if flight is None:
        ref, cached = await services.db(lambda s: _load(s, story_id))
        if ref is None:
            return _plain([lang(texts.FULLTEXT_GONE)])
        metrics.count_fulltext(hit=cached is not None)
        if cached is not None:
            return _render(ref, cached, services.settings.fulltext, lang, start)
        if not ref.link:
            return _plain(_failure(ref, texts.FULLTEXT_STORY_NO_LINK, lang))
        flight = _flights.get(key)  # another tap may have started it while we looked
        if flight is None:
            flight = asyncio.ensure_future(_fetch_and_store(services, ref, lang, start))
            _flights[key] = flight
            flight.add_done_callback(functools.partial(_land, key))
    # Shielded: a tap whose handler is cancelled must not cancel the others' fetch.
    return await asyncio.shield(flight)


def _land(key: tuple[int, int, str, int], flight: asyncio.Future[list[OutMessage]]) -> None:
    if _flights.get(key) is flight:
        del _flights[key]
    if not flight.cancelled():
        flight.exception()  # the taps re-raise it; this only marks it seen if none waits


async def _fetch_and_store(
    services: Services, ref: StoryRef, lang: Lang, start: int
) -> list[OutMessage]:
    fs = services.settings.fulltext
    # Checked again inside the flight: a flight that just landed may have stored it.
    _, cached = await services.db(lambda s: _load(s, ref.id))
    if cached is not None:
        return _render(ref, cached, fs, lang, start)
    assert ref.link is not None
    now = services.clock()
    page = await fetch_page(services.settings, ref.link, now=now)
    if page.status is not FetchStatus.OK or page.body is None:
        # Not cached: a network hiccup should not stick to the story.
        return _plain(_failure(ref, page.error or texts.FULLTEXT_NOT_LOADED, lang))
    extract = functools.partial(extract_article, page.body, url=page.final_url)
    pool = extraction_pool(fs.extract_workers)
    result = await pool.run(extract, timeout=fs.extract_timeout_seconds)
    # Neither failure is cached: the next tap may well succeed.
    if isinstance(result, TimedOut):
        logger.warning("extraction timed out story_id=%s url=%s", ref.id, page.final_url)
        return _plain(_failure(ref, texts.FULLTEXT_EXTRACT_SLOW, lang))
    if isinstance(result, WorkerDied):
        logger.warning("extraction worker died story_id=%s url=%s", ref.id, page.final_url)
        return _plain(_failure(ref, texts.FULLTEXT_EXTRACT_DIED, lang))
    row = _to_row(ref.id, result, now=now, budget=_budget(fs))
    await services.db(lambda s: s.merge(row))
    return _render(ref, row, fs, lang, start)


def first_tap_messages(
    ref: StoryRef,
    result: Article | ExtractionFailure,
    fs: FulltextSettings,
    *,
    now: datetime,
    lang: Lang = EN,
) -> list[str]:
    """The messages a first tap sends for this extraction result (what is stored, rendered).

    The same steps as `_fetch_and_store` without the I/O: for evaluations and tests.
    """
    return [m.html for m in tap_messages(ref, result, fs, now=now, lang=lang)]


def tap_messages(
    ref: StoryRef,
    result: Article | ExtractionFailure,
    fs: FulltextSettings,
    *,
    now: datetime,
    start: int = 0,
    lang: Lang = EN,
) -> list[OutMessage]:
    """What a tap from message `start` on sends (with its "Read on" button), without I/O."""
    return _render(ref, _to_row(ref.id, result, now=now, budget=_budget(fs)), fs, lang, start)


def page_policy(settings: Settings) -> FetchPolicy:
    """The feed fetcher's guards with the full-text page's own (smaller) cap and deadline."""
    return replace(
        fetch_policy(settings.fetch),
        timeout_seconds=settings.fulltext.timeout_seconds,
        max_bytes=settings.fulltext.max_bytes,
        max_concurrency=PAGE_CONCURRENCY,
        max_per_host=PAGE_CONCURRENCY,
        keep_head=True,
    )


async def fetch_page(settings: Settings, url: str, *, now: datetime) -> FetchResult:
    """Fetch one article page under the full-text limits.

    A short-lived fetcher per page: pages are fetched once per story and taps are
    rate-limited per user, so a pooled client would buy little and need a lifecycle.
    """
    async with Fetcher(page_policy(settings)) as fetcher:
        return await fetcher.fetch_page(url, now=now)


def _to_row(
    story_id: int, result: Article | ExtractionFailure, *, now: datetime, budget: int
) -> ArticleText:
    if isinstance(result, ExtractionFailure):
        return ArticleText(story_id=story_id, ok=False, error=result.reason[:300], fetched_at=now)
    # Only what can be shown is kept; a megabyte of text would be read by nobody here.
    body = "\n\n".join(_trimmed(list(result.paragraphs), budget))
    return ArticleText(
        story_id=story_id, ok=True, title=result.title[:400], body=body, fetched_at=now
    )
