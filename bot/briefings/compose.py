"""Use case: compose due briefings into the outbox, once per chat and due time.

Due chats are taken a batch at a time, in (due time, id) order, each batch in
one transaction that locks its chats (`storage.briefings.lock_due_chats`) and
writes their outbox rows, delivered-story records and next due times before it
commits; so however many workers tick, and however often, each briefing is
composed once, and a story is never sent to a chat twice.

Within a batch chats are grouped by `grouping.briefing_key`: the stories of a
group are read once, and chats that get the same stories share one rendered
briefing. Rows go in with one executemany per table per batch, and only one
batch of chats is in memory at a time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.briefings import layout, selection
from bot.briefings.grouping import LOOKBACK, BriefingKey, briefing_key, pick_stories
from bot.briefings.prefs import chat_prefs
from bot.briefings.timetable import last_briefing, next_due, parse_times
from bot.delivery.message import markup_json
from bot.render import i18n, texts, tghtml
from bot.render.i18n import EN, Lang
from bot.render.stories import StoryView
from bot.services.story_views import story_views
from bot.settings import Settings
from bot.storage import briefings as batch_store
from bot.storage import outbox
from bot.storage import stories as story_store
from bot.storage.briefings import DueChat
from bot.storage.chats import begin_write
from bot.storage.db import session_scope
from bot.storage.models import Story

logger = logging.getLogger(__name__)

INSTANT_MIN_INTERVAL = timedelta(seconds=60)
BATCH = 1000  # chats per transaction
__all__ = ["LOOKBACK", "ComposeStats", "compose_instant", "compose_scheduled"]


@dataclass
class ComposeStats:
    chats: int = 0  # due chats looked at
    briefings: int = 0
    messages: int = 0
    empty: int = 0
    skipped_late: int = 0


def briefing_header(topic_names: Sequence[str], *, local: date, lang: Lang = EN) -> str:
    """The briefing's title and local date in the chat's language (topic names untranslated)."""
    scope = ", ".join(topic_names) if topic_names else lang(texts.BRIEFING_ALL_TOPICS)
    date_line = tghtml.italic(lang.date(local))
    return f"{tghtml.bold(lang(texts.BRIEFING_HEADER, scope=scope))}\n{date_line}"


def _topic_names(settings: Settings, slugs: Sequence[str]) -> list[str]:
    return [(settings.topic(s).name if settings.topic(s) else s) for s in slugs]  # type: ignore[union-attr]


Rendered = list[tuple[str, str | None, str | None]]  # (html, markup JSON, options JSON)


class Renderer:
    """Renders briefings, once per (group, stories) within one compose call."""

    _MAX_CACHED = 4096  # bounds memory when many groups differ

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings, self.now = settings, now
        self._messages: dict[tuple[BriefingKey, tuple[int, ...]], Rendered] = {}
        self._views: dict[int, StoryView] = {}

    def render(
        self,
        session: Session,
        key: BriefingKey,
        story_ids: tuple[int, ...],
        stories: dict[int, Story],
    ) -> Rendered:
        cached = self._messages.get((key, story_ids))
        if cached is not None:
            return cached
        missing = [stories[i] for i in story_ids if i not in self._views]
        if missing:
            if len(self._views) > self._MAX_CACHED:
                self._views.clear()
            self._views.update((v.id, v) for v in story_views(session, missing))
        views = [self._views[i] for i in story_ids]
        prefs = key.prefs
        lang = i18n.lang(prefs.language)  # a stored code we no longer speak falls back to English
        names = _topic_names(self.settings, key.topics)
        header = briefing_header(names, local=key.local_date, lang=lang)
        messages = layout.briefing_messages(views, header_html=header, now=self.now, prefs=prefs)
        rendered = [(m.html, markup_json(m), options) for m, options in messages]
        if len(self._messages) > self._MAX_CACHED:
            self._messages.clear()
        self._messages[(key, story_ids)] = rendered
        return rendered


def _candidates(
    session: Session, key: BriefingKey, *, limit: int
) -> tuple[list[int], dict[int, Story]]:
    """A group's newest stories (ids newest first, and the rows by id)."""
    rows = story_store.latest_stories(
        session,
        topics=key.topics or None,
        limit=limit,
        seen_since=key.seen_since,
        published_since=key.published_since,
    )
    return [s.id for s in rows if s.id is not None], {s.id: s for s in rows if s.id is not None}


def _selected(
    session: Session, key: BriefingKey, chat_id: int
) -> tuple[list[int], dict[int, Story]]:
    """A filtered chat's stories, selected by the one rule (already without its history)."""
    rows = selection.stories_for_chat(
        session,
        chat_id=chat_id,
        topics=key.topics or None,
        limit=key.prefs.max_items,
        exclude_delivered=True,
        seen_since=key.seen_since,
        published_since=key.published_since,
    )
    return [s.id for s in rows if s.id is not None], {s.id: s for s in rows if s.id is not None}


@dataclass
class _Batch:
    """What one batch writes, collected before the executemany calls."""

    messages: list[outbox.NewMessage]
    deliveries: list[tuple[int, int]]
    due: list[dict]
    late: list[dict]


