"""Texts and keyboards of the subscriber commands, from the use cases' plain results (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.briefings.timetable import zone
from bot.delivery.message import Button, OutMessage
from bot.ingest.topics import Topic
from bot.render import texts, tghtml
from bot.render.i18n import EN, Lang
from bot.render.stories import ListStyle, compose_story_list, latest_header
from bot.services.lookup import MAX_TIMES, ScheduleUsageError, UnknownName
from bot.services.subscriber import LatestResult, ScheduleView

TOPIC_PREFIX = "tp:"
_ETC_OFFSET = re.compile(r"Etc/GMT([+-]\d{1,2})")


def picker_markup(topics: Sequence[Topic], subscribed: Iterable[str]) -> list[list[Button]]:
    """Two topic buttons a row; ✅ marks the followed ones.

    Each button says what its tap does ("tp:+world" follows, "tp:-world" stops), not
    "flip": a tap on a picker drawn before a `/subscribe`, or the second of a double tap,
    does what the button showed instead of undoing it.
    """
    followed = set(subscribed)
    rows: list[list[Button]] = []
    for i, topic in enumerate(topics):
        on = topic.slug in followed
        mark = "✅ " if on else ""
        button = Button(f"{mark}{topic.name}", topic_callback(topic.slug, follow=not on))
        if i % 2 == 0:
            rows.append([button])
        else:
            rows[-1].append(button)
    return rows


def topic_callback(slug: str, *, follow: bool) -> str:
    """A picker button's data: follow the topic, or stop following it."""
    return f"{TOPIC_PREFIX}{'+' if follow else '-'}{slug}"


def parse_topic_tap(data: str) -> tuple[str, bool | None]:
    """The topic slug a picker tap names, and whether to follow it (True) or stop (False).

    None: "flip", the data of pickers sent before buttons said which (`tp:world`).
    """
    rest = data.removeprefix(TOPIC_PREFIX)
    if rest[:1] in ("+", "-") and len(rest) > 1:
        return rest[1:], rest[0] == "+"
    return rest, None


def picker_text(intro: str, topics: Sequence[Topic], lang: Lang = EN) -> str:
    """The picker's text under an intro that is already translated HTML."""
    if not topics:
        return f"{intro}\n\n{lang(texts.NO_TOPICS_CONFIGURED)}"
    return f"{intro}\n\n{lang(texts.PICKER)}"


def toggle_answer(on: bool, topic: Topic, lang: Lang = EN) -> str:
    """The tap's answer (plain text, not HTML): topic names are config text, untranslated."""
    return "✅ " + topic.name if on else lang(texts.TOPIC_REMOVED, name=topic.name)


def topic_names(slugs: Iterable[str], topics: Sequence[Topic]) -> str:
    by_slug = {t.slug: t.name for t in topics}
    return ", ".join(tghtml.escape(by_slug.get(s, s)) for s in sorted(slugs))


def unknown_topic_text(unknown: UnknownName, topics: Sequence[Topic], lang: Lang = EN) -> str:
    text = lang(texts.UNKNOWN_TOPIC, name=tghtml.escape(unknown.name[:64]))
    if unknown.suggestions:
        names = lang(texts.OR).join(f"“{tghtml.escape(s)}”" for s in unknown.suggestions)
        text += lang(texts.DID_YOU_MEAN, suggestions=names)
    listed = topic_names([t.slug for t in topics], topics)
    return text + "\n" + lang(texts.TOPIC_LIST, topics=listed)


def change_text(
    *,
    subscribe: bool,
    everything: bool,
    asked: Sequence[str],
    changed: Iterable[str],
    topics: Sequence[Topic],
    lang: Lang = EN,
    none_left: bool = False,
) -> str:
    """The answer to /subscribe or /unsubscribe, from what actually changed; `none_left`:
    the chat follows no topic now, which briefings read as every topic."""
    changed = list(changed)
    if not changed and everything:
        return lang(texts.NOTHING_FOLLOWED_AT_ALL)
    if not changed:
        template = texts.NOTHING_FOLLOWED if subscribe else texts.NOTHING_UNFOLLOWED
        return lang(template, names=topic_names(asked, topics))
    if subscribe:
        return lang(texts.SUBSCRIBED, names=topic_names(changed, topics))
    if everything:
        reply = lang(texts.UNSUBSCRIBED_ALL)
    else:
        reply = lang(texts.UNSUBSCRIBED, names=topic_names(changed, topics))
    return reply + (lang(texts.NO_TOPIC_LEFT) if none_left and changed else "")


