"""Last line of defence: log any unhandled error with its context, tell the user."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import texts
from handlers.context import BotContext

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    chat = update.effective_chat if isinstance(update, Update) else None
    logger.error(
        "unhandled error chat_id=%s update_id=%s",
        chat.id if chat else None,
        update.update_id if isinstance(update, Update) else None,
        exc_info=context.error,
    )
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, texts.ERROR_GENERIC, parse_mode=ParseMode.HTML)
    except TelegramError:
        logger.warning("could not tell chat_id=%s about the error", chat.id)
