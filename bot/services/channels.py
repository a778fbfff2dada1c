"""Use cases: channels managed from a private chat (/manage).

Who may manage is Telegram's answer (the handler asks getChatMember); these
use cases only record which channel a user's subscriber commands act on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.briefings.prefs import ChatPrefs, chat_prefs
from bot.services import lookup
from bot.services.context import Services
from bot.services.prefs import read_prefs
from bot.services.subscriber import Asker, LatestResult, as_chat, latest_work
from bot.storage import chats as chat_store
from bot.storage import managers
from bot.storage.models import Chat


@dataclass(frozen=True)
class ManagedChannel:
    id: int
    title: str
    current: bool = False

    @property
    def asker(self) -> Asker:
        """The channel as the subscriber use cases see the chat a command is for."""
        return Asker(self.id, "channel", self.title)


def _title(title: str | None, channel_id: int) -> str:
    return title or str(channel_id)


def _current(session: Session, user_id: int) -> ManagedChannel | None:
    chat = managers.current(session, user_id)
    return ManagedChannel(chat.id, _title(chat.title, chat.id), True) if chat else None


async def manage(services: Services, user_id: int, channel: ManagedChannel) -> ManagedChannel:
    """From now on the user's subscriber commands act on `channel` (created if new)."""

    def work(session: Session) -> ManagedChannel:
        chat_store.begin_write(session)
        now = services.clock()
        chat_store.ensure_chat(
            session,
            channel.id,
            chat_type="channel",
            title=channel.title,
            defaults=services.settings.briefing,
            now=now,
        )
        managers.set_current(session, user_id, channel.id, now=now)
        return ManagedChannel(channel.id, channel.title, True)

    return await services.db(work)


async def stop_managing(services: Services, user_id: int) -> ManagedChannel | None:
    """`/manage off`: back to the user's own chat; the channel that was managed, if any."""

    def work(session: Session) -> ManagedChannel | None:
        chat = managers.current(session, user_id)
        managers.set_current(session, user_id, None, now=services.clock())
        return ManagedChannel(chat.id, _title(chat.title, chat.id)) if chat else None

    return await services.db(work)


async def managed_channels(services: Services, user_id: int) -> list[ManagedChannel]:
    def work(session: Session) -> list[ManagedChannel]:
        return [
            ManagedChannel(chat.id, _title(chat.title, chat.id), current)
            for chat, current in managers.managed(session, user_id)
        ]

    return await services.db(work)


async def routing(
    services: Services, user_id: int, own: Asker
) -> tuple[ManagedChannel | None, ChatPrefs]:
    """One read before a private chat's subscriber command: the channel it acts on, if
    any, and the private chat's own prefs (the language it is answered in)."""
    now = services.clock()

    def work(session: Session) -> tuple[ManagedChannel | None, ChatPrefs]:
        return _current(session, user_id), read_prefs(session, own, services.settings, now)

    found: tuple[ManagedChannel | None, ChatPrefs] = await services.db(work)
    return found


@dataclass(frozen=True)
class Routed:
    """The user manages a channel: a command acts on it once their rights are checked."""

    channel: ManagedChannel
    own: ChatPrefs  # the private chat's own prefs: the answer's language


async def latest(
    services: Services, own: Asker, user_id: int, request: lookup.LatestRequest
) -> LatestResult | Routed:
    """/latest in a private chat as one transaction: the routing read and the listing.

    While the user manages a channel nothing is listed: the handler asks Telegram
    whether they still administer it, then lists the channel's stories (`subscriber.latest`).
    """
    listing = latest_work(services, own, request)

    def work(session: Session, chat: Chat) -> LatestResult | Routed:
        channel = _current(session, user_id)
        if channel is None:
            return listing(session, chat)
        return Routed(channel, chat_prefs(chat, services.settings, user_language=own.language))

    return await as_chat(services, own, work)


async def lose_access(services: Services, user_id: int, channel_id: int) -> None:
    """The user is no admin of the channel any more: they stop managing it."""
    await services.db(lambda s: managers.forget(s, user_id, channel_id))


@dataclass(frozen=True)
class Notice:
    """A manager to tell that the bot can or cannot post in their channel, in their language."""

    user_id: int
    language: str


async def set_reachable(services: Services, who: Asker, reachable: bool) -> list[Notice]:
    """Telegram says whether the bot may write in a chat (added, allowed to post; removed,
    blocked, restricted). For a channel that changed, the managers to tell: it pauses or
    resumes with no command from them, and they could not tell otherwise."""

    def work(session: Session, chat: Chat) -> list[Notice]:
        changed = chat_store.set_active(session, chat.id, reachable, now=services.clock())
        if not changed or chat.type != "channel":
            return []
        notices = []
        for user_id in managers.managers_of(session, chat.id):
            own = session.get(Chat, user_id)
            language = own.language if own is not None else None
            notices.append(Notice(user_id, language or services.settings.bot.language))
        return notices

    return await as_chat(services, who, work)
