"""Last line of defence: log any unhandled error with its context, tell the user and admins.

Admins hear of each kind of error (exception type + where) at most once per ten minutes.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Conflict, NetworkError, TelegramError

from bot.admin.alerts import button_place, command_place, error_kind, format_alert
from bot.admin.feed_alerts import admin_lang
from bot.render import commands, texts
from bot.render.i18n import EN, Lang
from bot.render.prefs import LANGUAGE_PREFIX, SETTINGS_PREFIX
from bot.render.stories import FULLTEXT_PREFIX
from bot.render.subscriber import TOPIC_PREFIX
from handlers.common import lang_of
from handlers.context import BotContext

logger = logging.getLogger(__name__)

_COMMANDS = frozenset(c.name for c in commands.COMMANDS)
# bc: = admin broadcast buttons; lg: and st: = the /language and /settings keyboards.
_BUTTONS = (TOPIC_PREFIX, FULLTEXT_PREFIX, "bc:", LANGUAGE_PREFIX, SETTINGS_PREFIX)


def where(update: object, context: BotContext) -> str:
    """Where an error happened, coarsely: a job, a command, a button or an update type."""
    if context.job is not None:
        return f"job {context.job.name}"
    if not isinstance(update, Update):
        return "unknown"
    message = update.effective_message
    if update.callback_query is not None:
        return button_place(update.callback_query.data or "", _BUTTONS)
    if message is not None and message.text and message.text.startswith("/"):
        return command_place(message.text, _COMMANDS)
    return "update " + ("document" if message is not None and message.document else "message")


async def report_to_admins(context: BotContext, place: str) -> None:
    """Send admins one message per kind of error per throttle period."""
    error, services = context.error, context.services
    admins = services.settings.telegram.admins
    if error is None or not admins or not services.error_throttle.allow(error_kind(error, place)):
        return
    tg = services.settings.telegram
    secrets = (tg.token, tg.webhook_secret)  # a database password: `mask` finds it in URLs
    for admin in admins:
        try:
            lang = await _admin_lang(context, admin)
            text = format_alert(error, place, lang, secrets=secrets)
            await context.bot.send_message(admin, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            logger.warning("could not report the error to admin_id=%s: %s", admin, exc)


async def _admin_lang(context: BotContext, admin: int) -> Lang:
    try:
        return await context.services.db(lambda s: admin_lang(s, admin))
    except Exception:  # the database may be what failed: report in English
        return EN


async def _lang(update: Update, context: BotContext) -> Lang:
    """The chat's language; English when even that cannot be read (the database may be
    what failed)."""
    try:
        return await lang_of(context, update)
    except Exception:  # reporting an error must not raise another
        logger.warning("language unknown while reporting an error", exc_info=True)
        return EN


POLLING_FAILED = "Telegram did not answer getUpdates, polling again: %s"
POLLING_CONFLICT = (
    "Telegram refused getUpdates: another process polls with this bot token (run one"
    " --role bot with long polling, or several in webhook mode): %s"
)


async def on_error(update: object, context: BotContext) -> None:
    if update is None and isinstance(context.error, Conflict):
        # Long polling met a second poller (a stale container, two `run`s): PTB polls
        # again by itself; say what to do in one line, not a traceback every few seconds.
        logger.error(POLLING_CONFLICT, context.error)
        await report_to_admins(context, "polling")
        return
    if update is None and context.job is None and isinstance(context.error, NetworkError):
        # A 5xx or a dropped connection on getUpdates (Telegram's own 502s are routine):
        # PTB polls again with back-off and nothing was lost; one line, no traceback, and
        # no alert (admins could do nothing about it, and Telegram may not take it anyway).
        logger.warning(POLLING_FAILED, context.error)
        return
    chat = update.effective_chat if isinstance(update, Update) else None
    place = where(update, context)
    logger.error(
        "unhandled error where=%s chat_id=%s update_id=%s",
        place,
        chat.id if chat else None,
        update.update_id if isinstance(update, Update) else None,
        exc_info=context.error,
    )
    await report_to_admins(context, place)
    if chat is None or not isinstance(update, Update):
        return
    try:
        text = (await _lang(update, context))(texts.ERROR_GENERIC)
        await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML)
    except TelegramError:
        logger.warning("could not tell chat_id=%s about the error", chat.id)
