"""Admin commands: /broadcast /feeds /addfeed /removefeed /resumefeed /export /stats /audit.

Each handler parses its arguments, calls one use case in `bot.admin`, renders
the data it returns with `bot.render.admin` and replies. `register` wraps
every one of them in `admin_only`: anyone not listed in `telegram.admins`
gets one fixed answer, the attempt is logged, and nothing else happens.
Commands marked private in `bot.render.commands` answer admins only in a
private chat. An `.opml` document from an admin is imported.
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
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.admin import audit, opml, stats
from bot.admin import broadcast as bc
from bot.admin import feeds as admin_feeds
from bot.admin.access import is_admin, parse_id
from bot.admin.feed_topics import set_feed_topics, show_feed_topics
from bot.admin.results import TooLong
from bot.delivery.message import OutMessage
from bot.ingest.topics import Topic, TopicMatcher
from bot.render import admin as render
from bot.render import commands, texts, tghtml
from bot.render.chart import render_chart
from bot.render.entities import Span
from bot.render.i18n import EN, LANGUAGES, Lang
from bot.services import lookup
from handlers.common import chat_of, lang_of, unknown_topic_text
from handlers.context import BotContext
from handlers.replies import send_html, send_messages

logger = logging.getLogger(__name__)

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
AUDIT_LINES = 20
OPML_TYPE = "text/x-opml"


# ---------------------------------------------------------------- guard


def _actor(update: Update) -> audit.Actor:
    user = update.effective_user
    assert user is not None
    return audit.Actor(user.id, f"@{user.username}" if user.username else user.full_name)


def sender_is_admin(context: BotContext, update: Update) -> bool:
    user = update.effective_user
    return is_admin(context.services.settings.telegram.admins, user.id if user else None)


def admin_only(callback: Handler, *, private_command: str | None = None) -> Handler:
    """Run `callback` for admins; refuse everyone else with one fixed answer.

    With `private_command`, an admin who uses it in a group gets only a hint to
    ask in private: its answer would show admin-only details to every member.
    """

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> None:
        chat = update.effective_chat
        if not sender_is_admin(context, update):
            user = update.effective_user
            logger.warning(
                "admin action refused user_id=%s chat_id=%s handler=%s",
                user.id if user else None,
                chat.id if chat else None,
                callback.__name__,
            )
            refusal = (await lang_of(context, update))(texts.ADMIN_ONLY)
            if update.callback_query is not None:
                await _answer(update.callback_query.answer(refusal, show_alert=True))
            elif chat is not None:
                await send_html(context, chat.id, refusal)
                if chat.type == ChatType.PRIVATE:
                    await clear_admin_menu(context.bot, chat.id)
            return
        if private_command is not None and chat is not None and chat.type != ChatType.PRIVATE:
            hint = render.private_only(private_command, await lang_of(context, update))
            await send_html(context, chat.id, hint)
            return
        await callback(update, context)

    return guarded


async def set_admin_menus(bot: Bot, admins: Sequence[int]) -> None:
    """Show the admin commands in the menu of each admin's private chat only (each language)."""
    for admin in admins:
        try:
            for code, language in menu_languages():
                menu = [BotCommand(n, t) for n, t in commands.menu(admin=True, lang=language)]
                await bot.set_my_commands(
                    menu, scope=BotCommandScopeChat(admin), language_code=code
                )
        except TelegramError as exc:  # "chat not found" until the admin has started the bot
            logger.warning("admin menu not set admin_id=%s: %s", admin, exc.message)


async def clear_admin_menu(bot: Bot, chat_id: int) -> None:
    """Take the admin menu from a private chat whose user is no admin (any more).

    Menus are set for the admins of the day at start; one set for an admin since
    removed from `telegram.admins` stays until deleted, and nothing lists them.
    """
    scope = BotCommandScopeChat(chat_id)
    try:
        if not await bot.get_my_commands(scope=scope):
            return  # never an admin: the usual case, one request
        for code, _language in menu_languages():
            await bot.delete_my_commands(scope=scope, language_code=code)
        logger.info("admin menu removed chat_id=%s", chat_id)
    except TelegramError as exc:
        logger.warning("admin menu not removed chat_id=%s: %s", chat_id, exc.message)


