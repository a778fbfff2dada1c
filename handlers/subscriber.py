"""Subscriber commands: /start /topics /subscribe /unsubscribe /latest /stop /help."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import ChatMemberAdministrator, ChatMemberRestricted, Update
from telegram.constants import ChatAction, ChatMemberStatus, ChatType
from telegram.error import BadRequest, ChatMigrated

from bot.delivery.pacing import SLOT_HELD
from bot.ingest.topics import Topic
from bot.render import channels as channels_render
from bot.render import commands, texts, tghtml
from bot.render import stories as briefing
from bot.render import subscriber as render
from bot.render.i18n import Lang
from bot.render.i18n import lang as lang_for
from bot.render.prefs import help_defaults
from bot.services import channels, lookup
from bot.services import subscriber as use
from handlers import manage
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
from handlers.replies import answer_tap, edit_moot, keyboard, send_html, send_messages

logger = logging.getLogger(__name__)


@dataclass
class _Redraw:
    """A picker's redraw under way; `again` when a tap changed the topics after its read."""

    again: bool = False


# One redraw at a time per picker message (subscriber, chat, message): the last one reads
# what the last tap left, and quick taps share one edit instead of queueing one each.
_redraws: dict[tuple[int, int, int], _Redraw] = {}


async def _send_picker(
    context: BotContext, update: Update, intro: str, subscribed: frozenset[str], lang: Lang
) -> None:
    topics = context.services.settings.topics
    markup = keyboard(render.picker_markup(topics, subscribed)) if topics else None
    await send_html(
        context,
        chat_of(update).id,
        render.picker_text(intro, topics, lang),
        markup=markup,
        thread_id=thread_of(update) if topics else None,
    )


# ---------------------------------------------------------------- commands


async def start(update: Update, context: BotContext) -> None:
    services, who = context.services, asker(update, context)
    state = await use.start(services, who, create=await may_create(context, update))
    lang = await lang_of(context, update)  # after start: a new chat has its language now
    if state.stopped or state.paused:
        # /stop, or a pause Telegram caused that no update undoes (a forum topic closed,
        # then reopened). Resuming is a change: a group member is told that only its
        # admins may, rather than welcomed to a group that stays paused.
        if not await command_allowed(update, context, lang):
            return
        if context.managed is not None and not context.managed_can_post:
            # Resumed, its next briefing would only be refused (and pause it again).
            title = channels_render.title(context.managed)
            await send_html(context, chat_of(update).id, lang(texts.CHANNEL_PAUSED, title=title))
            return
        state = await use.resume(services, who)
        await _send_picker(context, update, lang(texts.RESUMED), state.subscribed, lang)
        return
    await _send_picker(context, update, lang(texts.WELCOME), state.subscribed, lang)


async def topics_cmd(update: Update, context: BotContext) -> None:
    create = await may_create(context, update)
    subscribed = await use.topics_state(context.services, asker(update, context), create=create)
    lang = await lang_of(context, update)
    await _send_picker(context, update, tghtml.bold(lang(texts.TOPICS_TITLE)), subscribed, lang)


async def subscribe(update: Update, context: BotContext) -> None:
    await _change(update, context, subscribe=True)


async def unsubscribe(update: Update, context: BotContext) -> None:
    await _change(update, context, subscribe=False)


async def _change(update: Update, context: BotContext, *, subscribe: bool) -> None:
    services, chat = context.services, chat_of(update)
    topics = services.settings.topics
    args = context.args or []
    lang = await lang_of(context, update)
    if not args:
        name = "subscribe" if subscribe else "unsubscribe"
        await send_html(context, chat.id, texts.usage_line(name, lang))
        return
    if not await command_allowed(update, context, lang):
        return
    everything = not subscribe and [a.casefold() for a in args] == ["all"]
    resolution = lookup.resolve_topics([] if everything else args, topics)
    if resolution.unknown:
        reply = render.unknown_topic_text(resolution.unknown[0], topics, lang)
        await send_html(context, chat.id, reply)
        return
    none_left = False
    if subscribe:
        changed = await use.subscribe(services, asker(update, context), resolution.slugs)
    else:
        wanted = None if everything else resolution.slugs
        changed, none_left = await use.unsubscribe(services, asker(update, context), wanted)
    reply = render.change_text(
        subscribe=subscribe,
        everything=everything,
        asked=resolution.slugs,
        changed=changed,
        topics=topics,
        lang=lang,
        none_left=none_left,
    )
    await send_html(context, chat.id, reply)


