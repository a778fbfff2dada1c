"""Compose Telegram-HTML headline lists (for /latest, briefings, previews) — pure.

Every text from a feed goes through `bot.render.tghtml`; every message stays within
Telegram's message length limit, and each carries the full-text buttons of
exactly the stories it lists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from telegram.constants import InlineKeyboardMarkupLimit

from bot.delivery.message import Button, OutMessage
from bot.render import plain, texts, tghtml
from bot.render.i18n import EN, Lang
from bot.render.numbers import parse_ascii_int

# Five 📖 buttons fit a phone screen (Telegram allows InlineKeyboardMarkupLimit.BUTTONS_PER_ROW).
BUTTONS_PER_ROW = 5
TITLE_LIMIT = 300  # a headline is a line or two, never most of a message
FULLTEXT_PREFIX = "ft:"
READ_ON_DIGITS = 4  # a "Read on" button's first message: ft:<story>:<message>


@dataclass(frozen=True)
class StoryView:
    """A story as lists show it: one headline, its outlets, its age."""

    id: int
    title: str
    link: str | None
    source: str
    published_at: datetime
    other_sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    summary: str = ""  # plain text from the feed (never translated)
    image_url: str | None = None  # the feed's own http(s) image, checked at ingest


@dataclass(frozen=True)
class ListStyle:
    """How a chat wants its lists: language, one-line summaries under headlines."""

    lang: Lang = EN
    summaries: bool = False


def fulltext_callback(story_id: int, start: int = 0) -> str:
    """Callback data for a story's full-text button: short and opaque, never a URL.

    `start` is the first message of text to show: a "Read on" button's.
    """
    return f"{FULLTEXT_PREFIX}{story_id}" + (f":{start}" if start else "")


def parse_fulltext_tap(data: str) -> tuple[int, int] | None:
    """Return (story id, first message) in full-text callback data, or None."""
    if not data.startswith(FULLTEXT_PREFIX):
        return None
    story, colon, start = data[len(FULLTEXT_PREFIX) :].partition(":")
    story_id = parse_ascii_int(story)
    if story_id is None or not colon:
        return None if story_id is None else (story_id, 0)
    at = parse_ascii_int(start, max_digits=READ_ON_DIGITS)
    return None if not at else (story_id, at)


def parse_fulltext_callback(data: str) -> int | None:
    """Return the story id in full-text callback data, or None when it is not one."""
    tap = parse_fulltext_tap(data)
    return tap[0] if tap else None


def format_age(published_at: datetime, now: datetime, lang: Lang = EN) -> str:
    """Say how long ago, coarsely: "just now", "12 min. ago", "vor 3 Std."."""
    return lang.age(now - published_at)


def _also(others: Sequence[str], lang: Lang, limit: int = 4) -> str:
    names = list(dict.fromkeys(o for o in others if o))
    if not names:
        return ""
    shown = ", ".join(names[:limit])
    extra = lang(texts.MORE, count=len(names) - limit) if len(names) > limit else ""
    return lang(texts.ALSO, names=shown + extra)


SUMMARY_LIMIT = 200  # one line on a phone, two at most


def format_item(
    number: int, story: StoryView, *, now: datetime, style: ListStyle = ListStyle()
) -> str:
    """One numbered headline: linked title, then source, age and other outlets (and summary)."""
    lang = style.lang
    title = plain.truncate(story.title.strip(), TITLE_LIMIT)
    headline = tghtml.link(title, story.link) if story.link else tghtml.escape(title)
    age = format_age(story.published_at, now, lang)
    meta = f"{story.source} · {age}{_also(story.other_sources, lang)}"
    item = f"{number}. {tghtml.bold_html(headline)}\n{tghtml.italic(meta)}"
    summary = plain.truncate(_beyond(" ".join(story.summary.split()), title), SUMMARY_LIMIT)
    if style.summaries and summary and summary != title:
        item += "\n" + tghtml.escape(summary)
    return item


# What separates a headline from the text after it: spaces, and punctuation before a space.
_JOINER = re.compile(r"\s*(?:[.,:;|–—-]+(?=\s|$))?\s*")


def _beyond(summary: str, title: str) -> str:
    """The summary after the headline it opens with, if it does.

    A post without a title takes its first sentence as its headline, and many feeds
    open the description with the headline: shown whole, it read twice in a row.
    """
    rest = summary[len(title) :] if title and summary.startswith(title) else None
    if rest is None or (rest and rest[0].isalnum()):  # none, or only a word's beginning
        return summary
    joiner = _JOINER.match(rest)
    return rest[joiner.end() :] if joiner else rest


def _keyboard(numbers_ids: Sequence[tuple[int, int]]) -> tuple[tuple[Button, ...], ...]:
    buttons = [Button(f"📖 {n}", fulltext_callback(sid)) for n, sid in numbers_ids]
    return tuple(
        tuple(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW)
    )


def compose_story_list(
    stories: Sequence[StoryView],
    *,
    header_html: str,
    now: datetime,
    footer_html: str = "",
    style: ListStyle = ListStyle(),
) -> list[OutMessage]:
    """Lay stories out as numbered headlines under a header, split to fit Telegram.

    Text is packed to Telegram's message limit by `tghtml.pack_messages` (the
    header and footer are blocks like the items); the keyboard budget is one
    full-text button per item, at most Telegram's buttons per message.
    """
    blocks: list[tuple[str, int | None]] = [(header_html, None)] if header_html else []
    blocks += [
        (format_item(n, story, now=now, style=style), n) for n, story in enumerate(stories, start=1)
    ]
    if footer_html:
        blocks.append((footer_html, None))
    ids = {n: story.id for n, story in enumerate(stories, start=1)}
    packed = tghtml.pack_messages(blocks, max_keys=InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER)
    return [OutMessage(m.html, _keyboard([(n, ids[n]) for n in m.keys])) for m in packed]


def latest_header(topic_names: str, count: int, lang: Lang = EN) -> str:
    """Header of a /latest answer (and of the CLI preview); "" names all topics."""
    scope = topic_names or lang(texts.ALL_TOPICS)
    return tghtml.bold(lang.plural(texts.LATEST_HEADER, count, scope=scope))