def menu_languages() -> list[tuple[str | None, Lang]]:
    """(language_code, Lang) per menu: English as the default (None), then every language."""
    return [(None, EN)] + [(code, Lang(code)) for code in LANGUAGES]


async def set_menus(bot: Bot) -> None:
    """The subscriber command menu, once per language (Telegram picks by the user's app)."""
    for code, language in menu_languages():
        menu = [BotCommand(n, t) for n, t in commands.menu(admin=False, lang=language)]
        await bot.set_my_commands(menu, language_code=code)


async def _answer(call: Awaitable[bool]) -> None:
    """Answer a button tap; a tap answered too late (bot was down) is not an error."""
    try:
        await call
    except BadRequest as exc:
        logger.info("callback not answered: %s", exc.message)


# ---------------------------------------------------------------- broadcast


def _spans(message: Message) -> list[Span]:
    return [
        Span(str(e.type), e.offset, e.length, e.url, e.language, e.user.id if e.user else None)
        for e in message.entities
    ]


def _control_markup(broadcast_id: int, audience: int, lang: Lang) -> InlineKeyboardMarkup:
    send = InlineKeyboardButton(
        render.send_button(audience, lang), callback_data=f"{bc.CONFIRM_PREFIX}{broadcast_id}"
    )
    cancel = InlineKeyboardButton(
        lang(texts.BROADCAST_CANCEL_BUTTON), callback_data=f"{bc.CANCEL_PREFIX}{broadcast_id}"
    )
    return InlineKeyboardMarkup([[send, cancel]])


def _refusal(
    problem: lookup.UnknownName | TooLong | None, topics: Sequence[Topic], lang: Lang
) -> str:
    """Why a /broadcast message is not taken (None: it has no text)."""
    if problem is None:
        return commands.usage_line("broadcast", lang)
    if isinstance(problem, TooLong):
        return render.too_long(problem, lang)
    return unknown_topic_text(problem, topics, lang)


async def broadcast(update: Update, context: BotContext) -> None:
    services, chat, message = context.services, chat_of(update), update.effective_message
    assert message is not None and message.text is not None
    topics = services.settings.topics
    request = bc.parse_request(message.text, _spans(message), topics)
    lang = await lang_of(context, update)
    if not isinstance(request, bc.Request):
        await send_html(context, chat.id, _refusal(request, topics, lang))
        return
    topic = services.settings.topic(request.topic) if request.topic else None
    scope = topic.name if topic else None
    actor, now = _actor(update), services.clock()
    draft = await services.db(
        lambda s: bc.create_draft(s, actor=actor, chat_id=chat.id, request=request, now=now)
    )
    if draft.audience == 0:
        await send_html(context, chat.id, render.nobody(scope, lang))
        return
    if await send_html(context, chat.id, request.html) is None:  # the preview
        return
    markup = _control_markup(draft.id, draft.audience, lang)
    control = await send_html(
        context, chat.id, render.preview(draft.audience, scope, lang), markup=markup
    )
    if control is not None:
        message_id = control.message_id
        await services.db(lambda s: bc.set_status_message(s, draft.id, message_id))


def _parse_tap(data: str) -> tuple[bool, int] | None:
    """(confirming, broadcast id) from `bc:ok:<id>` / `bc:no:<id>`; None for anything else."""
    for prefix, confirming in ((bc.CONFIRM_PREFIX, True), (bc.CANCEL_PREFIX, False)):
        if data.startswith(prefix):
            broadcast_id = parse_id(data.removeprefix(prefix))
            return None if broadcast_id is None else (confirming, broadcast_id)
    return None


