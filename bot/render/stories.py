"""Compose Telegram-HTML headline lists (for /latest, briefings, previews) — pure.

Every text from a feed goes through `bot.render.tghtml`; every message stays within
Telegram's 4096-character limit, and each carries the full-text buttons of
exactly the stories it lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.delivery.message import Button, OutMessage
from bot.render import tghtml

MESSAGE_LIMIT = 4096
BUTTONS_PER_ROW = 5
FULLTEXT_PREFIX = "ft:"


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


def fulltext_callback(story_id: int) -> str:
    """Callback data for a story's full-text button: short and opaque, never a URL."""
    return f"{FULLTEXT_PREFIX}{story_id}"


def parse_fulltext_callback(data: str) -> int | None:
    """Return the story id in full-text callback data, or None when it is not one."""
    if not data.startswith(FULLTEXT_PREFIX):
        return None
    rest = data[len(FULLTEXT_PREFIX) :]
    return int(rest) if rest.isdigit() and len(rest) <= 18 else None


def format_age(published_at: datetime, now: datetime) -> str:
    """Say how long ago, coarsely: "just now", "12 min ago", "3 h ago", "2 d ago"."""
    seconds = max(0, int((now - published_at).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def _also(others: Sequence[str], limit: int = 4) -> str:
    names = list(dict.fromkeys(o for o in others if o))
    if not names:
        return ""
    shown = ", ".join(names[:limit])
    extra = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f" · also {shown}{extra}"


def format_item(number: int, story: StoryView, *, now: datetime) -> str:
    """One numbered headline: linked title, then source, age and other outlets."""
    title = tghtml.truncate_plain(story.title, 300)
    headline = tghtml.link(title, story.link) if story.link else tghtml.escape(title)
    meta = f"{story.source} · {format_age(story.published_at, now)}{_also(story.other_sources)}"
    return f"{number}. {tghtml.bold_html(headline)}\n{tghtml.italic(meta)}"


def _keyboard(numbers_ids: Sequence[tuple[int, int]]) -> tuple[tuple[Button, ...], ...]:
    buttons = [Button(f"📖 {n}", fulltext_callback(sid)) for n, sid in numbers_ids]
    return tuple(
        tuple(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW)
    )


def compose_story_list(
    stories: Sequence[StoryView], *, header_html: str, now: datetime, footer_html: str = ""
) -> list[OutMessage]:
    """Lay stories out as numbered headlines under a header, split to fit Telegram."""
    messages: list[OutMessage] = []
    blocks: list[str] = [header_html] if header_html else []
    length = tghtml.visible_length(header_html) if header_html else 0
    ids: list[tuple[int, int]] = []
    for number, story in enumerate(stories, start=1):
        item = format_item(number, story, now=now)
        item_length = tghtml.visible_length(item)
        # Blocks are joined by a blank line: two visible characters each.
        if blocks and length + 2 + item_length > MESSAGE_LIMIT - 200:
            messages.append(OutMessage("\n\n".join(blocks), _keyboard(ids)))
            blocks, ids, length = [], [], -2
        blocks.append(item)
        length += 2 + item_length
        ids.append((number, story.id))
    if footer_html:
        blocks.append(footer_html)
    if blocks:
        messages.append(OutMessage("\n\n".join(blocks), _keyboard(ids)))
    return messages


def latest_header(topic_names: str, count: int) -> str:
    """Header of a /latest answer."""
    noun = "story" if count == 1 else "stories"
    return tghtml.bold(f"Latest {count} {noun} · {topic_names}")
