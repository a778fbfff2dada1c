"""Helpers shared by the handlers: the chat of an update, who asks, group rights."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from telegram import CallbackQuery, Update
from telegram import Chat as TgChat
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import ChatMigrated

from bot.briefings.prefs import ChatPrefs
from bot.render import texts
from bot.render.i18n import Lang, lang
from bot.render.subscriber import topic_names, unknown_topic_text
from bot.services import prefs as prefs_use
from bot.services.subscriber import Asker
from handlers.context import BotContext, topic_thread
from handlers.replies import answer_tap, send_html

T = TypeVar("T")

__all__ = [
    "asker",
    "change_tap",
    "chat_of",
    "command_allowed",
    "lang_of",
    "may_change",
    "may_create",
    "prefs_of",
    "tap_allowed",
    "thread_of",
    "topic_names",
    "unknown_topic_text",
]


def chat_of(update: Update) -> TgChat:
    chat = update.effective_chat
    assert chat is not None
    return chat


def asker(update: Update, context: BotContext | None = None) -> Asker:
    """The subscriber an update acts on: its chat, forum topic, or the managed channel."""
    if context is not None and context.managed is not None:
        return context.managed.asker
    chat = chat_of(update)
    user = update.effective_user
    language = user.language_code if user is not None and chat.type == ChatType.PRIVATE else None
    return Asker(
        chat.id, chat.type, chat.title or chat.full_name, thread_of(update), language=language
    )


async def prefs_of(context: BotContext, update: Update) -> ChatPrefs:
    """The chat's language and layout (one read; nothing is created)."""
    return await prefs_use.prefs(context.services, asker(update, context))


async def lang_of(context: BotContext, update: Update) -> Lang:
    """The language to answer this update in: its own chat's, also while that private chat
    manages a channel (the channel's language is for its briefings). Remembered for the
    "📣 Managing …" prefix."""
    if context.answer_lang is None:  # the managed-channel routing may have read it already
        own = await prefs_use.prefs(context.services, asker(update))
        context.answer_lang = lang(own.language)
    return context.answer_lang


def thread_of(update: Update) -> int | None:
    """The forum topic an update came from; None in General and outside forums."""
    return topic_thread(update)


async def may_change(context: BotContext, update: Update) -> bool:
    """In groups only the group's admins may change subscriptions."""
    chat = chat_of(update)
    if chat.type == ChatType.PRIVATE:
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id  # anonymous group admin
    user = update.effective_user
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except ChatMigrated as exc:  # upgraded since: its admins are the supergroup's
        member = await context.bot.get_chat_member(exc.new_chat_id, user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def may_create(context: BotContext, update: Update) -> bool:
    """Whether a command that only reads may make its place a subscriber (which gets
    briefings from then on): anywhere but a forum topic; in a topic only an admin's, so a
    member's /latest there does not start daily briefings in it."""
    if context.managed is not None or thread_of(update) is None:
        return True
    return await may_change(context, update)


async def command_allowed(
    update: Update, context: BotContext, lang: Lang, *, thread_id: int | None = None
) -> bool:
    """`may_change`; when not, the command is answered that only group admins may."""
    if await may_change(context, update):
        return True
    refused = lang(texts.GROUP_ADMINS_ONLY)
    await send_html(context, chat_of(update).id, refused, thread_id=thread_id)
    return False


async def tap_allowed(
    query: CallbackQuery, update: Update, context: BotContext, lang: Lang | None = None
) -> bool:
    """`may_change`; when not, the tap is answered with an alert that only group admins may."""
    if await may_change(context, update):
        return True
    lang = lang or await lang_of(context, update)
    await answer_tap(query, lang(texts.GROUP_ADMINS_ONLY), True)
    return False


async def change_tap(
    update: Update, context: BotContext, parse: Callable[[str], T | None], stale: str
) -> tuple[CallbackQuery, T, Lang] | None:
    """A tap on a button that changes the chat: its query, what its data names, the language.

    None once the tap is answered: `stale` when `parse` finds nothing in the data, or the
    group-admins refusal."""
    query = update.callback_query
    assert query is not None and query.data is not None
    target = parse(query.data)
    lang = await lang_of(context, update)
    if target is None:
        await answer_tap(query, lang(stale))
        return None
    if not await tap_allowed(query, update, context, lang):
        return None
    return query, target, lang
