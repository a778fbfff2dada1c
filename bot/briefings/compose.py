"""Use case: compose due briefings into the outbox, once per chat and due time.

A chat's due time is taken with a compare-and-set on `next_briefing_at`, and
the outbox rows, the delivered-story records and the next due time are
written in that same transaction; so however many workers tick, and however
often, each briefing is composed once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select, update

from bot.briefings import layout, selection
from bot.briefings.prefs import chat_prefs
from bot.briefings.timetable import next_due
from bot.delivery.message import markup_json
from bot.render import i18n, texts, tghtml
from bot.render.i18n import EN, Lang
from bot.services.story_views import story_views
from bot.settings import Settings
from bot.storage import chats as chat_store
from bot.storage import outbox
from bot.storage.db import session_scope
from bot.storage.models import Chat, Delivery

logger = logging.getLogger(__name__)

INSTANT_MIN_INTERVAL = timedelta(seconds=60)
LOOKBACK = timedelta(hours=24)


@dataclass
class ComposeStats:
    chats: int = 0  # due chats looked at
    briefings: int = 0
    messages: int = 0
    empty: int = 0
    skipped_late: int = 0


def briefing_header(topic_names: Sequence[str], *, local: datetime, lang: Lang = EN) -> str:
    """The briefing's title and local date in the chat's language (topic names untranslated)."""
    scope = ", ".join(topic_names) if topic_names else lang(texts.BRIEFING_ALL_TOPICS)
    date_line = tghtml.italic(lang.date(local))
    return f"{tghtml.bold(lang(texts.BRIEFING_HEADER, scope=scope))}\n{date_line}"


def _topic_names(settings: Settings, slugs: Sequence[str]) -> list[str]:
    return [(settings.topic(s).name if settings.topic(s) else s) for s in slugs]  # type: ignore[union-attr]


def _take(session: Session, chat: Chat, *, expected: datetime | None, values: dict) -> bool:
    """Compare-and-set the chat's due time; False when another worker took it."""
    result = session.exec(
        update(Chat)
        .where(col(Chat.id) == chat.id, col(Chat.next_briefing_at) == expected)
        .values(**values)
    )
    return bool(result.rowcount == 1)


def compose_for_chat(
    session: Session,
    chat: Chat,
    *,
    settings: Settings,
    now: datetime,
    kind: str,
    key: str,
    since: datetime,
) -> int:
    """Write one briefing's messages and delivery records; return the message count."""
    # Everything per chat that changes the composed text or how it is sent (language,
    # items, summaries, preview, image, quiet) is `prefs`: part of any grouping key.
    prefs = chat_prefs(chat, settings)
    topics = sorted(chat_store.subscriptions(session, chat.id))
    # Topics, keywords and mute words: the one rule in bot/briefings/selection.py.
    rows = selection.stories_for_chat(
        session,
        chat_id=chat.id,
        topics=topics or None,
        limit=prefs.max_items,
        exclude_delivered=True,
        seen_since=since,
    )
    if not rows:
        return 0
    views = story_views(session, rows)
    local = now.astimezone(ZoneInfo(chat.timezone))
    lang = i18n.lang(prefs.language)  # a stored code we no longer speak falls back to English
    header = briefing_header(_topic_names(settings, topics), local=local, lang=lang)
    messages = layout.briefing_messages(views, header_html=header, now=now, prefs=prefs)
    for view in views:
        session.add(Delivery(chat_id=chat.id, story_id=view.id, delivered_at=now))
    target, thread = chat.send_to  # a forum topic: its forum, in its thread
    outbox.enqueue(
        session,
        [
            outbox.NewMessage(
                chat_id=target,
                thread_id=thread,
                kind=kind,
                dedup_key=f"{key}:{i}",
                text=m.html,
                reply_markup=markup_json(m),
                options=options,
            )
            for i, (m, options) in enumerate(messages)
        ],
        now=now,
    )
    return len(messages)


def _due_chats(session: Session, *, now: datetime, mode: str, limit: int) -> list[Chat]:
    query = (
        select(Chat)
        .where(col(Chat.active), ~col(Chat.stopped), col(Chat.mode) == mode)
        .where(col(Chat.next_briefing_at) <= now)
        .order_by(col(Chat.next_briefing_at))
        .limit(limit)
    )
    return list(session.exec(query).all())


def compose_scheduled(
    engine: Engine, settings: Settings, *, now: datetime, limit: int = 200
) -> ComposeStats:
    """Compose the briefings that fell due; each chat in its own short transaction."""
    stats = ComposeStats()
    grace = timedelta(hours=settings.briefing.late_grace_hours)
    with session_scope(engine) as session:
        chats = _due_chats(session, now=now, mode="scheduled", limit=limit)
        session.expunge_all()
    stats.chats = len(chats)
    for chat in chats:
        scheduled = chat.next_briefing_at
        assert scheduled is not None
        with session_scope(engine) as session:
            after = max(now, scheduled)
            due = next_due(chat.mode, chat.briefing_times, chat.timezone, after=after)
            values = {"next_briefing_at": due}
            if now - scheduled > grace:
                # Missed while the bot was down for too long: wait for the next one.
                if _take(session, chat, expected=scheduled, values=values):
                    stats.skipped_late += 1
                continue
            values["last_briefing_at"] = scheduled
            if not _take(session, chat, expected=scheduled, values=values):
                continue
            since = max(chat.last_briefing_at or now - LOOKBACK, now - 2 * LOOKBACK)
            key = f"brief:{chat.id}:{scheduled:%Y%m%dT%H%M}"
            count = compose_for_chat(
                session, chat, settings=settings, now=now, kind="briefing", key=key, since=since
            )
        stats.briefings += bool(count)
        stats.empty += not count
        stats.messages += count
    return stats


def compose_instant(
    engine: Engine, settings: Settings, *, now: datetime, limit: int = 500
) -> ComposeStats:
    """Send new matching stories to instant-mode chats, at most once a minute each."""
    stats = ComposeStats()
    with session_scope(engine) as session:
        chats = _due_chats(session, now=now, mode="instant", limit=limit)
        session.expunge_all()
    for chat in chats:
        with session_scope(engine) as session:
            # Take the chat first: a concurrent worker's compare-and-set then
            # waits on this row and finds it changed, so it never writes the
            # same delivery rows (and never meets their unique constraint).
            if not _take(
                session,
                chat,
                expected=chat.next_briefing_at,
                values={"next_briefing_at": now + INSTANT_MIN_INTERVAL, "last_briefing_at": now},
            ):
                continue
            since = max(chat.instant_since or now, now - LOOKBACK)
            key = f"inst:{chat.id}:{now:%Y%m%dT%H%M%S}"
            count = compose_for_chat(
                session, chat, settings=settings, now=now, kind="instant", key=key, since=since
            )
            if not count:
                # Nothing new: give the take back so the chat stays due.
                session.rollback()
                continue
        stats.briefings += 1
        stats.messages += count
    return stats
