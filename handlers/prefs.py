"""Chat preferences: /language (picker or code) and /settings (one keyboard, edited in place)."""

from __future__ import annotations

from telegram import Update

from bot.briefings.prefs import ChatPrefs
from bot.render import prefs as render
from bot.render import texts
from bot.render.i18n import Lang, lang
from bot.services import prefs as use
from handlers.common import asker, chat_of, command_allowed, lang_of, prefs_of, tap_allowed
from handlers.context import BotContext
from handlers.replies import answer_tap, edit_html, keyboard, send_html


async def _here(context: BotContext, update: Update, prefs: ChatPrefs) -> Lang:
    """The language of the answer: the chat's, or while a private chat manages a channel,
    that private chat's own (the channel's language is for its briefings)."""
    if context.managed is not None:
        return await lang_of(context, update)
    return lang(prefs.language)


async def language_cmd(update: Update, context: BotContext) -> None:
    chat, args = chat_of(update), context.args or []
    current = await prefs_of(context, update)
    here = await _here(context, update, current)
    if len(args) > 1:
        await send_html(context, chat.id, texts.usage_line("language", here))
        return
    if not args:
        markup = keyboard(render.language_markup(current.language))
        await send_html(context, chat.id, here(texts.LANGUAGE_PICKER), markup=markup)
        return
    if not await command_allowed(update, context, here):
        return
    changed = await use.set_language(context.services, asker(update, context), args[0])
    if changed is None:
        await send_html(context, chat.id, render.language_unknown(args[0], here))
        return
    await send_html(context, chat.id, lang(changed.language)(texts.LANGUAGE_SET))


async def language_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    if not await tap_allowed(query, update, context):
        return
    code = query.data[len(render.LANGUAGE_PREFIX) :]
    changed = await use.set_language(context.services, asker(update, context), code)
    if changed is None:
        await answer_tap(query, (await lang_of(context, update))(texts.FULLTEXT_BUTTON_STALE))
        return
    said = lang(changed.language)(texts.LANGUAGE_SET)
    await answer_tap(query, None)
    if query.message is not None:
        await edit_html(context, chat_of(update).id, query.message.message_id, said, None)


async def settings_cmd(update: Update, context: BotContext) -> None:
    current = await prefs_of(context, update)
    here = await _here(context, update, current)
    markup = keyboard(render.settings_markup(current, here))
    await send_html(context, chat_of(update).id, here(texts.SETTINGS_TEXT), markup=markup)


async def settings_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    parsed = render.parse_settings_callback(query.data)
    if not await tap_allowed(query, update, context):
        return
    changed = (
        None
        if parsed is None
        else await use.set_pref(context.services, asker(update, context), *parsed)
    )
    if changed is None:
        await answer_tap(query, (await lang_of(context, update))(texts.FULLTEXT_BUTTON_BAD))
        return
    here = await _here(context, update, changed)
    await answer_tap(query, here(texts.SETTINGS_SAVED))
    if query.message is not None:
        markup = keyboard(render.settings_markup(changed, here))
        text = here(texts.SETTINGS_TEXT)
        await edit_html(context, chat_of(update).id, query.message.message_id, text, markup)
