"""Alerts about feeds for the admins: paused after failures, moved for good. Queued in the outbox.

Feeds paused by one refresh reach each admin as one list: an OPML import of a
stale list, or one hoster going down, pauses dozens of feeds in the same round.
Feeds that moved in one refresh likewise (a publisher moving its site moves every feed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.admin.results import MovedFeed, PausedFeed
from bot.render.admin import move_alerts, pause_alerts
from bot.render.i18n import Lang, lang
from bot.storage import outbox
from bot.storage.models import Chat, Feed, Outbox

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


# A move alert's dedup key names each feed move it tells of ("moved:<admin>:<id>.<digest>,…"),
# so a move told in one list is not told again when a later refresh reports it with
# others (a feed the config file names keeps its old address: it is reported every round).
_MOVE_DIGEST = 6
_KEY_ROOM = 200 - 12  # Outbox.dedup_key's length, less room for a part number


def _move_token(move: MovedFeed) -> str:
    return f"{move.id}.{_digest(move.url)[:_MOVE_DIGEST]}"


def _told_moves(session: Session, admin: int) -> set[str]:
    """The feed moves this admin's alerts already named (while the outbox keeps them)."""
    prefix = f"moved:{admin}:"
    keys = session.exec(
        select(Outbox.dedup_key).where(
            col(Outbox.chat_id) == admin,
            col(Outbox.kind) == ALERT_KIND,
            col(Outbox.dedup_key).startswith(prefix, autoescape=True),
        )
    ).all()
    return {token for key in keys for token in key.removeprefix(prefix).split(":")[0].split(",")}


def _key_groups(moves: Sequence[MovedFeed], admin: int) -> list[list[MovedFeed]]:
    """The moves in groups whose tokens fit one dedup key (one list each)."""
    room = _KEY_ROOM - len(f"moved:{admin}:")
    groups: list[list[MovedFeed]] = []
    used = room
    for move in moves:
        size = len(_move_token(move)) + 1
        if used + size > room:
            groups.append([])
            used = 0
        groups[-1].append(move)
        used += size
    return groups


def _moved(session: Session, moves: Sequence[tuple[int, str]]) -> list[MovedFeed]:
    found = []
    for feed_id, url in dict.fromkeys(moves):
        feed = session.get(Feed, feed_id)
        if feed is not None:
            found.append(MovedFeed(feed_id, feed.display_name, url, followed=feed.url == url))
    return found


def enqueue_move_alerts(
    session: Session, moves: Sequence[tuple[int, str]], admins: Sequence[int], *, now: datetime
) -> int:
    """Tell each admin once that feeds moved to new addresses ((feed id, new URL) pairs):
    the moves of one report in one list (in parts when long)."""
    moved = _moved(session, moves)
    messages = []
    for admin in admins:
        told = _told_moves(session, admin) if moved else set()
        new = [m for m in moved if _move_token(m) not in told]
        for group in _key_groups(new, admin) if new else []:
            key = f"moved:{admin}:" + ",".join(_move_token(m) for m in group)
            texts = move_alerts(group, lang=admin_lang(session, admin))
            messages += [
                outbox.NewMessage(
                    admin,
                    ALERT_KIND,
                    key if part == 0 else f"{key}:{part}",
                    text,
                    priority=ALERT_PRIORITY,
                )
                for part, text in enumerate(texts)
            ]
    return outbox.enqueue(session, messages, now=now)
