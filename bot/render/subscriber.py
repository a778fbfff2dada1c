"""Texts and keyboards of the subscriber commands, from the use cases' plain results (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.delivery.message import Button, OutMessage
from bot.ingest.topics import Topic
from bot.render import texts, tghtml
from bot.render.stories import compose_story_list, latest_header
from bot.services.lookup import UnknownName
from bot.services.subscriber import LatestResult, ScheduleView

TOPIC_PREFIX = "tp:"


def picker_markup(topics: Sequence[Topic], subscribed: Iterable[str]) -> list[list[Button]]:
    """Two topic buttons a row; ✅ marks the followed ones."""
    followed = set(subscribed)
    rows: list[list[Button]] = []
    for i, topic in enumerate(topics):
        mark = "✅ " if topic.slug in followed else ""
        button = Button(f"{mark}{topic.name}", f"{TOPIC_PREFIX}{topic.slug}")
        if i % 2 == 0:
            rows.append([button])
        else:
            rows[-1].append(button)
    return rows


def picker_text(intro: str, topics: Sequence[Topic]) -> str:
    if not topics:
        return f"{intro}\n\n{texts.NO_TOPICS_CONFIGURED}"
    return f"{intro}\n\n{texts.PICKER}"


def toggle_answer(on: bool, topic: Topic) -> str:
    return ("✅ " if on else "Removed ") + topic.name


def topic_names(slugs: Iterable[str], topics: Sequence[Topic]) -> str:
    by_slug = {t.slug: t.name for t in topics}
    return ", ".join(tghtml.escape(by_slug.get(s, s)) for s in sorted(slugs))


def unknown_topic_text(unknown: UnknownName, topics: Sequence[Topic]) -> str:
    text = texts.UNKNOWN_TOPIC.format(name=tghtml.escape(unknown.name[:64]))
    if unknown.suggestions:
        text += texts.DID_YOU_MEAN.format(
            suggestions=" or ".join(f"“{tghtml.escape(s)}”" for s in unknown.suggestions)
        )
    return (
        text + "\n" + texts.TOPIC_LIST.format(topics=topic_names([t.slug for t in topics], topics))
    )


def change_text(
    *,
    subscribe: bool,
    everything: bool,
    asked: Sequence[str],
    changed: Iterable[str],
    topics: Sequence[Topic],
) -> str:
    """The answer to /subscribe or /unsubscribe, from what actually changed."""
    changed = list(changed)
    if not changed and not everything:
        verb = "are followed" if subscribe else "are not followed"
        return texts.ALREADY.format(names=topic_names(asked, topics), verb=verb)
    if subscribe:
        return texts.SUBSCRIBED.format(names=topic_names(changed, topics))
    if everything:
        return texts.UNSUBSCRIBED_ALL.format(names=topic_names(changed, topics))
    return texts.UNSUBSCRIBED.format(names=topic_names(changed, topics))


def next_time(view: ScheduleView) -> str:
    """The next briefing in the chat's own zone, or a dash when none is scheduled."""
    if view.next_at is None or view.mode != "scheduled":
        return "—"
    local = view.next_at.astimezone(ZoneInfo(view.timezone))
    return local.strftime("%a %d %b, %H:%M")


def schedule_set_text(view: ScheduleView) -> str:
    if view.mode == "instant":
        return texts.SCHEDULE_INSTANT
    if view.mode == "off":
        return texts.SCHEDULE_OFF
    return texts.SCHEDULE_SET.format(
        times=tghtml.escape(", ".join(view.times)),
        zone=tghtml.escape(view.timezone),
        next=next_time(view),
    )


def schedule_show_text(view: ScheduleView) -> str:
    times = ", ".join(view.times) if view.mode == "scheduled" else view.mode
    return texts.SCHEDULE_SHOW.format(
        times=tghtml.escape(times), zone=tghtml.escape(view.timezone), next=next_time(view)
    )


def timezone_set_text(view: ScheduleView) -> str:
    return texts.TIMEZONE_SET.format(zone=tghtml.escape(view.timezone), next=next_time(view))


def timezone_unknown_text(name: str, suggestions: Sequence[str]) -> str:
    reply = texts.TIMEZONE_UNKNOWN.format(name=tghtml.escape(name[:64]))
    if suggestions:
        names = " or ".join(tghtml.escape(z) for z in suggestions)
        return reply + texts.DID_YOU_MEAN.format(suggestions=names)
    return reply + texts.TIMEZONE_HINT


def rate_limited_text(wait: float) -> str:
    return texts.RATE_LIMITED.format(seconds=int(wait) + 1)


def latest_messages(result: LatestResult, *, now: datetime) -> list[OutMessage]:
    if not result.stories:
        if result.single_topic:
            return [OutMessage(texts.NOTHING_IN_TOPIC.format(name=tghtml.escape(result.scope)))]
        return [OutMessage(texts.NOTHING_YET)]
    header = latest_header(result.scope, len(result.stories))
    return compose_story_list(result.stories, header_html=header, now=now)
