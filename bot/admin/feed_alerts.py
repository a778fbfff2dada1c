"""Alerts about feeds for the admins: paused after failures, moved for good. Queued in the outbox.

Feeds paused by one refresh reach each admin as one list: an OPML import of a
stale list, or one hoster going down, pauses dozens of feeds in the same round.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.admin.results import MovedFeed, PausedFeed
from bot.render.admin import move_alert, pause_alerts
from bot.render.i18n import Lang, lang
from bot.storage import outbox
from bot.storage.models import Chat, Feed

ALERT_KIND = "alert"
ALERT_PRIORITY = 1  # after broadcasts, before briefings


def admin_lang(session: Session, admin_id: int) -> Lang:
    """The language of an admin's private chat with the bot (English until it has one)."""
    chat = session.get(Chat, admin_id)
    return lang(chat.language if chat is not None else None)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _paused(session: Session, feed_ids: Sequence[int], now: datetime) -> list[PausedFeed]:
    paused = []
    for feed_id in dict.fromkeys(feed_ids):
        feed = session.get(Feed, feed_id)
        if feed is not None and feed.paused:
            since = feed.failing_since or now
            reason = feed.last_error or ""
            failures = feed.consecutive_failures
            paused.append(PausedFeed(feed_id, feed.display_name, failures, since, reason))
    return paused


def _pause_key(feeds: Sequence[PausedFeed], admin: int, part: int) -> str:
    """One key per failing streak and admin, so a repeated report adds nothing."""
    if len(feeds) == 1:
        return f"pause:{feeds[0].id}:{feeds[0].since.isoformat()}:{admin}"
    streaks = ",".join(f"{f.id}:{f.since.isoformat()}" for f in feeds)
    return f"pause:{_digest(streaks)}:{admin}:{part}"


def enqueue_pause_alerts(
    session: Session, feed_ids: Sequence[int], admins: Sequence[int], *, now: datetime
) -> int:
    """Tell each admin once which feeds were paused (one list for the feeds of one report)."""
    feeds = _paused(session, feed_ids, now)
    if not feeds:
        return 0
    messages = []
    for admin in admins:
        texts = pause_alerts(feeds, now=now, lang=admin_lang(session, admin))
        messages += [
            outbox.NewMessage(
                admin, ALERT_KIND, _pause_key(feeds, admin, part), text, priority=ALERT_PRIORITY
            )
            for part, text in enumerate(texts)
        ]
    return outbox.enqueue(session, messages, now=now)


def enqueue_move_alerts(
    session: Session, moves: Sequence[tuple[int, str]], admins: Sequence[int], *, now: datetime
) -> int:
    """Tell each admin once that a feed moved to a new address (feed id, new URL)."""
    messages = []
    for feed_id, url in moves:
        feed = session.get(Feed, feed_id)
        if feed is None:
            continue
        moved = MovedFeed(feed_id, feed.display_name, url, followed=feed.url == url)
        digest = _digest(url)
        for admin in admins:
            text = move_alert(moved, lang=admin_lang(session, admin))
            key = f"moved:{feed_id}:{digest}:{admin}"
            messages.append(
                outbox.NewMessage(admin, ALERT_KIND, key, text, priority=ALERT_PRIORITY)
            )
    return outbox.enqueue(session, messages, now=now)
