"""Subscriber commands: /start /topics /subscribe /unsubscribe /latest /stop /help."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session
from telegram import Update
from telegram.constants import ChatAction, ChatMemberStatus

from bot.delivery.message import Button, OutMessage
from bot.render import stories as briefing
from bot.render import texts, tghtml
from bot.services import lookup
from bot.services.articles import fulltext_messages
from bot.services.context import Services
from bot.services.story_views import story_views
from bot.settings import Topic
from bot.storage import chats as chat_store
from bot.storage import stories as story_store
from bot.storage.models import Chat
from handlers.common import (
    chat_of,
    ensure_chat_row,
    may_change,
    thread_of,
    topic_names,
    unknown_topic_text,
)
from handlers.context import BotContext
from handlers.replies import keyboard, send_html, send_messages

TOPIC_PREFIX = "tp:"


# ---------------------------------------------------------------- helpers


def picker_markup(topics: Sequence[Topic], subscribed: set[str]) -> list[list[Button]]:
    rows: list[list[Button]] = []
    for i, topic in enumerate(topics):
        mark = "✅ " if topic.slug in subscribed else ""
        button = Button(f"{mark}{topic.name}", f"{TOPIC_PREFIX}{topic.slug}")
        if i % 2 == 0:
            rows.append([button])
        else:
            rows[-1].append(button)
    return rows


async def _send_picker(context: BotContext, update: Update, intro: str) -> None:
    services, chat = context.services, chat_of(update)
    topics = services.settings.topics
    if not topics:
        await send_html(context, chat.id, f"{intro}\n\n{texts.NO_TOPICS_CONFIGURED}")
        return
    subscribed = await services.db(lambda s: chat_store.subscriptions(s, chat.id))
    markup = keyboard(picker_markup(topics, subscribed))
    await send_html(
        context, chat.id, f"{intro}\n\n{texts.PICKER}", markup=markup, thread_id=thread_of(update)
    )


# ---------------------------------------------------------------- commands


async def start(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    was_stopped = await ensure_chat_row(context, update)
    if was_stopped and await may_change(context, update):
        await services.db(lambda s: _resume(s, chat.id, now=services.clock()))
        await _send_picker(context, update, texts.RESUMED)
        return
    await _send_picker(context, update, texts.WELCOME)


def _resume(session: Session, chat_id: int, *, now: datetime) -> None:
    row = session.get(Chat, chat_id)
    if row is not None:
        chat_store.set_stopped(session, row, False, now=now)
        chat_store.set_active(session, chat_id, True, now=now)


async def topics_cmd(update: Update, context: BotContext) -> None:
    await ensure_chat_row(context, update)
    await _send_picker(context, update, tghtml.bold("Topics"))


async def subscribe(update: Update, context: BotContext) -> None:
    await _change(update, context, subscribe=True)


async def unsubscribe(update: Update, context: BotContext) -> None:
    await _change(update, context, subscribe=False)


async def _change(update: Update, context: BotContext, *, subscribe: bool) -> None:
    services, chat = context.services, chat_of(update)
    topics = services.settings.topics
    args = context.args or []
    command = "subscribe" if subscribe else "unsubscribe"
    if not args:
        await send_html(context, chat.id, texts.usage_line(command))
        return
    if not await may_change(context, update):
        await send_html(context, chat.id, texts.GROUP_ADMINS_ONLY)
        return
    await ensure_chat_row(context, update)
    everything = not subscribe and [a.casefold() for a in args] == ["all"]
    resolution = lookup.resolve_topics([] if everything else args, topics)
    if resolution.unknown:
        await send_html(context, chat.id, unknown_topic_text(resolution.unknown[0], topics))
        return
    now = services.clock()
    if subscribe:
        changed = await services.db(
            lambda s: chat_store.subscribe(s, chat.id, resolution.slugs, now=now)
        )
        template = texts.SUBSCRIBED
    else:
        wanted = None if everything else resolution.slugs
        changed = await services.db(lambda s: chat_store.unsubscribe(s, chat.id, wanted))
        template = texts.UNSUBSCRIBED_ALL if everything else texts.UNSUBSCRIBED
    if not changed and not everything:
        verb = "are followed" if subscribe else "are not followed"
        reply = texts.ALREADY.format(names=topic_names(resolution.slugs, topics), verb=verb)
    else:
        reply = template.format(names=topic_names(changed, topics))
    await send_html(context, chat.id, reply)


async def latest(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    wait = services.latest_limiter.check(chat.id, time.monotonic())
    if wait is not None:
        await send_html(context, chat.id, texts.RATE_LIMITED.format(seconds=int(wait) + 1))
        return
    topics = services.settings.topics
    try:
        request = lookup.parse_latest(context.args or [], topics)
    except lookup.UsageError:
        await send_html(context, chat.id, texts.usage_line("latest"))
        return
    if isinstance(request, lookup.UnknownName):
        await send_html(context, chat.id, unknown_topic_text(request, topics))
        return
    await ensure_chat_row(context, update)
    messages = await services.db(lambda s: _latest_messages(s, chat.id, request, services))
    await send_messages(context, chat.id, messages, thread_id=thread_of(update))


def _latest_messages(
    session: Session, chat_id: int, request: lookup.LatestRequest, services: Services
) -> list[OutMessage]:
    settings = services.settings
    if request.topic:
        scope_topics: list[str] | None = [request.topic]
        topic = settings.topic(request.topic)
        scope = topic.name if topic else request.topic
    else:
        subscribed = sorted(chat_store.subscriptions(session, chat_id))
        scope_topics = subscribed or None
        scope = _plain_names(subscribed, settings.topics) if subscribed else "all topics"
    rows = story_store.latest_stories(session, topics=scope_topics, limit=request.count)
    if not rows:
        if request.topic:
            return [OutMessage(texts.NOTHING_IN_TOPIC.format(name=tghtml.escape(scope)))]
        return [OutMessage(texts.NOTHING_YET)]
    views = story_views(session, rows)
    header = briefing.latest_header(scope, len(views))
    return briefing.compose_story_list(views, header_html=header, now=services.clock())


def _plain_names(slugs: Sequence[str], topics: Sequence[Topic]) -> str:
    by_slug = {t.slug: t.name for t in topics}
    return ", ".join(by_slug.get(s, s) for s in slugs)


async def stop(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    if not await may_change(context, update):
        await send_html(context, chat.id, texts.GROUP_ADMINS_ONLY)
        return
    await ensure_chat_row(context, update)

    def work(session: Session) -> None:
        row = session.get(Chat, chat.id)
        assert row is not None
        chat_store.set_stopped(session, row, True, now=services.clock())

    await services.db(work)
    await send_html(context, chat.id, texts.STOPPED)


async def help_cmd(update: Update, context: BotContext) -> None:
    user = update.effective_user
    admin = user is not None and user.id in context.services.settings.telegram.admins
    await send_html(context, chat_of(update).id, texts.help_text(admin=admin))


async def unknown_command(update: Update, context: BotContext) -> None:
    await send_html(context, chat_of(update).id, texts.UNKNOWN_COMMAND)


async def plain_text(update: Update, context: BotContext) -> None:
    await send_html(context, chat_of(update).id, texts.TEXT_NOT_COMMAND)


# ---------------------------------------------------------------- buttons


async def topic_button(update: Update, context: BotContext) -> None:
    query, services, chat = update.callback_query, context.services, chat_of(update)
    assert query is not None and query.data is not None
    slug = query.data[len(TOPIC_PREFIX) :]
    topic = services.settings.topic(slug)
    if topic is None:
        await query.answer(texts.FULLTEXT_BUTTON_STALE)
        return
    if not await may_change(context, update):
        await query.answer(texts.GROUP_ADMINS_ONLY, show_alert=True)
        return
    await ensure_chat_row(context, update)
    now = services.clock()
    on = await services.db(lambda s: chat_store.toggle(s, chat.id, slug, now=now))
    await query.answer(("✅ " if on else "Removed ") + topic.name)
    subscribed = await services.db(lambda s: chat_store.subscriptions(s, chat.id))
    markup = keyboard(picker_markup(services.settings.topics, subscribed))
    if query.message is not None:
        await context.bot.edit_message_reply_markup(
            chat.id, query.message.message_id, reply_markup=markup
        )


async def fulltext_button(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, chat_of(update)
    assert query is not None and query.data is not None
    story_id = briefing.parse_fulltext_callback(query.data)
    await query.answer(texts.FULLTEXT_LOADING if story_id is not None else None)
    if story_id is None:
        return
    await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
    parts = await fulltext_messages(context.services, story_id)
    await send_messages(
        context, chat.id, [OutMessage(p) for p in parts], thread_id=thread_of(update)
    )


# ---------------------------------------------------------------- membership


async def membership(update: Update, context: BotContext) -> None:
    """Blocked or removed: inactive. Unblocked or added: active again."""
    change, services = update.my_chat_member, context.services
    assert change is not None
    status = change.new_chat_member.status
    reachable = status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    chat = change.chat
    await ensure_chat_row(context, update)
    await services.db(lambda s: chat_store.set_active(s, chat.id, reachable, now=services.clock()))
