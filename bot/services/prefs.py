"""Use cases: a chat's language (/language) and briefing layout (/settings)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.briefings.prefs import ChatPrefs, chat_prefs, choice_token
from bot.render.i18n import language_named
from bot.services.context import Services
from bot.services.subscriber import Asker, as_chat
from bot.settings import ITEM_CHOICES, PREVIEW_CHOICES, Settings
from bot.storage.models import Chat

# /settings keys as the buttons carry them → (Chat column, allowed values).
CHOICES: dict[str, tuple[str, tuple[object, ...]]] = {
    "p": ("link_preview", PREVIEW_CHOICES),
    "i": ("lead_image", (True, False)),
    "s": ("summaries", (True, False)),
    "n": ("max_items", ITEM_CHOICES),
    "q": ("quiet", (True, False)),
}


def read_prefs(session: Session, who: Asker, settings: Settings, now: datetime) -> ChatPrefs:
    """The chat's language and layout (defaults for a chat not seen yet), read only."""
    chat = session.get(Chat, who.id)
    if chat is None:  # not stored yet: what it will get once it is
        chat = Chat(id=who.id, type=who.type, created_at=now, updated_at=now)
    return chat_prefs(chat, settings, user_language=who.language)


async def prefs(services: Services, who: Asker) -> ChatPrefs:
    """Read-only: the chat's language and layout (defaults for a chat not seen yet)."""
    now = services.clock()
    found: ChatPrefs = await services.db(
        lambda session: read_prefs(session, who, services.settings, now)
    )
    return found


async def set_language(services: Services, who: Asker, code: str) -> ChatPrefs | None:
    """Speak `code` in this chat from now on; None when the bot has no such language."""
    language = language_named(code)
    if language is None:
        return None

    def work(session: Session, chat: Chat) -> ChatPrefs:
        chat.language, chat.updated_at = language, services.clock()
        session.add(chat)
        return chat_prefs(chat, services.settings, user_language=who.language)

    return await as_chat(services, who, work)


def parse_choice(key: str, raw: str) -> tuple[str, object] | None:
    """A /settings button's key and value as stored, or None when it is not one we offer."""
    if key not in CHOICES:
        return None
    column, allowed = CHOICES[key]
    value = next((v for v in allowed if choice_token(v) == raw), None)
    return None if value is None else (column, value)


async def set_pref(services: Services, who: Asker, key: str, raw: str) -> ChatPrefs | None:
    """Apply one /settings choice; None when the choice is not valid (an old or forged button)."""
    choice = parse_choice(key, raw)
    if choice is None:
        return None
    column, value = choice

    def work(session: Session, chat: Chat) -> ChatPrefs:
        setattr(chat, column, value)
        chat.updated_at = services.clock()
        session.add(chat)
        return chat_prefs(chat, services.settings, user_language=who.language)

    return await as_chat(services, who, work)
