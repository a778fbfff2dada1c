"""Admin commands: /broadcast /feeds /addfeed /removefeed /resumefeed /export /stats /audit.

Every handler here is wrapped in `admin_only`: anyone not listed in
`telegram.admins` gets one fixed answer, the attempt is logged, and nothing
else happens. An `.opml` document from an admin is imported.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.admin import audit, opml, stats
from bot.admin import broadcast as bc
from bot.admin import feeds as admin_feeds
from bot.delivery.message import OutMessage
from bot.render import texts, tghtml
from bot.render.chart import render_chart
from bot.render.entities import Span
from bot.services import lookup
from handlers.common import chat_of, unknown_topic_text
from handlers.context import BotContext
from handlers.replies import send_html, send_messages

logger = logging.getLogger(__name__)

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


# ---------------------------------------------------------------- guard


def _actor(update: Update) -> audit.Actor:
    user = update.effective_user
    assert user is not None
    return audit.Actor(user.id, f"@{user.username}" if user.username else user.full_name)


def is_admin(context: BotContext, update: Update) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.services.settings.telegram.admins


def admin_only(callback: Handler) -> Handler:
    """Run `callback` for admins; refuse everyone else with one fixed answer."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> None:
        if is_admin(context, update):
            await callback(update, context)
            return
        user, chat = update.effective_user, update.effective_chat
        logger.warning(
            "admin action refused user_id=%s chat_id=%s handler=%s",
            user.id if user else None,
            chat.id if chat else None,
            callback.__name__,
        )
        if update.callback_query is not None:
            await _answer(update.callback_query.answer(texts.ADMIN_ONLY, show_alert=True))
        elif chat is not None:
            await send_html(context, chat.id, texts.ADMIN_ONLY)

    return guarded


async def set_admin_menus(bot: Bot, admins: Sequence[int]) -> None:
    """Show the admin commands in the menu of each admin's private chat only."""
    menu = [BotCommand(k, v) for k, v in {**texts.MENU, **texts.ADMIN_MENU}.items()]
    for admin in admins:
        try:
            await bot.set_my_commands(menu, scope=BotCommandScopeChat(admin))
        except TelegramError as exc:  # "chat not found" until the admin has started the bot
            logger.warning("admin menu not set admin_id=%s: %s", admin, exc.message)


# ---------------------------------------------------------------- broadcast


def _spans(message: Message) -> list[Span]:
    return [
        Span(str(e.type), e.offset, e.length, e.url, e.language, e.user.id if e.user else None)
        for e in message.entities
    ]


def _control_markup(broadcast_id: int, audience: int) -> InlineKeyboardMarkup:
    send = texts.BROADCAST_SEND_BUTTON.format(audience=bc.chats(audience))
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(send, callback_data=f"{bc.CONFIRM_PREFIX}{broadcast_id}"),
                InlineKeyboardButton(
                    texts.BROADCAST_CANCEL_BUTTON, callback_data=f"{bc.CANCEL_PREFIX}{broadcast_id}"
                ),
            ]
        ]
    )


@admin_only
async def broadcast(update: Update, context: BotContext) -> None:
    services, chat, message = context.services, chat_of(update), update.effective_message
    assert message is not None and message.text is not None
    topics = services.settings.topics
    request = bc.parse_request(message.text, _spans(message), topics)
    if isinstance(request, lookup.UnknownName):
        await send_html(context, chat.id, unknown_topic_text(request, topics))
        return
    if isinstance(request, str):
        await send_html(context, chat.id, request)
        return
    topic = services.settings.topic(request.topic) if request.topic else None
    scope = topic.name if topic else None
    actor, now = _actor(update), services.clock()
    draft = await services.db(
        lambda s: bc.create_draft(s, actor=actor, chat_id=chat.id, request=request, now=now)
    )
    if draft.audience == 0:
        await send_html(context, chat.id, texts.BROADCAST_NOBODY.format(scope=bc.scope_text(scope)))
        return
    if await send_html(context, chat.id, draft.text) is None:  # the preview
        return
    markup = _control_markup(draft.id or 0, draft.audience)
    control = await send_html(
        context, chat.id, bc.format_preview(draft.audience, scope), markup=markup
    )
    if control is not None:
        draft_id, message_id = draft.id or 0, control.message_id
        await services.db(lambda s: bc.set_status_message(s, draft_id, message_id))


@admin_only
async def broadcast_button(update: Update, context: BotContext) -> None:
    query, services = update.callback_query, context.services
    assert query is not None and query.data is not None
    prefix, _, raw_id = query.data.rpartition(":")
    if not raw_id.isdigit() or prefix + ":" not in (bc.CONFIRM_PREFIX, bc.CANCEL_PREFIX):
        await _answer(query.answer(texts.BROADCAST_GONE))
        return
    confirming, broadcast_id = prefix + ":" == bc.CONFIRM_PREFIX, int(raw_id)
    actor, now, rate = (
        _actor(update),
        services.clock(),
        services.settings.delivery.messages_per_second,
    )
    outcome = await services.db(
        lambda s: bc.tap(
            s, broadcast_id, confirming=confirming, actor=actor, now=now, per_second=rate
        )
    )
    await _answer(query.answer(outcome.answer))
    if outcome.control_text is not None and query.message is not None:
        try:
            await context.bot.edit_message_text(
                outcome.control_text,
                query.message.chat.id,
                query.message.message_id,
                parse_mode=ParseMode.HTML,
            )
        except BadRequest as exc:
            logger.info("broadcast control not edited id=%s: %s", broadcast_id, exc.message)


