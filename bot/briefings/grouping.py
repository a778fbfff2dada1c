"""Which due chats share one composed briefing: the grouping key (pure).

Composing is done per group, not per chat: the stories of a group are looked
up once, and chats of a group that get the same stories share one rendered
briefing. `briefing_key` is the ONE place that decides what a group is.

Chats with mute words or keywords (`bot.briefings.filters`) are keyed one per
chat (`filtered_chat`) and selected by `bot.briefings.selection`, the one filter
rule; forum topics only change where the messages go (`DueChat.parent_id`,
`thread_id`), not what they say. A chat's language and display settings
(`bot.briefings.prefs.ChatPrefs`: language, items, summaries, link preview,
lead image, quiet) are in the key whole, so only chats that read and send
alike share messages.

**Extending it** (any other setting that changes what a briefing holds or
how it reads or is sent; a new display setting belongs in `ChatPrefs`): add a
field to `BriefingKey`, fill it in `briefing_key` from the chat (load the setting in
`bot.storage.briefings.lock_due_chats` / `DueChat`, or alongside the
subscriptions), then honour it where the key is used in
`bot.briefings.compose`: `_candidates` (which stories a group may get) or
`Renderer.render` (how its messages read). Two chats with equal keys must be
allowed to receive the very same messages, apart from what each has already
been sent (delivery history is applied per chat after grouping). Leaving a
setting out of the key would send one chat another chat's briefing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.briefings.prefs import ChatPrefs
from bot.briefings.timetable import zone
from bot.storage.briefings import DueChat

LOOKBACK = timedelta(hours=24)
# A scheduled briefing also looks this far back before the last one's time, so that no story
# falls between two briefings: one whose refresh read the clock just before the briefing time
# and committed after the briefing was composed, or one stamped by a host clock that NTP
# stepped back. The delivery records keep what the last briefing sent from coming again.
SEEN_SLACK = timedelta(minutes=15)
# A story published longer ago than this is not news, however recently its feed listed
# it: a feed added with years of archive, or an item back after retention forgot it,
# must not fill briefings (or an instant chat, ten a minute) with old stories.
MAX_STORY_AGE = 2 * LOOKBACK


@dataclass(frozen=True)
class BriefingKey:
    """Everything, besides delivery history, that decides a chat's briefing."""

    topics: tuple[str, ...]  # sorted topic slugs; () means every topic
    seen_since: datetime  # only stories first seen at or after this
    published_since: datetime  # ... and published at or after this (MAX_STORY_AGE)
    local_date: date  # the date line of the header, in the chat's zone
    prefs: ChatPrefs  # language and display settings (frozen, hashable): text and send options
    # A chat with mute words or keywords is a group of its own: its stories come
    # from `bot.briefings.selection` (the one filter rule), not the shared read.
    filtered_chat: int | None = None


def seen_since(chat: DueChat, *, now: datetime) -> datetime:
    """Oldest first-seen time of the stories a chat may get now."""
    if chat.mode == "instant":
        return max(chat.instant_since or now, now - LOOKBACK)
    last = chat.last_briefing_at
    return max(last - SEEN_SLACK if last else now - LOOKBACK, now - 2 * LOOKBACK)


def briefing_key(
    chat: DueChat,
    topics: Iterable[str],
    *,
    now: datetime,
    prefs: ChatPrefs,
    filtered: bool = False,
) -> BriefingKey:
    """The group a due chat's briefing belongs to (see the module doc to extend it)."""
    return BriefingKey(
        topics=tuple(sorted(topics)),
        seen_since=seen_since(chat, now=now),
        published_since=now - MAX_STORY_AGE,
        local_date=now.astimezone(zone(chat.timezone)).date(),
        prefs=prefs,
        filtered_chat=chat.id if filtered else None,
    )


def pick_stories(candidates: Sequence[int], delivered: set[int], limit: int) -> tuple[int, ...]:
    """The first `limit` candidate story ids (newest first) not yet sent to the chat."""
    picked: list[int] = []
    for story_id in candidates:
        if story_id not in delivered:
            picked.append(story_id)
            if len(picked) == limit:
                break
    return tuple(picked)