def zone_label(name: str) -> str:
    """The zone as shown: an Etc/GMT±N zone also says its offset, the reverse of its name's
    sign (Etc/GMT-3 is UTC+03:00), so "GMT+3" typed and Etc/GMT-3 shown do not alarm."""
    offset = _ETC_OFFSET.fullmatch(name)
    if offset is None:
        return tghtml.escape(name)
    return tghtml.escape(f"{name} (UTC{-int(offset[1]):+03d}:00)")


def next_time(view: ScheduleView, lang: Lang = EN) -> str:
    """The next briefing in the chat's own zone, or a dash when none is scheduled."""
    if view.next_at is None or view.mode != "scheduled":
        return "—"
    return tghtml.escape(lang.when(view.next_at.astimezone(zone(view.timezone))))


def schedule_set_text(view: ScheduleView, lang: Lang = EN) -> str:
    if view.mode == "instant":
        return lang(texts.SCHEDULE_INSTANT)
    if view.mode == "off":
        return lang(texts.SCHEDULE_OFF)
    return lang(
        texts.SCHEDULE_SET,
        times=tghtml.escape(", ".join(view.times)),
        zone=zone_label(view.timezone),
        next=next_time(view, lang),
    )


def schedule_show_text(view: ScheduleView, lang: Lang = EN) -> str:
    modes = {"instant": texts.MODE_INSTANT, "off": texts.MODE_OFF}
    times = ", ".join(view.times) if view.mode == "scheduled" else lang(modes[view.mode])
    return lang(
        texts.SCHEDULE_SHOW,
        times=tghtml.escape(times),
        zone=zone_label(view.timezone),
        next=next_time(view, lang),
    )


def schedule_usage_text(error: ScheduleUsageError, lang: Lang = EN) -> str:
    """What was wrong with a /schedule that set nothing, then its usage line."""
    if error.item:
        reason = lang(texts.SCHEDULE_NOT_A_TIME, item=tghtml.escape(error.item[:64]))
    else:
        reason = lang(texts.SCHEDULE_TOO_MANY, count=str(error.count), max=str(MAX_TIMES))
    return f"{reason}\n{texts.usage_line('schedule', lang)}"


def timezone_set_text(view: ScheduleView, lang: Lang = EN) -> str:
    """The new zone, and the next briefing in it when briefings are scheduled."""
    if view.next_at is None or view.mode != "scheduled":
        return lang(texts.TIMEZONE_SET_UNSCHEDULED, zone=zone_label(view.timezone))
    return lang(texts.TIMEZONE_SET, zone=zone_label(view.timezone), next=next_time(view, lang))


def timezone_unknown_text(name: str, suggestions: Sequence[str], lang: Lang = EN) -> str:
    reply = lang(texts.TIMEZONE_UNKNOWN, name=tghtml.escape(name[:64]))
    if suggestions:
        names = lang(texts.OR).join(tghtml.escape(z) for z in suggestions)
        return reply + lang(texts.DID_YOU_MEAN, suggestions=names)
    return reply + lang(texts.TIMEZONE_HINT)


def rate_limited_text(wait: float, lang: Lang = EN) -> str:
    return lang(texts.RATE_LIMITED, seconds=int(wait) + 1)


def latest_messages(result: LatestResult, *, now: datetime, lang: Lang = EN) -> list[OutMessage]:
    if not result.stories:
        if result.all_muted:
            return [OutMessage(lang(texts.NOTHING_BUT_MUTED))]
        if result.single_topic:
            return [OutMessage(lang(texts.NOTHING_IN_TOPIC, name=tghtml.escape(result.scope)))]
        return [OutMessage(lang(texts.NOTHING_YET))]
    header = latest_header(result.scope, len(result.stories), lang)
    return compose_story_list(
        result.stories, header_html=header, now=now, style=ListStyle(lang=lang)
    )