def _compose_batch(
    session: Session,
    chats: Sequence[DueChat],
    *,
    settings: Settings,
    now: datetime,
    renderer: Renderer,
    stats: ComposeStats,
) -> None:
    grace = timedelta(hours=settings.briefing.late_grace_hours)
    out = _Batch([], [], [], [])
    subscriptions = batch_store.subscriptions_of(session, [c.id for c in chats])
    filtered = batch_store.chats_with_filters(session, [c.id for c in chats])
    groups: dict[BriefingKey, list[DueChat]] = defaultdict(list)
    next_at: dict[tuple[str, str, datetime], datetime | None] = {}
    last_slot: dict[tuple[str, str], datetime | None] = {}
    for chat in chats:
        if chat.mode == "scheduled":
            chat = _latest_slot(chat, now=now, memo=last_slot)
            after = max(now, chat.scheduled)
            memo = (chat.briefing_times, chat.timezone, after)
            if memo not in next_at:
                next_at[memo] = next_due(chat.mode, memo[0], memo[1], after=after)
            if now - chat.scheduled > grace:
                # Missed while the bot was down for too long: wait for the next one.
                out.late.append({"chat_id": chat.id, "next_at": next_at[memo]})
                stats.skipped_late += 1
                continue
            due = {"chat_id": chat.id, "next_at": next_at[memo], "last_at": chat.scheduled}
            out.due.append(due)
        topics = subscriptions.get(chat.id, ())
        # Language and display settings: part of the key, so only chats that
        # read and send alike share messages.
        prefs = chat_prefs(chat, settings)
        key = briefing_key(chat, topics, now=now, prefs=prefs, filtered=chat.id in filtered)
        groups[key].append(chat)
    delivered: dict[int, set[int]] = {}
    if groups:
        oldest = min(key.seen_since for key in groups)
        members = [c.id for group in groups.values() for c in group]
        delivered = batch_store.delivered_since(session, members, seen_since=oldest)
    for key, group in groups.items():
        if key.filtered_chat is None:
            most_sent = max(len(delivered.get(c.id, ())) for c in group)
            candidates, stories = _candidates(session, key, limit=key.prefs.max_items + most_sent)
        else:  # mute words and keywords: the chat's own selection (bot/briefings/selection.py)
            candidates, stories = _selected(session, key, key.filtered_chat)
        for chat in group:
            sent = delivered.get(chat.id, set())
            ids = pick_stories(candidates, sent, key.prefs.max_items)
            if not ids:
                stats.empty += chat.mode == "scheduled"
                continue
            rendered = renderer.render(session, key, ids, stories)
            kind, prefix = _kind_and_key(chat, now)
            target = chat.parent_id or chat.id  # a forum topic: its forum, in its thread
            out.messages += [
                outbox.NewMessage(
                    chat_id=target,
                    thread_id=chat.thread_id,
                    kind=kind,
                    dedup_key=f"{prefix}:{i}",
                    text=html,
                    reply_markup=markup,
                    options=options,
                )
                for i, (html, markup, options) in enumerate(rendered)
            ]
            out.deliveries += [(chat.id, story_id) for story_id in ids]
            if chat.mode == "instant":
                next_instant = now + INSTANT_MIN_INTERVAL
                out.due.append({"chat_id": chat.id, "next_at": next_instant, "last_at": now})
            stats.briefings += 1
            stats.messages += len(rendered)
    outbox.enqueue_many(session, out.messages, now=now)
    batch_store.record_deliveries(session, out.deliveries, now=now)
    batch_store.set_due_times(session, out.due)
    batch_store.set_due_times(session, out.late)


def _latest_slot(
    chat: DueChat, *, now: datetime, memo: dict[tuple[str, str], datetime | None]
) -> DueChat:
    """The chat with the latest of its briefing times that passed as the one due.

    After a downtime that spans several briefing times, only the latest is
    sent (one catch-up, not one per missed time), and whether it is too late
    is judged by it: a bot down for two days and back an hour after today's
    time sends today's briefing.
    """
    key = (chat.briefing_times, chat.timezone)
    if key not in memo:
        memo[key] = last_briefing(parse_times(key[0]), key[1], at_or_before=now)
    latest = memo[key]
    if latest is None or latest <= chat.scheduled:
        return chat
    return replace(chat, scheduled=latest)


def _kind_and_key(chat: DueChat, now: datetime) -> tuple[str, str]:
    if chat.mode == "instant":
        return "instant", f"inst:{chat.id}:{now:%Y%m%dT%H%M%S}"
    return "briefing", f"brief:{chat.id}:{chat.scheduled:%Y%m%dT%H%M}"


def _compose(
    engine: Engine, settings: Settings, *, now: datetime, mode: str, limit: int, batch: int
) -> ComposeStats:
    """Compose up to `limit` due chats of `mode`, `batch` chats per transaction."""
    stats = ComposeStats()
    renderer = Renderer(settings, now)
    after: tuple[datetime, int] | None = None
    while stats.chats < limit:
        with session_scope(engine) as session:
            begin_write(session)
            chats = batch_store.lock_due_chats(
                session, now=now, mode=mode, limit=min(batch, limit - stats.chats), after=after
            )
            if chats:
                _compose_batch(
                    session, chats, settings=settings, now=now, renderer=renderer, stats=stats
                )
        if not chats:
            break
        stats.chats += len(chats)
        # The cursor moves past chats left due (instant chats with nothing new),
        # so one call never takes a chat twice.
        after = (chats[-1].scheduled, chats[-1].id)
    return stats


def compose_scheduled(
    engine: Engine, settings: Settings, *, now: datetime, limit: int = 200, batch: int = BATCH
) -> ComposeStats:
    """Compose the scheduled briefings that fell due (at most `limit` chats)."""
    return _compose(engine, settings, now=now, mode="scheduled", limit=limit, batch=batch)


def compose_instant(
    engine: Engine, settings: Settings, *, now: datetime, limit: int = 500, batch: int = BATCH
) -> ComposeStats:
    """Send new matching stories to instant-mode chats, at most once a minute each.

    A chat with nothing new is left due, untouched, so it gets the next story
    as soon as one arrives.
    """
    return _compose(engine, settings, now=now, mode="instant", limit=limit, batch=batch)
