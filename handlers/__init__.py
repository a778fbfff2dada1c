"""Telegram handlers; `register(app)` lists them all in one place."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.render import commands
from handlers import admin, errors, keywords, limits, manage, prefs, schedule, subscriber
from handlers.admin import Handler

# Keyed by the names in `bot.render.commands`, which holds their usage and menu
# texts; the admin commands' table is `handlers.admin.HANDLERS`.
HANDLERS: dict[str, Handler] = {
    "start": subscriber.start,
    "topics": subscriber.topics_cmd,
    "subscribe": subscriber.subscribe,
    "unsubscribe": subscriber.unsubscribe,
    "latest": subscriber.latest,
    "schedule": schedule.schedule,
    "timezone": schedule.timezone,
    "mute": keywords.mute,
    "unmute": keywords.unmute,
    "follow": keywords.follow,
    "unfollow": keywords.unfollow,
    "filters": keywords.filters_cmd,
    "manage": manage.manage,
    "stop": subscriber.stop,
    "help": subscriber.help_cmd,
    "language": prefs.language_cmd,
    "settings": prefs.settings_cmd,
}


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach every handler to the application."""
    app.add_handler(limits.layer(), group=limits.GROUP)  # per-user limits run before all else
    app.add_handler(manage.layer(), group=manage.GROUP)  # then: which chat a command acts on
    listed = commands.commands(admin=False)
    if {c.name for c in listed} != set(HANDLERS):
        raise RuntimeError("subscriber handlers and bot.render.commands list different commands")
    for command in listed:
        app.add_handler(CommandHandler(command.name, HANDLERS[command.name]))
    app.add_handler(CallbackQueryHandler(subscriber.topic_button, pattern=r"^tp:", block=False))
    app.add_handler(CallbackQueryHandler(subscriber.fulltext_button, pattern=r"^ft:", block=False))
    app.add_handler(CallbackQueryHandler(keywords.filter_button, pattern=r"^fl:", block=False))
    app.add_handler(CallbackQueryHandler(prefs.language_button, pattern=r"^lg:", block=False))
    app.add_handler(CallbackQueryHandler(prefs.settings_button, pattern=r"^st:", block=False))
    app.add_handler(ChatMemberHandler(subscriber.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, subscriber.migrated))
    reopened = filters.StatusUpdate.FORUM_TOPIC_REOPENED
    app.add_handler(MessageHandler(reopened, subscriber.topic_reopened))
    admin.register(app)  # before the catch-all for unknown commands
    app.add_handler(MessageHandler(filters.COMMAND, subscriber.unknown_command))
    # Last: any callback data no handler above claims still gets its answer.
    app.add_handler(CallbackQueryHandler(subscriber.unknown_button, block=False))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.FORWARDED, manage.forwarded))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            subscriber.plain_text,
        )
    )
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
            subscriber.not_text,
        )
    )
    app.add_error_handler(errors.on_error)


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
