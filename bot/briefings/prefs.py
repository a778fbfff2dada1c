"""A chat's language and briefing layout: its own choices over the configured defaults (pure).

`ChatPrefs` is everything per chat that changes what a briefing looks like or
how it is sent; it is frozen and hashable, so chats with equal prefs (and
equal topics and stories) compose the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.render.i18n import DEFAULT, supported
from bot.settings import Settings

if TYPE_CHECKING:  # the two sources of a chat's choices; only their prefs columns are read
    from bot.storage.briefings import DueChat
    from bot.storage.models import Chat


@dataclass(frozen=True)
class ChatPrefs:
    language: str = DEFAULT
    link_preview: str = "off"  # off | small | large
    lead_image: bool = False
    summaries: bool = False
    max_items: int = 10
    quiet: bool = False


def default_language(chat_type: str, user_language: str | None, settings: Settings) -> str:
    """A new private chat speaks its user's language when supported, else English;
    groups and channels speak the configured `bot.language`."""
    if chat_type == "private":
        return supported(user_language) or DEFAULT
    return settings.bot.language


def chat_prefs(
    chat: Chat | DueChat, settings: Settings, *, user_language: str | None = None
) -> ChatPrefs:
    """The chat's prefs (from its row, or a due chat being composed): each value it chose,
    else the configured default."""
    display = settings.display
    language = chat.language or default_language(chat.type, user_language, settings)
    return ChatPrefs(
        language=language,
        link_preview=chat.link_preview or display.link_preview,
        lead_image=display.lead_image if chat.lead_image is None else chat.lead_image,
        summaries=display.summaries if chat.summaries is None else chat.summaries,
        max_items=chat.max_items or settings.briefing.max_items,
        quiet=display.quiet if chat.quiet is None else chat.quiet,
    )


def choice_token(value: object) -> str:
    """A setting's value as a /settings button carries it: "1"/"0" for flags, else str."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