async def broadcast_button(update: Update, context: BotContext) -> None:
    query, services = update.callback_query, context.services
    assert query is not None
    parsed = _parse_tap(query.data or "")
    lang = await lang_of(context, update)
    if parsed is None:
        await _answer(query.answer(lang(texts.BROADCAST_GONE)))
        return
    confirming, broadcast_id = parsed
    actor, now, rate = (
        _actor(update),
        services.clock(),
        services.settings.delivery.messages_per_second,
    )
    tap = await services.db(
        lambda s: bc.tap(s, broadcast_id, confirming=confirming, actor=actor, now=now)
    )
    answer, control_text = render.tap_reply(tap, now=now, per_second=rate, lang=lang)
    await _answer(query.answer(answer))
    if control_text is not None and query.message is not None:
        try:
            await context.bot.edit_message_text(
                control_text,
                query.message.chat.id,
                query.message.message_id,
                parse_mode=ParseMode.HTML,
            )
        except BadRequest as exc:
            logger.info("broadcast control not edited id=%s: %s", broadcast_id, exc.message)


# ---------------------------------------------------------------- feeds


async def feeds_cmd(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    now = services.clock()
    lines = await services.db(lambda s: admin_feeds.feed_lines(s, now=now))
    lang = await lang_of(context, update)
    messages = tghtml.split_html_message(render.feed_list(lines, now=now, lang=lang))
    await send_messages(context, chat.id, [OutMessage(m) for m in messages])


async def addfeed(update: Update, context: BotContext) -> None:
    services, chat, args = context.services, chat_of(update), context.args or []
    lang = await lang_of(context, update)
    if not args:
        await send_html(context, chat.id, commands.usage_line("addfeed", lang))
        return
    resolution = lookup.resolve_topics(args[1:], services.settings.topics)
    if resolution.unknown:
        reply = unknown_topic_text(resolution.unknown[0], services.settings.topics, lang)
        await send_html(context, chat.id, reply)
        return
    await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
    change = await admin_feeds.add_feed(
        engine=services.engine,
        fetcher=services.fetcher,
        actor=_actor(update),
        url=args[0],
        topics=resolution.slugs,
        clock=services.clock,
    )
    await send_html(context, chat.id, render.feed_change(change, lang))


async def _feed_change(update: Update, context: BotContext, command: str) -> None:
    services, chat, args = context.services, chat_of(update), context.args or []
    feed_id = parse_id(args[0]) if len(args) == 1 else None
    lang = await lang_of(context, update)
    if feed_id is None:
        await send_html(context, chat.id, commands.usage_line(command, lang))
        return
    change = admin_feeds.remove_feed if command == "removefeed" else admin_feeds.resume_feed
    actor, now = _actor(update), services.clock()
    outcome = await services.db(lambda s: change(s, feed_id, actor=actor, now=now))
    await send_html(context, chat.id, render.feed_change(outcome, lang))


async def removefeed(update: Update, context: BotContext) -> None:
    await _feed_change(update, context, "removefeed")


async def resumefeed(update: Update, context: BotContext) -> None:
    await _feed_change(update, context, "resumefeed")


async def feedtopics(update: Update, context: BotContext) -> None:
    services, chat, args = context.services, chat_of(update), context.args or []
    feed_id = parse_id(args[0]) if args else None
    lang = await lang_of(context, update)
    if feed_id is None:
        await send_html(context, chat.id, commands.usage_line("feedtopics", lang))
        return
    if len(args) == 1:
        shown = await services.db(lambda s: show_feed_topics(s, feed_id))
        await send_html(context, chat.id, render.feed_change(shown, lang))
        return
    topics = services.settings.topics
    nothing = {"none", lang(texts.NONE).casefold()}  # unless a topic has that name
    clear = len(args) == 2 and args[1].casefold() in nothing
    names = [] if clear and lookup.resolve_topic(args[1], topics) is None else args[1:]
    resolution = lookup.resolve_topics(names, topics)
    if resolution.unknown:
        await send_html(context, chat.id, unknown_topic_text(resolution.unknown[0], topics, lang))
        return
    matcher, actor, now = TopicMatcher.from_topics(topics), _actor(update), services.clock()
    change = await services.db(
        lambda s: set_feed_topics(
            s, feed_id, resolution.slugs, matcher=matcher, actor=actor, now=now
        )
    )
    await send_html(context, chat.id, render.feed_change(change, lang))


# ---------------------------------------------------------------- OPML


async def export_cmd(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    feeds = await services.db(opml.export_feeds)
    data = opml.build_opml(feeds, title="newsbrief feeds", now=services.clock())
    caption = (await lang_of(context, update))(texts.OPML_EXPORT_CAPTION, count=len(feeds))
    await context.bot.send_document(chat.id, document=data, filename="feeds.opml", caption=caption)


async def opml_document(update: Update, context: BotContext) -> None:
    services, chat, message = context.services, chat_of(update), update.effective_message
    assert message is not None and message.document is not None
    document, lang = message.document, await lang_of(context, update)
    if (document.file_size or 0) > opml.MAX_BYTES:
        await send_html(context, chat.id, lang(texts.OPML_TOO_LARGE, limit=opml.MAX_BYTES // 1024))
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    try:
        items = await asyncio.to_thread(opml.parse_opml, data, services.settings.topics)
    except opml.OpmlError as exc:
        await send_html(context, chat.id, render.opml_refused(str(exc), lang))
        return
    actor, now = _actor(update), services.clock()
    private = services.settings.fetch.allow_private_networks
    report = await asyncio.to_thread(
        opml.import_feeds_into,
        services.engine,
        items,
        actor=actor,
        now=now,
        allow_private=private,
    )
    await send_html(context, chat.id, render.opml_imported(report, lang))


# ---------------------------------------------------------------- health


async def stats_cmd(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    now = services.clock()
    report = await services.db(lambda s: stats.report(s, now=now))
    lang = await lang_of(context, update)
    await send_html(context, chat.id, render.stats(report.numbers, services.settings.topics, lang))
    png = await asyncio.to_thread(render_chart, report.series, lang)
    try:
        caption = lang(texts.STATS_CHART_CAPTION)
        await context.bot.send_photo(chat.id, photo=png, caption=caption)
    except TelegramError as exc:
        logger.warning("stats chart not sent chat_id=%s: %s", chat.id, exc)


async def audit_cmd(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    entries = await services.db(lambda s: audit.recent(s, AUDIT_LINES))
    lang = await lang_of(context, update)
    messages = tghtml.split_html_message(render.audit_log(entries, lang))
    await send_messages(context, chat.id, [OutMessage(m) for m in messages])


# ---------------------------------------------------------------- registration

# Keyed by the names in `bot.render.commands`, which holds their usage and menu texts.
HANDLERS: dict[str, Handler] = {
    "broadcast": broadcast,
    "feeds": feeds_cmd,
    "addfeed": addfeed,
    "removefeed": removefeed,
    "resumefeed": resumefeed,
    "feedtopics": feedtopics,
    "export": export_cmd,
    "stats": stats_cmd,
    "audit": audit_cmd,
}


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach the admin handlers (before the catch-all unknown-command handler)."""
    listed = commands.commands(admin=True)
    if {c.name for c in listed} != set(HANDLERS):
        raise RuntimeError("admin handlers and bot.render.commands list different commands")
    for command in listed:
        private = command.name if command.private else None
        callback = admin_only(HANDLERS[command.name], private_command=private)
        app.add_handler(CommandHandler(command.name, callback))
    app.add_handler(
        CallbackQueryHandler(admin_only(broadcast_button), pattern=r"^bc:", block=False)
    )
    admins = app.bot_data["services"].settings.telegram.admins
    app.add_handler(MessageHandler(opml_files(admins), admin_only(opml_document)))


def opml_files(admins: Sequence[int]) -> filters.BaseFilter:
    """Documents in a private chat taken as OPML: named `.opml` or typed as OPML; and from
    an admin, `.xml` too, as Inoreader and FreshRSS (`.opml.xml`) name their exports."""
    opml_named = filters.Document.FileExtension("opml") | filters.Document.MimeType(OPML_TYPE)
    from_admin_xml = filters.Document.FileExtension("xml") & filters.User(user_id=admins)
    return filters.ChatType.PRIVATE & (opml_named | from_admin_xml)
