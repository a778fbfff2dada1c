"""Filter commands: /mute /unmute /follow /unfollow /filters and the 🗑 buttons under /filters."""

from __future__ import annotations

from telegram import Update

from bot.render import filters as render
from bot.render import texts
from bot.services import filters as use
from handlers.common import (
    asker,
    change_tap,
    chat_of,
    command_allowed,
    lang_of,
    may_create,
    thread_of,
)
from handlers.context import BotContext
from handlers.replies import answer_tap, edit_html, keyboard, send_html


def _typed(update: Update) -> tuple[str, ...]:
    """The words and "quoted phrases" after the command, as typed."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    rest = text.split(maxsplit=1)
    return use.parse_phrases(rest[1]) if len(rest) == 2 else ()


async def _changed(update: Update, context: BotContext, name: str) -> tuple[str, ...] | None:
    """The phrases of a change command, or None after answering with usage or refusal."""
    chat, typed = chat_of(update), _typed(update)
    lang = await lang_of(context, update)
    if not typed:
        usage = texts.usage_line(name, lang)
        await send_html(context, chat.id, usage, thread_id=thread_of(update))
        return None
    if not await command_allowed(update, context, lang, thread_id=thread_of(update)):
        return None
    return typed


async def _add(update: Update, context: BotContext, kind: str) -> None:
    typed = await _changed(update, context, kind)
    if typed is None:
        return
    change = await use.add(context.services, asker(update, context), kind, typed)
    reply = render.add_text(change, await lang_of(context, update))
    await send_html(context, chat_of(update).id, reply, thread_id=thread_of(update))


async def _remove(update: Update, context: BotContext, kind: str) -> None:
    typed = await _changed(update, context, "un" + kind)
    if typed is None:
        return
    everything = use.is_everything(typed)
    change = await use.remove(
        context.services, asker(update, context), kind, None if everything else typed
    )
    lang = await lang_of(context, update)
    reply = render.remove_text(change, everything=everything, lang=lang)
    await send_html(context, chat_of(update).id, reply, thread_id=thread_of(update))


async def mute(update: Update, context: BotContext) -> None:
    await _add(update, context, "mute")


async def follow(update: Update, context: BotContext) -> None:
    await _add(update, context, "follow")


async def unmute(update: Update, context: BotContext) -> None:
    await _remove(update, context, "mute")


async def unfollow(update: Update, context: BotContext) -> None:
    await _remove(update, context, "follow")


async def filters_cmd(update: Update, context: BotContext) -> None:
    create = await may_create(context, update)
    current = await use.list_filters(context.services, asker(update, context), create=create)
    message = render.filters_message(current, await lang_of(context, update))
    await send_html(
        context,
        chat_of(update).id,
        message.html,
        markup=keyboard(message.keyboard),
        thread_id=thread_of(update),
    )


async def filter_button(update: Update, context: BotContext) -> None:
    """🗑 under /filters: remove that entry, then redraw the list."""
    tap = await change_tap(update, context, render.parse_filter_callback, texts.FULLTEXT_BUTTON_BAD)
    if tap is None:
        return
    query, parsed, lang = tap
    change = await use.remove_by_key(context.services, asker(update, context), *parsed)
    await answer_tap(query, render.button_answer(change, lang))
    if query.message is None:
        return
    message = render.filters_message(change.now, lang)
    markup = keyboard(message.keyboard)
    await edit_html(context, chat_of(update).id, query.message.message_id, message.html, markup)
