"""Admin texts (Telegram HTML) from the plain data the admin use cases return. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from bot.admin.results import (
    AuditLine,
    FeedChange,
    FeedLine,
    ImportReport,
    MovedFeed,
    PausedFeed,
    Progress,
    Stats,
    Tap,
    TooLong,
)
from bot.ingest.topics import Topic
from bot.render import texts, tghtml
from bot.render.i18n import EN, Lang
from bot.render.stories import format_age

# ---------------------------------------------------------------- shared


def when(moment: datetime | None, now: datetime, lang: Lang = EN) -> str:
    if moment is None:
        return lang(texts.NEVER)
    return f"{moment:%Y-%m-%d %H:%M} UTC ({format_age(moment, now, lang)})"


def chats(count: int, lang: Lang = EN) -> str:
    return lang.plural(texts.CHATS, count)


def duration(seconds: float, lang: Lang = EN) -> str:
    """Coarse durations: "4 s", "2 min 5 s", "1 h 3 min"."""
    whole = max(0, round(seconds))
    if whole < 60:
        return lang(texts.DURATION_S, s=whole)
    if whole < 3600:
        return lang(texts.DURATION_MIN_S, min=whole // 60, s=whole % 60)
    return lang(texts.DURATION_H_MIN, h=whole // 3600, min=whole % 3600 // 60)


def private_only(command: str, lang: Lang = EN) -> str:
    return lang(texts.ADMIN_PRIVATE_ONLY, command=tghtml.escape(command))


# ---------------------------------------------------------------- broadcast


def too_long(problem: TooLong, lang: Lang = EN) -> str:
    return lang(texts.BROADCAST_TOO_LONG, length=problem.length, limit=problem.limit)


def scope(topic_name: str | None, lang: Lang = EN) -> str:
    """Who a broadcast goes to, in words."""
    if topic_name:
        return lang(texts.BROADCAST_SCOPE_TOPIC, topic=tghtml.escape(topic_name))
    return lang(texts.BROADCAST_SCOPE_ALL)


def nobody(topic_name: str | None, lang: Lang = EN) -> str:
    return lang(texts.BROADCAST_NOBODY, scope=scope(topic_name, lang))


def preview(audience: int, topic_name: str | None, lang: Lang = EN) -> str:
    return lang(
        texts.BROADCAST_PREVIEW, audience=chats(audience, lang), scope=scope(topic_name, lang)
    )


def send_button(audience: int, lang: Lang = EN) -> str:
    return lang(texts.BROADCAST_SEND_BUTTON, audience=chats(audience, lang))


def broadcast_status(
    broadcast_id: int,
    done: Progress,
    *,
    started: datetime | None,
    now: datetime,
    per_second: float,
    lang: Lang = EN,
    reasons: Sequence[tuple[str, int]] = (),
    waits_until: datetime | None = None,
) -> str:
    """The status message: progress with the time left, or the final report (with the most
    common `reasons` chats did not get it: Telegram's answer, how many chats)."""
    fields = {
        "id": broadcast_id,
        "sent": done.sent,
        "total": done.total,
        "blocked": done.blocked,
        "failed": done.failed,
    }
    if done.waiting == 0:
        took = (now - started).total_seconds() if started else 0.0
        report = lang(texts.BROADCAST_REPORT, took=duration(took, lang), **fields)
        if not reasons:
            return report
        why = "; ".join(
            f"{tghtml.escape(_reason(text, lang))} ({count})" for text, count in reasons
        )
        return report + "\n" + lang(texts.BROADCAST_NOT_DELIVERED, reasons=why)
    if per_second <= 0:
        return lang(texts.BROADCAST_PROGRESS, left=lang(texts.UNKNOWN), **fields)
    # At the sending rate, unless a flood hold keeps a chat (or everyone) waiting longer.
    held = (waits_until - now).total_seconds() if waits_until is not None else 0.0
    left = duration(max(done.waiting / per_second, held), lang)
    return lang(texts.BROADCAST_PROGRESS, left=left, **fields)


REASON_SHOWN = 120  # characters of one reason in a broadcast report


_ERROR_CLASS = re.compile(r"^(?:forbidden|bad request):\s*", re.IGNORECASE)


def _reason(text: str, lang: Lang) -> str:
    """Telegram's answer as one phrase: "Forbidden: bot was blocked by the user" and
    "Chat not found" (python-telegram-bot drops some prefixes) both read alike."""
    text = _ERROR_CLASS.sub("", " ".join(text.split()))
    text = text[:1].lower() + text[1:] if text else lang(texts.UNKNOWN_ERROR)
    return text if len(text) <= REASON_SHOWN else text[:REASON_SHOWN] + "…"


def tap_reply(
    tap: Tap, *, now: datetime, per_second: float, lang: Lang = EN
) -> tuple[str | None, str | None]:
    """(button answer, new control text) after a tap; None: say nothing / leave it."""
    if tap.kind == "queued":
        status = broadcast_status(
            tap.broadcast_id,
            Progress(waiting=tap.total),
            started=now,
            now=now,
            per_second=per_second,
            lang=lang,
        )
        return lang(texts.BROADCAST_QUEUED, id=tap.broadcast_id), status
    if tap.kind == "cancelled":
        return None, lang(texts.BROADCAST_CANCELLED, id=tap.broadcast_id)
    return lang(_too_late(tap), id=tap.broadcast_id), None


def _too_late(tap: Tap) -> str:
    """Why a tap did nothing, by what the broadcast is now and which button it was."""
    if tap.status == "cancelled":
        return texts.BROADCAST_CANCELLED
    if tap.status == "done":
        return (
            texts.BROADCAST_ALREADY_SENT if tap.confirming else texts.BROADCAST_SENT_NOT_CANCELLED
        )
    if tap.status == "confirmed":
        return (
            texts.BROADCAST_ALREADY_SENDING
            if tap.confirming
            else texts.BROADCAST_TOO_LATE_TO_CANCEL
        )
    return texts.BROADCAST_GONE


# ---------------------------------------------------------------- feeds


def _state(line: FeedLine, now: datetime, lang: Lang) -> str:
    reason = tghtml.escape(lang(line.last_error or texts.UNKNOWN_ERROR))
    since = when(line.failing_since, now, lang)
    if line.paused:
        return lang(texts.FEED_STATE_PAUSED, since=since, reason=reason, id=line.id)
    if line.failing_since is not None:
        return lang(texts.FEED_STATE_FAILING, since=since, reason=reason)
    return lang(texts.FEED_STATE_OK)


def feed_list(lines: Sequence[FeedLine], *, now: datetime, lang: Lang = EN) -> list[str]:
    """HTML blocks for /feeds: a header and one block per feed."""
    if not lines:
        return [lang(texts.FEEDS_NONE)]
    blocks = [lang(texts.FEEDS_HEADER, count=len(lines))]
    for line in lines:
        blocks.append(
            lang(
                texts.FEED_LINE,
                id=line.id,
                name=tghtml.escape(line.name),
                url=tghtml.escape(line.url),
                topics=tghtml.escape(", ".join(line.topics) or "—"),
                last=when(line.last_success_at, now, lang),
                stories=line.entries_24h,
                state=_state(line, now, lang),
            )
        )
    return blocks


# An address as typed is shown back at most this long: an answer must fit one message.
URL_SHOWN = 300


def _shown(url: str) -> str:
    return url if len(url) <= URL_SHOWN else url[:URL_SHOWN] + "…"


def _found_on(change: FeedChange, lang: Lang) -> str:
    """Where a feed came from when the admin gave a web page that names it."""
    if not change.found_on:
        return ""
    page, url = (tghtml.escape(_shown(u)) for u in (change.found_on, change.url))
    return "\n" + lang(texts.FEED_FOUND_ON, page=page, url=url)


def _topics(change: FeedChange, lang: Lang, *, old: bool = False) -> str:
    slugs = change.old_topics if old else change.topics
    return tghtml.escape(", ".join(slugs) or lang(texts.NONE))


def _other_topics(change: FeedChange, lang: Lang) -> str:
    """For /addfeed of a feed that is there: how to file it under the topics it named."""
    if not change.topics or set(change.topics) == set(change.old_topics):
        return ""
    asked = tghtml.escape(" ".join(change.topics))
    return lang(
        texts.FEED_DUPLICATE_TOPICS,
        id=change.feed_id,
        have=_topics(change, lang, old=True),
        asked=asked,
    )


def feed_change(change: FeedChange, lang: Lang = EN) -> str:
    """The answer to /addfeed, /removefeed, /resumefeed or /feedtopics."""
    name, url, feed_id = (
        tghtml.escape(change.name),
        tghtml.escape(_shown(change.url)),
        change.feed_id,
    )
    match change.kind:
        case "unusable":
            return lang(texts.FEED_UNUSABLE, url=url, reason=tghtml.escape(lang(change.reason)))
        case "duplicate":
            reply = lang(texts.FEED_DUPLICATE, id=feed_id, name=name)
            return reply + _other_topics(change, lang)
        case "duplicate_final":
            reply = lang(texts.FEED_DUPLICATE_FINAL, final=url, id=feed_id, name=name)
            return reply + _other_topics(change, lang)
        case "added" | "readded":
            template = texts.FEED_ADDED if change.kind == "added" else texts.FEED_READDED
            items = lang.plural(texts.FEED_ITEMS, change.items)
            reply = lang(
                template, id=feed_id, title=name, items=items, topics=_topics(change, lang)
            )
            note = "" if change.topics else lang(texts.FEED_NO_TOPICS_NOTE, id=feed_id)
            return reply + note + _found_on(change, lang)
        case "topics_set":
            old = _topics(change, lang, old=True)
            reply = lang(
                texts.FEED_TOPICS_SET, id=feed_id, name=name, topics=_topics(change, lang), old=old
            )
            if change.items:
                reply += lang.plural(texts.FEED_TOPICS_REFILED, change.items)
            return reply + ("" if change.topics else lang(texts.FEED_NO_TOPICS_NOTE, id=feed_id))
        case "topics_shown":
            return lang(
                texts.FEED_TOPICS_SHOWN, id=feed_id, name=name, topics=_topics(change, lang)
            )
        case "config_topics":
            return lang(
                texts.FEED_TOPICS_CONFIG, id=feed_id, name=name, topics=_topics(change, lang)
            )
        case "not_found":
            return lang(texts.FEED_NOT_FOUND, id=feed_id)
        case "already_removed":
            return lang(texts.FEED_ALREADY_REMOVED, id=feed_id)
        case "removed":
            reply = lang(texts.FEED_REMOVED, id=feed_id, name=name)
            return reply + (lang(texts.FEED_REMOVED_CONFIG) if change.from_config else "")
        case "removed_earlier":
            # With its topics: /addfeed gives a feed the topics it names, none if it names none.
            args = " ".join((change.url, *change.topics))
            return lang(texts.FEED_RESUME_REMOVED, id=feed_id, name=name, args=tghtml.escape(args))
        case "resumed":
            return lang(texts.FEED_RESUMED, id=feed_id, name=name)
        case "not_paused":
            return lang(texts.FEED_NOT_PAUSED, id=feed_id, name=name)


def pause_alert(feed: PausedFeed, *, now: datetime, lang: Lang = EN) -> str:
    return lang.plural(
        texts.FEED_PAUSED_ALERT,
        feed.failures,
        id=feed.id,
        name=tghtml.escape(feed.name),
        since=when(feed.since, now, lang),
        reason=tghtml.escape(lang(feed.reason or texts.UNKNOWN_ERROR)),
    )


def pause_alerts(feeds: Sequence[PausedFeed], *, now: datetime, lang: Lang = EN) -> list[str]:
    """The messages telling an admin about feeds paused together: one, or a list in parts."""
    if len(feeds) == 1:
        return [pause_alert(feeds[0], now=now, lang=lang)]
    lines = [
        lang(
            texts.FEED_PAUSED_LINE,
            id=feed.id,
            name=tghtml.escape(feed.name),
            since=when(feed.since, now, lang),
            reason=tghtml.escape(lang(feed.reason or texts.UNKNOWN_ERROR)),
        )
        for feed in feeds
    ]
    return tghtml.split_html_message(
        [lang.plural(texts.FEED_PAUSED_MANY_ALERT, len(feeds)), *lines]
    )


def move_alert(feed: MovedFeed, *, lang: Lang = EN) -> str:
    template = texts.FEED_MOVED_ALERT if feed.followed else texts.FEED_MOVED_KEPT_ALERT
    return lang(
        template, id=feed.id, name=tghtml.escape(feed.name), url=tghtml.escape(_shown(feed.url))
    )


def move_alerts(feeds: Sequence[MovedFeed], *, lang: Lang = EN) -> list[str]:
    """The messages telling an admin about feeds that moved together: one, or a list in parts."""
    if len(feeds) == 1:
        return [move_alert(feeds[0], lang=lang)]
    lines = [
        lang(
            texts.FEED_MOVED_LINE if feed.followed else texts.FEED_MOVED_KEPT_LINE,
            id=feed.id,
            name=tghtml.escape(feed.name),
            url=tghtml.escape(_shown(feed.url)),
        )
        for feed in feeds
    ]
    return tghtml.split_html_message([lang.plural(texts.FEED_MOVED_MANY_ALERT, len(feeds)), *lines])


def opml_imported(report: ImportReport, lang: Lang = EN) -> str:
    return lang(
        texts.OPML_IMPORTED, added=report.added, present=report.present, invalid=report.invalid
    )


def opml_refused(reason: str, lang: Lang = EN) -> str:
    return lang(texts.OPML_REFUSED, reason=tghtml.escape(reason))


# ---------------------------------------------------------------- stats, audit, alerts


def stats(numbers: Stats, topics: Sequence[Topic], lang: Lang = EN) -> str:
    """The /stats text."""
    names = {t.slug: t.name for t in topics}
    slugs = [t.slug for t in topics] + sorted(set(numbers.subscribers) - set(names))
    per_topic = ", ".join(
        f"{tghtml.escape(names.get(s, s))} {numbers.subscribers.get(s, 0)}" for s in slugs
    )
    return lang(
        texts.STATS,
        active=numbers.active,
        inactive=numbers.inactive,
        blocked=numbers.unreachable,
        stopped=numbers.stopped,
        topics=per_topic or "—",
        stories=lang.plural(texts.STATS_STORIES, numbers.stories),
        merged=lang.plural(texts.STATS_MERGED, numbers.merged),
        sent=numbers.sent,
        failed=numbers.failed,
        cancelled=numbers.cancelled,
        feeds=numbers.feeds,
        fine=numbers.fine,
        failing=numbers.failing,
        paused=numbers.paused,
    )


def audit_log(entries: Sequence[AuditLine], lang: Lang = EN) -> list[str]:
    """HTML blocks for /audit: a header, then one line per entry."""
    if not entries:
        return [lang(texts.AUDIT_NONE)]
    lines = [
        lang(
            texts.AUDIT_LINE,
            when=f"{e.when:%Y-%m-%d %H:%M} UTC",
            who=tghtml.escape(e.who),
            action=tghtml.escape(e.action),
            detail=tghtml.escape(e.detail),
        )
        for e in entries
    ]
    return [lang(texts.AUDIT_HEADER, count=len(entries)), "\n".join(lines)]


def error_alert(kind: str, where: str, message: str, lang: Lang = EN) -> str:
    """The message admins get for an unhandled error."""
    return lang(
        texts.ERROR_ALERT,
        kind=tghtml.escape(kind),
        where=tghtml.escape(where),
        message=tghtml.code(message),
    )
