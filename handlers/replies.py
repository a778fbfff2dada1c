"""Sending replies: HTML parse mode, keyboards, and Telegram errors handled by kind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.delivery.message import Button, OutMessage
from bot.delivery.options import chat_refused
from bot.render import channels, tghtml
from bot.render.i18n import EN
from bot.services import subscriber as use
from handlers.context import BotContext

logger = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Private chats take about one message per second; pace multi-part replies.
PART_INTERVAL = 1.05


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.callback_data) for b in row] for row in rows]
    )


async def send_html(
    context: BotContext,
    chat_id: int,
    html: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    thread_id: int | None = None,
) -> Message | None:
    """Send one HTML message; a chat that blocked us is marked inactive, not retried.

    A reply to the chat an update came from goes to that update's forum topic.
    """
    if thread_id is None:
        thread_id = context.reply_thread(chat_id)
    html = _prefixed(context, chat_id, html)
    try:
        return await context.bot.send_message(
            chat_id,
            html,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=markup,
            message_thread_id=thread_id,
        )
    except ChatMigrated as exc:
        # The group became a supergroup after this update arrived (Telegram's notice may
        # still wait behind it): answer where the chat is now.
        logger.info("chat migrated chat_id=%s new_chat_id=%s", chat_id, exc.new_chat_id)
        return await send_html(context, exc.new_chat_id, html, markup=markup)
    except Forbidden as exc:
        logger.info("chat unreachable chat_id=%s reason=%s", chat_id, exc.message)
        await use.mark_unreachable(context.services, chat_id)
    except BadRequest as exc:
        if chat_refused(exc.message):  # e.g. a group whose admins took the right to send
            logger.info("chat unreachable chat_id=%s reason=%s", chat_id, exc.message)
            await use.mark_unreachable(context.services, chat_id)
            return None
        # Our HTML or length was rejected: that is our bug, log it loudly with the text.
        logger.error("message rejected chat_id=%s error=%s text=%r", chat_id, exc.message, html)
    return None


def _prefixed(context: BotContext, chat_id: int, html: str) -> str:
    """While a private chat manages a channel, every reply (and edit) there says which
    chat it is about."""
    channel = context.managing(chat_id)
    if channel is None:
        return html
    prefix = channels.managing_prefix(channel, context.answer_lang or EN)
    fits = tghtml.visible_length(prefix + html) <= tghtml.MESSAGE_LIMIT
    return prefix + html if fits else html


async def send_messages(
    context: BotContext,
    chat_id: int,
    messages: Sequence[OutMessage],
    *,
    thread_id: int | None = None,
) -> None:
    """Send several messages in order, paced for one chat."""
    for i, message in enumerate(messages):
        if i:
            await asyncio.sleep(PART_INTERVAL)
        sent = await send_html(
            context, chat_id, message.html, markup=keyboard(message.keyboard), thread_id=thread_id
        )
        if sent is None:
            return


async def answer_tap(query: CallbackQuery, text: str | None, show_alert: bool = False) -> None:
    """Answer a tap; one Telegram no longer takes (answered, or older than 15 s) is no error."""
    try:
        await query.answer(text, show_alert=show_alert)
    except BadRequest as exc:
        logger.info("callback not answered: %s", exc.message)


# Edits with nothing left to do: the message already shows this (a double tap), it is
# gone (deleted while the tap was on its way), or its group became a supergroup meanwhile
# (ChatMigrated: the message stayed behind in the old chat). The tap is answered anyway.
_EDIT_MOOT = ("message is not modified", "message to edit not found")


def edit_moot(exc: BadRequest | ChatMigrated) -> bool:
    """Whether Telegram refused an edit only because there is nothing left to change."""
    if isinstance(exc, ChatMigrated):
        return True
    said = exc.message.lower()
    return any(reason in said for reason in _EDIT_MOOT)


async def edit_html(
    context: BotContext,
    chat_id: int,
    message_id: int,
    html: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """Edit a message in place; one already showing this (a double tap) or gone is fine."""
    try:
        await context.bot.edit_message_text(
            _prefixed(context, chat_id, html),
            chat_id,
            message_id,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=markup,
        )
    except (BadRequest, ChatMigrated) as exc:
        if not edit_moot(exc):
            raise
