"""Use cases: channels managed from a private chat (/manage).

Who may manage is Telegram's answer (the handler asks getChatMember); these
use cases only record which channel a user's subscriber commands act on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.briefings.prefs import ChatPrefs
from bot.services.context import Services
from bot.services.prefs import read_prefs
from bot.services.subscriber import Asker
from bot.storage import chats as chat_store
from bot.storage import managers


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
        chat = managers.current(session, user_id)
        channel = ManagedChannel(chat.id, _title(chat.title, chat.id), True) if chat else None
        return channel, read_prefs(session, own, services.settings, now)

    found: tuple[ManagedChannel | None, ChatPrefs] = await services.db(work)
    return found


async def lose_access(services: Services, user_id: int, channel_id: int) -> None:
    """The user is no admin of the channel any more: they stop managing it."""
    await services.db(lambda s: managers.forget(s, user_id, channel_id))
