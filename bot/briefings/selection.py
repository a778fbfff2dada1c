"""Which stories a chat receives: its topics and keywords, less its mute words.

Briefings, instant mode and /latest all select through `stories_for_chat`, so
one rule (`StoryFilter.admits`) decides everywhere. Without filters this is
the single query it always was; with filters, candidates are read newest first
in pages and kept by the rule, so a muted story costs a row read, not a slot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel import Session

from bot.briefings.filters import NO_FILTER, StoryFilter
from bot.storage import filters as filter_store
from bot.storage import stories as story_store
from bot.storage.models import Story

FIRST_PAGE = 40  # at least: a page a few mute words thin out still fills the list
MAX_PAGE = 400
SCAN_LIMIT = 1000  # candidates read per chat and query at most (keywords that rarely match)


def chat_filter(session: Session, chat_id: int) -> StoryFilter:
    """The chat's filter as stored."""
    found = filter_store.chat_filters(session, chat_id)
    if not found["mute"] and not found["follow"]:
        return NO_FILTER
    return StoryFilter.from_phrases(mutes=found["mute"], follows=found["follow"])


def stories_for_chat(
    session: Session,
    *,
    chat_id: int,
    topics: Sequence[str] | None,
    limit: int,
    exclude_delivered: bool = False,
    seen_since: datetime | None = None,
    published_since: datetime | None = None,
    with_follows: bool = True,
) -> list[Story]:
    """The newest stories for a chat: in `topics` (None: all) or its keywords, never muted."""
    story_filter = chat_filter(session, chat_id)
    fetch = _fetcher(session, chat_id if exclude_delivered else None, seen_since, published_since)
    if story_filter.empty:
        return fetch(topics, limit, 0)
    chosen = _scan(fetch, topics, limit, lambda s: story_filter.admits(**_text(s), in_topics=True))
    if topics and with_follows and story_filter.follows:
        taken = {s.id for s in chosen}
        extra = _scan(
            fetch,
            None,
            limit,
            lambda s: s.id not in taken and story_filter.admits(**_text(s), in_topics=False),
        )
        chosen = sorted(chosen + extra, key=lambda s: (s.published_at, s.id or 0), reverse=True)
    return chosen[:limit]


Fetch = Callable[[Sequence[str] | None, int, int], list[Story]]


def _fetcher(
    session: Session,
    exclude: int | None,
    seen_since: datetime | None,
    published_since: datetime | None,
) -> Fetch:
    def fetch(topics: Sequence[str] | None, limit: int, offset: int) -> list[Story]:
        return story_store.latest_stories(
            session,
            topics=topics or None,
            limit=limit,
            exclude_delivered_to=exclude,
            seen_since=seen_since,
            published_since=published_since,
            offset=offset,
        )

    return fetch


def _scan(
    fetch: Fetch, topics: Sequence[str] | None, limit: int, keep: Callable[[Story], bool]
) -> list[Story]:
    """Read candidates newest first, page by page, until `limit` are kept or none are left."""
    kept: list[Story] = []
    offset = 0
    page = max(FIRST_PAGE, 2 * limit)
    while len(kept) < limit and offset < SCAN_LIMIT:
        rows = fetch(topics, page, offset)
        kept.extend(s for s in rows if keep(s))
        if len(rows) < page:
            break
        offset += page
        page = min(2 * page, MAX_PAGE)
    return kept[:limit]


def _text(story: Story) -> dict[str, str]:
    return {"title": story.title, "summary": story.summary}
