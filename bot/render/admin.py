"""Admin texts (Telegram HTML) from the plain data the admin use cases return. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.admin.results import (
    AuditLine,
    FeedChange,
    FeedLine,
    ImportReport,
    PausedFeed,
    Progress,
    Stats,
    Tap,
    TooLong,
)
from bot.ingest.topics import Topic
from bot.render import texts, tghtml
from bot.render.stories import format_age

# ---------------------------------------------------------------- shared


def when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({format_age(moment, now)})"


def chats(count: int) -> str:
    return f"{count} chat" if count == 1 else f"{count} chats"


def duration(seconds: float) -> str:
    """Coarse durations: "4 s", "2 min 5 s", "1 h 3 min"."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def private_only(command: str) -> str:
    return texts.ADMIN_PRIVATE_ONLY.format(command=tghtml.escape(command))


# ---------------------------------------------------------------- broadcast


def too_long(problem: TooLong) -> str:
    return texts.BROADCAST_TOO_LONG.format(length=problem.length, limit=problem.limit)


def scope(topic_name: str | None) -> str:
    """Who a broadcast goes to, in words."""
    if topic_name:
        return texts.BROADCAST_SCOPE_TOPIC.format(topic=tghtml.escape(topic_name))
    return texts.BROADCAST_SCOPE_ALL


def nobody(topic_name: str | None) -> str:
    return texts.BROADCAST_NOBODY.format(scope=scope(topic_name))


def preview(audience: int, topic_name: str | None) -> str:
    return texts.BROADCAST_PREVIEW.format(audience=chats(audience), scope=scope(topic_name))


def send_button(audience: int) -> str:
    return texts.BROADCAST_SEND_BUTTON.format(audience=chats(audience))


def broadcast_status(
    broadcast_id: int,
    done: Progress,
    *,
    started: datetime | None,
    now: datetime,
    per_second: float,
) -> str:
    """The status message: progress with the time left, or the final report."""
    fields = {
        "id": broadcast_id,
        "sent": done.sent,
        "total": done.total,
        "blocked": done.blocked,
        "failed": done.failed,
    }
    if done.waiting == 0:
        took = (now - started).total_seconds() if started else 0.0
        return texts.BROADCAST_REPORT.format(took=duration(took), **fields)
    left = duration(done.waiting / per_second) if per_second > 0 else "unknown"
    return texts.BROADCAST_PROGRESS.format(left=left, **fields)


def tap_reply(tap: Tap, *, now: datetime, per_second: float) -> tuple[str | None, str | None]:
    """(button answer, new control text) after a tap; None: say nothing / leave it."""
    if tap.kind == "queued":
        status = broadcast_status(
            tap.broadcast_id,
            Progress(waiting=tap.total),
            started=now,
            now=now,
            per_second=per_second,
        )
        return texts.BROADCAST_QUEUED.format(id=tap.broadcast_id), status
    if tap.kind == "cancelled":
        return None, texts.BROADCAST_CANCELLED.format(id=tap.broadcast_id)
    return texts.BROADCAST_ALREADY.format(id=tap.broadcast_id, status=tap.status), None


# ---------------------------------------------------------------- feeds


def _state(line: FeedLine, now: datetime) -> str:
    reason = tghtml.escape(line.last_error or "unknown error")
    since = when(line.failing_since, now)
    if line.paused:
        return texts.FEED_STATE_PAUSED.format(since=since, reason=reason, id=line.id)
    if line.failing_since is not None:
        return texts.FEED_STATE_FAILING.format(since=since, reason=reason)
    return texts.FEED_STATE_OK


def feed_list(lines: Sequence[FeedLine], *, now: datetime) -> list[str]:
    """HTML blocks for /feeds: a header and one block per feed."""
    if not lines:
        return [texts.FEEDS_NONE]
    blocks = [texts.FEEDS_HEADER.format(count=len(lines))]
    for line in lines:
        blocks.append(
            texts.FEED_LINE.format(
                id=line.id,
                name=tghtml.escape(line.name),
                url=tghtml.escape(line.url),
                topics=tghtml.escape(", ".join(line.topics) or "—"),
                last=when(line.last_success_at, now),
                stories=line.entries_24h,
                state=_state(line, now),
            )
        )
    return blocks


