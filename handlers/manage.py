"""/manage: a private chat acts on a channel its user administers.

`layer()` runs before the subscriber handlers: while a user manages a channel,
it asks Telegram whether they are still its admin and points `context.managed`
at the channel, so `asker()` makes every subscriber command act on it.
"""

from __future__ import annotations

import logging

from telegram import MessageOriginChannel, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.render import channels as render
from bot.render import commands, texts
from bot.render.i18n import lang
from bot.render.numbers import parse_ascii_int
from bot.render.prefs import LANGUAGE_PREFIX, SETTINGS_PREFIX
from bot.services import channels as use
from handlers.common import asker, lang_of
from handlers.context import BotContext
from handlers.replies import send_html

logger = logging.getLogger(__name__)

GROUP = -90  # after the per-user limits (-100), before every handler (0)
# Commands and buttons that change or read a subscriber: these act on the managed channel.
# /latest reads the routing in its own transaction (bot.services.channels.latest).
ACTS_ON_SUBSCRIBER = frozenset(c.name for c in commands.commands(admin=False)) - {
    "help",
    "manage",
    "latest",
}
# The /settings and /language keyboards too: a tap on the one a managed channel's
# /settings sent changes the channel, as the command that drew it showed.
BUTTON_PREFIXES = ("tp:", "fl:", SETTINGS_PREFIX, LANGUAGE_PREFIX)


def _chat_ref(arg: str) -> str | int:
    """`@name`, `name`, `t.me/name` or a numeric id, as getChat takes it."""
    arg = arg.strip()
    for prefix in ("https://t.me/", "http://t.me/", "t.me/"):
        if arg.startswith(prefix):
            arg = arg[len(prefix) :].split("/", 1)[0]
    number = parse_ascii_int(arg)
    if number is not None:
        return number
    return arg if arg.startswith("@") else "@" + arg


async def rights_problem(context: BotContext, channel_id: int, user_id: int) -> str | None:
    """Why the user may not manage the channel (not_admin, unreachable, cannot_post), or None."""
    try:
        member = await context.bot.get_chat_member(channel_id, user_id)
    except (BadRequest, Forbidden) as exc:
        logger.info("channel rights unknown chat_id=%s reason=%s", channel_id, exc.message)
        return "unreachable"
    if member.status not in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        return "not_admin"
    try:
        me = await context.bot.get_chat_member(channel_id, context.bot.id)
    except (BadRequest, Forbidden):
        return "unreachable"
    if me.status != ChatMemberStatus.ADMINISTRATOR or not getattr(me, "can_post_messages", False):
        return "cannot_post"
    return None


async def manage(update: Update, context: BotContext) -> None:
    chat, args = update.effective_chat, context.args or []
    assert chat is not None
    lang = await lang_of(context, update)
    if chat.type != ChatType.PRIVATE:
        await send_html(context, chat.id, lang(texts.MANAGE_PRIVATE_ONLY))
        return
    user = update.effective_user
    assert user is not None
    if not args:
        listed = await use.managed_channels(context.services, user.id)
        await send_html(context, chat.id, render.channel_list(listed, lang))
    elif len(args) == 1 and args[0].casefold() == "off":
        left = await use.stop_managing(context.services, user.id)
        context.managed = None
        off = lang(texts.MANAGE_OFF, title=render.title(left)) if left else None
        reply = off or lang(texts.MANAGE_OFF_NONE)
        await send_html(context, chat.id, reply)
    elif len(args) == 1:
        await _take(update, context, _chat_ref(args[0]), args[0])
    else:
        await send_html(context, chat.id, texts.usage_line("manage", lang))


async def forwarded(update: Update, context: BotContext) -> None:
    """A channel post forwarded into the private chat: manage that channel."""
    message = update.effective_message
    assert message is not None and update.effective_chat is not None
    origin = message.forward_origin
    if not isinstance(origin, MessageOriginChannel):
        said = (await lang_of(context, update))(texts.TEXT_NOT_COMMAND)
        await send_html(context, update.effective_chat.id, said)
        return
    await _take(update, context, origin.chat.id, origin.chat.title or str(origin.chat.id))


async def _take(update: Update, context: BotContext, ref: str | int, shown: str) -> None:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    lang = await lang_of(context, update)
    try:
        target = await context.bot.get_chat(ref)
    except (BadRequest, Forbidden):
        await send_html(context, chat.id, render.refusal("not_found", name=shown, lang=lang))
        return
    if target.type != ChatType.CHANNEL:
        await send_html(context, chat.id, render.refusal("not_channel", name=shown, lang=lang))
        return
    name = target.title or shown
    problem = await rights_problem(context, target.id, user.id)
    if problem is not None:
        problem = "not_found" if problem == "unreachable" else problem
        await send_html(context, chat.id, render.refusal(problem, name=name, lang=lang))
        return
    channel = await use.manage(context.services, user.id, use.ManagedChannel(target.id, name))
    context.managed = None  # the reply below names the channel itself
    started = lang(texts.MANAGE_STARTED, title=render.title(channel))
    await send_html(context, chat.id, started)


def _acts_on_subscriber(update: Update) -> bool:
    if update.callback_query is not None:
        return (update.callback_query.data or "").startswith(BUTTON_PREFIXES)
    text = update.message.text if update.message else None
    if not text or not text.startswith("/"):
        return False
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if text[1:].strip() else ""
    return name in ACTS_ON_SUBSCRIBER


async def _route(update: Update, context: BotContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != ChatType.PRIVATE:
        return
    if not _acts_on_subscriber(update):
        return
    channel, own = await use.routing(context.services, user.id, asker(update))
    context.answer_lang = lang(own.language)  # lang_of needs no read of its own now
    if channel is not None and not await enter(update, context, channel):
        raise ApplicationHandlerStop


async def enter(update: Update, context: BotContext, channel: use.ManagedChannel) -> bool:
    """Act on `channel` if the user still administers it; else say why and stop managing it.

    `context.answer_lang` is the private chat's language, already read."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None  # a private chat's update
    problem = await rights_problem(context, channel.id, user.id)
    if problem in ("not_admin", "unreachable"):
        if problem == "not_admin":
            await use.lose_access(context.services, user.id, channel.id)
            reply = texts.MANAGE_LOST
        else:
            await use.stop_managing(context.services, user.id)
            reply = texts.MANAGE_UNREACHABLE
        said = (await lang_of(context, update))(reply, title=render.title(channel))
        await send_html(context, chat.id, said)
        if update.callback_query is not None:
            await update.callback_query.answer()
        return False
    context.managed, context.managed_can_post = channel, problem != "cannot_post"
    return True


def layer() -> TypeHandler[Update, BotContext, None]:
    """The managed-channel routing as one handler; register it in group GROUP."""
    return TypeHandler(Update, _route)
