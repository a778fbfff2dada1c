"""Typed callback context: handlers reach services as `context.services`."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.delivery.pacing import SlotHeld
from bot.render.i18n import Lang
from bot.services.channels import ManagedChannel
from bot.services.context import Services


class BotContext(CallbackContext[ExtBot[SlotHeld], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with our services attached (PTB's context-types pattern)."""

    _reply_thread: tuple[int, int] | None = None  # (chat id, forum topic) of the update
    _update_chat: int | None = None  # the chat the update came from
    # The channel a private chat's subscriber commands act on (set by handlers.manage).
    managed: ManagedChannel | None = None
    managed_can_post = True  # False: that channel's admins took the bot's right to post
    # The language this update is answered in: the chat's own, read once per update by
    # the managed-channel routing (with the channel) or by handlers.common.lang_of;
    # send_html writes the "📣 Managing …" prefix in it.
    answer_lang: Lang | None = None

    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    @classmethod
    def from_update(cls, update: object, application: Any) -> BotContext:
        """The context of one update; remembers its forum topic so replies go there too."""
        context: BotContext = super().from_update(update, application)
        if isinstance(update, Update) and update.effective_chat is not None:
            context._update_chat = update.effective_chat.id
            thread = topic_thread(update)
            if thread is not None:
                context._reply_thread = (update.effective_chat.id, thread)
        return context

    def managing(self, chat_id: int) -> ManagedChannel | None:
        """The managed channel when `chat_id` is the private chat that manages it."""
        return self.managed if chat_id == self._update_chat else None

    def reply_thread(self, chat_id: int) -> int | None:
        """The forum topic a reply to `chat_id` belongs in (the update's own), else None."""
        if self._reply_thread is not None and self._reply_thread[0] == chat_id:
            return self._reply_thread[1]
        return None


def topic_thread(update: Update) -> int | None:
    """The forum topic an update came from; None in General and outside forums."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not message.is_topic_message or not chat.is_forum:
        return None
    return message.message_thread_id


def attach_services(app: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    app.bot_data["services"] = services