async def latest(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    topics = services.settings.topics
    # Arguments first: a mistyped /latest lists nothing, so it must not spend the chat's
    # few listings a minute (the command limit in handlers/limits.py still applies).
    try:
        request = lookup.parse_latest(context.args or [], topics)
    except lookup.UsageError:
        usage = texts.usage_line("latest", await lang_of(context, update))
        await send_html(context, chat.id, usage)
        return
    if isinstance(request, lookup.UnknownName):
        lang = await lang_of(context, update)
        await send_html(context, chat.id, render.unknown_topic_text(request, topics, lang))
        return
    wait = use.latest_wait(services, chat.id)
    if wait is not None:
        lang = await lang_of(context, update)
        await send_html(context, chat.id, render.rate_limited_text(wait, lang))
        return
    result = await _latest(update, context, request)
    if result is None:
        return
    lang = await lang_of(context, update)  # read with the stories: no transaction of its own
    messages = render.latest_messages(result, now=services.clock(), lang=lang)
    await send_messages(context, chat.id, messages, thread_id=thread_of(update))


async def _latest(
    update: Update, context: BotContext, request: lookup.LatestRequest
) -> use.LatestResult | None:
    """The listing, with the routing to a managed channel and the answer's language read in
    the same transaction (only a managed channel needs a second one, after Telegram's word)."""
    services, user = context.services, update.effective_user
    if chat_of(update).type != ChatType.PRIVATE or user is None:
        create = await may_create(context, update)
        result = await use.latest(services, asker(update, context), request, create=create)
        context.answer_lang = context.answer_lang or lang_for(result.prefs.language)
        return result
    found = await channels.latest(services, asker(update), user.id, request)
    if isinstance(found, use.LatestResult):
        context.answer_lang = lang_for(found.prefs.language)
        return found
    context.answer_lang = lang_for(found.own.language)
    if not await manage.enter(update, context, found.channel):
        return None
    return await use.latest(services, asker(update, context), request)


async def stop(update: Update, context: BotContext) -> None:
    chat = chat_of(update)
    lang = await lang_of(context, update)
    if not await command_allowed(update, context, lang):
        return
    await use.stop(context.services, asker(update, context))
    await send_html(context, chat.id, lang(texts.STOPPED))


async def help_cmd(update: Update, context: BotContext) -> None:
    user, settings = update.effective_user, context.services.settings
    lang = await lang_of(context, update)
    text = texts.help_for(settings.telegram.admins, user.id if user else None, lang)
    text += "\n\n" + help_defaults(settings, lang)
    await send_html(context, chat_of(update).id, text)


async def unknown_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    private = chat_of(update).type == ChatType.PRIVATE
    text = (message.text or "") if message else ""
    if not private and not commands.for_this_bot_in_group(text, context.bot.username):
        # In a group, "/ban" or "/start@OtherBot" is most likely another bot's (or a
        # human habit): answering every one would be noise. "/nosuch@ThisBot" is ours.
        return
    lang = await lang_of(context, update)
    await send_html(context, chat_of(update).id, lang(texts.UNKNOWN_COMMAND))


async def plain_text(update: Update, context: BotContext) -> None:
    lang = await lang_of(context, update)
    await send_html(context, chat_of(update).id, lang(texts.TEXT_NOT_COMMAND))


async def not_text(update: Update, context: BotContext) -> None:
    """A photo, sticker, file… in a private chat: a hint, not silence."""
    message = update.effective_message
    caption = (message.caption or "") if message else ""
    hint = texts.CAPTION_NOT_COMMAND if caption.startswith("/") else texts.TEXT_NOT_COMMAND
    lang = await lang_of(context, update)
    await send_html(context, chat_of(update).id, lang(hint))


# ---------------------------------------------------------------- buttons


async def unknown_button(update: Update, context: BotContext) -> None:
    """Data no handler claims (an old or forged button): answer, so the spinner stops."""
    assert update.callback_query is not None
    lang = await lang_of(context, update)
    await answer_tap(update.callback_query, lang(texts.FULLTEXT_BUTTON_BAD))


async def topic_button(update: Update, context: BotContext) -> None:
    services = context.services

    def topic_of(data: str) -> tuple[Topic, bool | None] | None:
        slug, follow = render.parse_topic_tap(data)
        topic = services.settings.topic(slug)
        return None if topic is None else (topic, follow)

    tap = await change_tap(update, context, topic_of, texts.FULLTEXT_BUTTON_STALE)
    if tap is None:
        return
    query, (topic, follow), lang = tap
    who = asker(update, context)
    on = await use.set_topic(services, who, topic.slug, follow)
    await answer_tap(query, render.toggle_answer(on, topic, lang))
    if query.message is not None:
        _redraw_soon(context, update, who, query.message.message_id)


def _redraw_soon(context: BotContext, update: Update, who: use.Asker, message_id: int) -> None:
    """Redraw the picker in the background: the edit waits for a send slot, and a handler
    waiting there would hold up the answers to other users' taps (15 s limit)."""
    key = (who.key, chat_of(update).id, message_id)
    running = _redraws.get(key)
    if running is not None:
        running.again = True  # this tap's change is committed: drawn by this read or the next
        return
    running = _redraws[key] = _Redraw()
    context.application.create_task(_redraw_picker(context, who, key, running), update=update)


async def _redraw_picker(
    context: BotContext, who: use.Asker, key: tuple[int, int, int], running: _Redraw
) -> None:
    _, chat_id, message_id = key
    services = context.services
    try:
        while True:
            # The send slot first, then the read: every tap made while the edit waited
            # for its turn (a double tap, a storm of them) is drawn by this one edit.
            async with services.pacer.sending(chat_id):
                running.again = False
                subscribed = await use.subscribed_now(services, who.key)
                markup = keyboard(render.picker_markup(services.settings.topics, subscribed))
                try:
                    await context.bot.edit_message_reply_markup(
                        chat_id, message_id, reply_markup=markup, rate_limit_args=SLOT_HELD
                    )
                except (BadRequest, ChatMigrated) as exc:
                    if not edit_moot(exc):
                        raise
                    # It shows this state already (taps that cancel out), or it was deleted,
                    # or left behind by a supergroup upgrade, meanwhile.
            if not running.again:
                return
    finally:
        del _redraws[key]


async def fulltext_button(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, chat_of(update)
    assert query is not None and query.data is not None
    tap = briefing.parse_fulltext_tap(query.data)
    lang = await lang_of(context, update)
    await answer_tap(query, lang(texts.FULLTEXT_LOADING) if tap is not None else None)
    if tap is None:
        return
    story_id, start = tap
    thread = thread_of(update)

    async def typing() -> bool:
        try:
            return await context.bot.send_chat_action(
                chat.id, ChatAction.TYPING, message_thread_id=thread
            )
        except ChatMigrated:  # upgraded since the tap: the text itself follows the chat
            return False

    with context.services.fulltext_in_flight.claim((chat.id, thread, story_id, start)) as first:
        if not first:
            return  # a double tap: this text is on its way already
        messages = await use.fulltext(
            context.services, story_id, before_fetch=typing, start=start, lang=lang
        )
        await send_messages(context, chat.id, messages, thread_id=thread)


# ---------------------------------------------------------------- membership


async def migrated(update: Update, context: BotContext) -> None:
    """The old group's "migrated to a supergroup" notice (the new one's twin is ignored)."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    await use.migrated(context.services, message.chat.id, message.migrate_to_chat_id)


async def topic_reopened(update: Update, context: BotContext) -> None:
    """Telegram's "topic reopened" notice in a forum topic (or General): a subscriber there
    that paused because the topic was closed resumes by itself."""
    await use.topic_reopened(context.services, chat_of(update).id, thread_of(update))


async def membership(update: Update, context: BotContext) -> None:
    """Blocked, removed or forbidden to send: inactive. Unblocked, added or allowed to send
    again: active again. A channel's managers are told either way."""
    change = update.my_chat_member
    assert change is not None
    member = change.new_chat_member
    reachable = member.status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    if isinstance(member, ChatMemberRestricted):  # a group's admins restricted the bot
        reachable = member.is_member and member.can_send_messages
    if isinstance(member, ChatMemberAdministrator) and change.chat.type == ChatType.CHANNEL:
        reachable = bool(member.can_post_messages)  # a channel admin that may not post
    who = asker(update, context)
    notices = await channels.set_reachable(context.services, who, reachable)
    said = texts.CHANNEL_RESUMED if reachable else texts.CHANNEL_PAUSED
    title = channels_render.title(channels.ManagedChannel(who.id, who.title or str(who.id)))
    for notice in notices:
        await send_html(context, notice.user_id, lang_for(notice.language)(said, title=title))
