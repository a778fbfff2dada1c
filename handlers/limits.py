"""Per-user limits in front of every handler (their own, lowest handler group).

An update over its user's limit is answered politely and dropped here, so no
handler, database query or page fetch runs for it: commands (and other text)
against `limits.commands_per_minute`, inline-button taps against
`limits.taps_per_minute`, and 📖 taps that would fetch a page, and "Read on"
taps, against `limits.fulltext_per_minute` as well. A refused command gets one "slow down"
message per refused stretch, not one per dropped update (that would itself be
spam); a refused tap always gets its `answerCallbackQuery`, which Telegram
needs to stop the button's spinner and which adds no message. Admins are not
limited for admin commands and buttons.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.admin import access
from bot.render import commands, texts
from bot.render.commands import for_this_bot_in_group
from bot.render.stories import FULLTEXT_PREFIX, parse_fulltext_tap
from bot.services import articles
from bot.services.ratelimit import SlidingWindowLimiter
from bot.settings import LimitsSettings
from handlers import admin
from handlers.common import lang_of
from handlers.context import BotContext
from handlers.replies import send_html

logger = logging.getLogger(__name__)
PERIOD = 60.0
# Below every other group: within one group PTB runs only the first matching handler,
# and this one matches every update, so sharing group -1 would hide other handlers there.
GROUP = -100
ADMIN_BUTTON_PREFIXES = ("bc:",)


async def _answer(query: CallbackQuery, text: str) -> None:
    """Answer a refused tap. Telegram refusing the answer (too old) must not let the
    update through: PTB runs the next handler group after an exception here."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        logger.info("callback not answered: %s", exc.message)


def _seconds(wait: float) -> int:
    return max(1, int(wait + 0.999))


@dataclass
class UpdateLimits:
    """The three per-user windows; built from the settings on the first update."""

    clock: Callable[[], float] = time.monotonic
    _limits: tuple[SlidingWindowLimiter, SlidingWindowLimiter, SlidingWindowLimiter] | None = field(
        default=None, init=False
    )

    def _windows(
        self, cfg: LimitsSettings
    ) -> tuple[SlidingWindowLimiter, SlidingWindowLimiter, SlidingWindowLimiter]:
        if self._limits is None:
            self._limits = (
                SlidingWindowLimiter(cfg.commands_per_minute, PERIOD),
                SlidingWindowLimiter(cfg.taps_per_minute, PERIOD),
                SlidingWindowLimiter(cfg.fulltext_per_minute, PERIOD),
            )
        return self._limits

    async def __call__(self, update: Update, context: BotContext) -> None:
        user = update.effective_user
        if user is None:
            return
        services = context.services
        commands, taps, fulltext = self._windows(services.settings.limits)
        is_admin = access.is_admin(services.settings.telegram.admins, user.id)
        query = update.callback_query
        if query is not None:
            data = query.data or ""
            if is_admin and data.startswith(ADMIN_BUTTON_PREFIXES):
                return
            tap = parse_fulltext_tap(data)
            if data.startswith(FULLTEXT_PREFIX) and tap is None:
                # Forged or garbled data never reaches the handler.
                await _answer(query, (await lang_of(context, update))(texts.FULLTEXT_BUTTON_BAD))
                raise ApplicationHandlerStop
            now = self.clock()
            wait = taps.check(user.id, now)
            if wait is not None:
                lang = await lang_of(context, update)  # read only when refusing
                await _answer(query, lang(texts.TAPS_SLOW_DOWN, seconds=_seconds(wait)))
                raise ApplicationHandlerStop
            # A tap that fetches a page, and a "Read on" tap (up to max_messages messages
            # from the stored text), count against the full-text window as well.
            if tap is not None and (tap[1] > 0 or not await articles.is_cached(services, tap[0])):
                wait = fulltext.check(user.id, now)
                if wait is not None:
                    lang = await lang_of(context, update)
                    text = lang(texts.FULLTEXT_SLOW_DOWN, seconds=_seconds(wait))
                    await _answer(query, text)
                    raise ApplicationHandlerStop
            return
        message = update.message
        if message is None or update.effective_chat is None:
            return
        text = message.text or ""
        if update.effective_chat.type != ChatType.PRIVATE and not for_this_bot_in_group(
            text, context.bot.username
        ):
            return  # group chatter (the bot may see all of it): nothing answers it
        if is_admin and _command(text) in admin.HANDLERS:
            return
        now = self.clock()
        sender = _sender(message, user.id)
        wait = commands.check(sender, now)
        if wait is None:
            return
        if commands.first_refusal(sender, now, wait):
            chat_id = update.effective_chat.id
            lang = await lang_of(context, update)
            await send_html(context, chat_id, lang(texts.SLOW_DOWN, seconds=_seconds(wait)))
        raise ApplicationHandlerStop


def _sender(message: Message, user_id: int) -> int:
    """Whose window a message counts against: the chat it was sent as, when sent as one.

    Anonymous group admins all write as one Telegram user (GroupAnonymousBot), and
    posts as a channel as another (Channel_Bot): counted by that user, every such
    admin of every group would share one window."""
    return message.sender_chat.id if message.sender_chat is not None else user_id


def _command(text: str) -> str | None:
    """The command a message starts with ("/feeds@MyBot now" -> "feeds"), or None."""
    parts = commands.split_command(text)
    return parts[0] if parts else None


def layer() -> TypeHandler[Update, BotContext, None]:
    """The limits as one handler; register it in group GROUP so it runs before all others."""
    return TypeHandler(Update, UpdateLimits())
