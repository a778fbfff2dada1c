"""Use case: a story's full text, fetched once, extracted, cached, rendered."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.ingest.article import Article, ExtractionFailure, extract_article
from bot.ingest.fetcher import FetchStatus
from bot.render import texts, tghtml
from bot.render.article import render_article
from bot.services.context import Services
from bot.storage.models import ArticleText, Story

logger = logging.getLogger(__name__)


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
    ref = StoryRef(story.id, story.title, story.link, story.source_name)
    return ref, session.get(ArticleText, story_id)


def _failure(ref: StoryRef, reason: str) -> list[str]:
    link = tghtml.link(ref.link, ref.link) if ref.link else "(no link)"
    return [texts.FULLTEXT_FAILED.format(reason=tghtml.escape(reason), link=link)]


def _render(ref: StoryRef, cached: ArticleText) -> list[str]:
    if not cached.ok:
        return _failure(ref, cached.error or "unknown reason")
    article = Article(
        title=cached.title or ref.title,
        paragraphs=tuple(p for p in cached.body.split("\n\n") if p.strip()),
        source=ref.source,
        url=ref.link or "",
    )
    return render_article(article, source_name=ref.source)


async def fulltext_messages(services: Services, story_id: int) -> list[str]:
    """Messages (Telegram HTML) with the story's full text, or one line saying why not."""
    ref, cached = await services.db(lambda s: _load(s, story_id))
    if ref is None:
        return [texts.FULLTEXT_GONE]
    if cached is not None:
        return _render(ref, cached)
    if not ref.link:
        return _failure(ref, "the story has no link")
    now = services.clock()
    page = await services.fetcher.fetch_page(ref.link, now=now)
    if page.status is not FetchStatus.OK or page.body is None:
        # Not cached: a network hiccup should not stick to the story.
        return _failure(ref, page.error or "the page did not load")
    result = await asyncio.to_thread(extract_article, page.body, url=page.final_url)
    row = _to_row(story_id, result, now=now)
    await services.db(lambda s: s.merge(row))
    return _render(ref, row)


def _to_row(story_id: int, result: Article | ExtractionFailure, *, now: datetime) -> ArticleText:
    if isinstance(result, ExtractionFailure):
        return ArticleText(story_id=story_id, ok=False, error=result.reason[:300], fetched_at=now)
    return ArticleText(
        story_id=story_id,
        ok=True,
        title=result.title[:400],
        body="\n\n".join(result.paragraphs),
        fetched_at=now,
    )