async def _answer(call: Awaitable[bool]) -> None:
    """Answer a button tap; a tap answered too late (bot was down) is not an error."""
    try:
        await call
    except BadRequest as exc:
        logger.info("callback not answered: %s", exc.message)


# ---------------------------------------------------------------- feeds


def _feed_id(args: Sequence[str]) -> int | None:
    if len(args) != 1:
        return None
    try:
        return int(args[0].lstrip("#"))
    except ValueError:
        return None


@admin_only
async def feeds_cmd(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    now = services.clock()
    lines = await services.db(lambda s: admin_feeds.feed_lines(s, now=now))
    blocks = admin_feeds.format_feed_list(lines, now=now)
    messages = tghtml.split_html_message(blocks)
    await send_messages(context, chat.id, [OutMessage(m) for m in messages])


@admin_only
async def addfeed(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    args = context.args or []
    if not args:
        await send_html(context, chat.id, texts.admin_usage_line("addfeed"))
        return
    resolution = lookup.resolve_topics(args[1:], services.settings.topics)
    if resolution.unknown:
        await send_html(
            context, chat.id, unknown_topic_text(resolution.unknown[0], services.settings.topics)
        )
        return
    await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
    reply = await admin_feeds.add_feed(
        engine=services.engine,
        fetcher=services.fetcher,
        actor=_actor(update),
        url=args[0],
        topics=resolution.slugs,
        clock=services.clock,
    )
    await send_html(context, chat.id, reply)


async def _feed_change(update: Update, context: BotContext, command: str) -> None:
    services, chat = context.services, chat_of(update)
    feed_id = _feed_id(context.args or [])
    if feed_id is None:
        await send_html(context, chat.id, texts.admin_usage_line(command))
        return
    change = admin_feeds.remove_feed if command == "removefeed" else admin_feeds.resume_feed
    actor, now = _actor(update), services.clock()
    await send_html(
        context, chat.id, await services.db(lambda s: change(s, feed_id, actor=actor, now=now))
    )


@admin_only
async def removefeed(update: Update, context: BotContext) -> None:
    await _feed_change(update, context, "removefeed")


@admin_only
async def resumefeed(update: Update, context: BotContext) -> None:
    await _feed_change(update, context, "resumefeed")


# ---------------------------------------------------------------- OPML


@admin_only
async def export_cmd(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    feeds = await services.db(opml.export_feeds)
    data = opml.build_opml(feeds, title="newsbrief feeds", now=services.clock())
    await context.bot.send_document(
        chat.id,
        document=data,
        filename="feeds.opml",
        caption=texts.OPML_EXPORT_CAPTION.format(count=len(feeds)),
    )


@admin_only
async def opml_document(update: Update, context: BotContext) -> None:
    services, chat, message = context.services, chat_of(update), update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    if (document.file_size or 0) > opml.MAX_BYTES:
        await send_html(context, chat.id, texts.OPML_TOO_LARGE.format(limit=opml.MAX_BYTES // 1024))
        return
    file = await document.get_file()
    data = bytes(await file.download_as_bytearray())
    try:
        items = await asyncio.to_thread(opml.parse_opml, data, services.settings.topics)
    except opml.OpmlError as exc:
        await send_html(context, chat.id, texts.OPML_REFUSED.format(reason=tghtml.escape(str(exc))))
        return
    actor, now = _actor(update), services.clock()
    report = await services.db(lambda s: opml.import_feeds(s, items, actor=actor, now=now))
    await send_html(
        context,
        chat.id,
        texts.OPML_IMPORTED.format(
            added=report.added, present=report.present, invalid=report.invalid
        ),
    )


# ---------------------------------------------------------------- health


@admin_only
async def stats_cmd(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    now = services.clock()
    numbers = await services.db(lambda s: stats.collect_stats(s, now=now))
    await send_html(context, chat.id, stats.format_stats(numbers, services.settings.topics))
    series = await services.db(lambda s: stats.daily_series(s, now=now))
    png = await asyncio.to_thread(render_chart, series)
    try:
        await context.bot.send_photo(chat.id, photo=png, caption=texts.STATS_CHART_CAPTION)
    except TelegramError as exc:
        logger.warning("stats chart not sent chat_id=%s: %s", chat.id, exc)


@admin_only
async def audit_cmd(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    entries = await services.db(lambda s: audit.recent(s, 20))
    messages = tghtml.split_html_message(audit.format_log(entries))
    await send_messages(context, chat.id, [OutMessage(m) for m in messages])


# ---------------------------------------------------------------- registration

COMMANDS: dict[str, Handler] = {
    "broadcast": broadcast,
    "feeds": feeds_cmd,
    "addfeed": addfeed,
    "removefeed": removefeed,
    "resumefeed": resumefeed,
    "export": export_cmd,
    "stats": stats_cmd,
    "audit": audit_cmd,
}


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach the admin handlers (before the catch-all unknown-command handler)."""
    for name, callback in COMMANDS.items():
        app.add_handler(CommandHandler(name, callback, block=False))
    app.add_handler(CallbackQueryHandler(broadcast_button, pattern=r"^bc:", block=False))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.Document.FileExtension("opml"),
            opml_document,
            block=False,
        )
    )