def feed_change(change: FeedChange) -> str:
    """The answer to /addfeed, /removefeed or /resumefeed."""
    name, url, feed_id = tghtml.escape(change.name), tghtml.escape(change.url), change.feed_id
    match change.kind:
        case "unusable":
            return texts.FEED_UNUSABLE.format(url=url, reason=tghtml.escape(change.reason))
        case "duplicate":
            return texts.FEED_DUPLICATE.format(id=feed_id, name=name)
        case "duplicate_final":
            return texts.FEED_DUPLICATE_FINAL.format(final=url, id=feed_id, name=name)
        case "added" | "readded":
            template = texts.FEED_ADDED if change.kind == "added" else texts.FEED_READDED
            topics = tghtml.escape(", ".join(change.topics) or "none")
            return template.format(id=feed_id, title=name, items=change.items, topics=topics)
        case "not_found":
            return texts.FEED_NOT_FOUND.format(id=feed_id)
        case "already_removed":
            return texts.FEED_ALREADY_REMOVED.format(id=feed_id)
        case "removed":
            reply = texts.FEED_REMOVED.format(id=feed_id, name=name)
            return reply + (texts.FEED_REMOVED_CONFIG if change.from_config else "")
        case "resumed":
            return texts.FEED_RESUMED.format(id=feed_id, name=name)
        case "not_paused":
            return texts.FEED_NOT_PAUSED.format(id=feed_id, name=name)


def pause_alert(feed: PausedFeed, *, now: datetime) -> str:
    return texts.FEED_PAUSED_ALERT.format(
        id=feed.id,
        name=tghtml.escape(feed.name),
        failures=feed.failures,
        since=when(feed.since, now),
        reason=tghtml.escape(feed.reason or "unknown error"),
    )


def opml_imported(report: ImportReport) -> str:
    return texts.OPML_IMPORTED.format(
        added=report.added, present=report.present, invalid=report.invalid
    )


def opml_refused(reason: str) -> str:
    return texts.OPML_REFUSED.format(reason=tghtml.escape(reason))


# ---------------------------------------------------------------- stats, audit, alerts


def stats(numbers: Stats, topics: Sequence[Topic]) -> str:
    """The /stats text."""
    names = {t.slug: t.name for t in topics}
    slugs = [t.slug for t in topics] + sorted(set(numbers.subscribers) - set(names))
    per_topic = ", ".join(
        f"{tghtml.escape(names.get(s, s))} {numbers.subscribers.get(s, 0)}" for s in slugs
    )
    return texts.STATS.format(
        active=numbers.active,
        inactive=numbers.inactive,
        blocked=numbers.unreachable,
        stopped=numbers.stopped,
        topics=per_topic or "—",
        stories=numbers.stories,
        merged=numbers.merged,
        sent=numbers.sent,
        failed=numbers.failed,
        cancelled=numbers.cancelled,
        feeds=numbers.feeds,
        failing=numbers.failing,
        paused=numbers.paused,
    )


def audit_log(entries: Sequence[AuditLine]) -> list[str]:
    """HTML blocks for /audit: a header, then one line per entry."""
    if not entries:
        return [texts.AUDIT_NONE]
    lines = [
        texts.AUDIT_LINE.format(
            when=f"{e.when:%Y-%m-%d %H:%M} UTC",
            who=tghtml.escape(e.who),
            action=tghtml.escape(e.action),
            detail=tghtml.escape(e.detail),
        )
        for e in entries
    ]
    return [texts.AUDIT_HEADER.format(count=len(entries)), "\n".join(lines)]


def error_alert(kind: str, where: str, message: str) -> str:
    """The message admins get for an unhandled error."""
    return texts.ERROR_ALERT.format(
        kind=tghtml.escape(kind),
        where=tghtml.escape(where),
        message=tghtml.code(message),
    )
