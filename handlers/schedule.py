"""Schedule commands: /schedule and /timezone."""

from __future__ import annotations

from telegram import Update

from bot.render import subscriber as render
from bot.render import texts
from bot.services import lookup
from bot.services import subscriber as use
from handlers.common import asker, chat_of, command_allowed, lang_of, may_create
from handlers.context import BotContext
from handlers.replies import send_html


async def schedule(update: Update, context: BotContext) -> None:
    chat = chat_of(update)
    lang = await lang_of(context, update)
    try:
        request = lookup.parse_schedule(context.args or [])
    except lookup.ScheduleUsageError as error:
        await send_html(context, chat.id, render.schedule_usage_text(error, lang))
        return
    if request.mode is not None and not await command_allowed(update, context, lang):
        return
    create = request.mode is not None or await may_create(context, update)
    view = await use.set_schedule(context.services, asker(update, context), request, create=create)
    shown = render.schedule_show_text if request.mode is None else render.schedule_set_text
    await send_html(context, chat.id, shown(view, lang))


async def timezone(update: Update, context: BotContext) -> None:
    chat = chat_of(update)
    args = context.args or []
    lang = await lang_of(context, update)
    if not args:
        await send_html(context, chat.id, texts.usage_line("timezone", lang))
        return
    name = " ".join(args)  # "New York", "Buenos Aires"
    choice = lookup.resolve_timezone(name)
    if choice.zone is None:
        reply = render.timezone_unknown_text(name, choice.suggestions, lang)
        await send_html(context, chat.id, reply)
        return
    if not await command_allowed(update, context, lang):
        return
    view = await use.set_timezone(context.services, asker(update, context), choice.zone)
    await send_html(context, chat.id, render.timezone_set_text(view, lang))
