"""Helpers for the admin tests: an admin user, formatted messages, waiting for replies."""

from __future__ import annotations

import itertools
import time
from typing import Any

from bot.settings import Settings
from tests.support.botharness import make_settings, say

__all__ = [
    "ADMIN",
    "HELPERS",
    "USER",
    "admin_settings",
    "answered",
    "push_formatted",
    "push_stale_tap",
    "say",
]
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_telegram.tdhtml import utf16_len

ADMIN = 777
# More admins let a test talk in several private chats at once: the bot paces
# its replies to one private chat at about one a second, as Telegram requires.
HELPERS = (778, 779, 780, 781, 782)
USER = 2002
ADMIN_USER = {"id": ADMIN, "is_bot": False, "first_name": "Boss", "username": "boss"}
_message_ids = itertools.count(100_000)


def admin_settings(tg: FakeTelegram, **overrides: Any) -> Settings:
    tg.add_private_chat(ADMIN, first_name="Boss", username="boss")
    for helper in HELPERS:
        tg.add_private_chat(helper, first_name=f"Helper{helper}")
    return make_settings(tg, admins=(ADMIN, *HELPERS), **overrides)


def push_formatted(
    tg: FakeTelegram, chat_id: int, text: str, entities: list[dict[str, Any]]
) -> None:
    """Queue a message from the admin with formatting entities (offsets in UTF-16 units)."""
    command = text.split()[0]
    bot_command = {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
    chat = tg.chat(chat_id).to_api()
    tg.push_update(
        {
            "message": {
                "message_id": next(_message_ids),
                "from": ADMIN_USER,
                "chat": chat,
                "date": int(time.time()),
                "text": text,
                "entities": [bot_command, *entities],
            }
        }
    )


def push_stale_tap(tg: FakeTelegram, chat_id: int, message_id: int, data: str) -> str:
    """Queue a button tap on a message whose keyboard is already gone (an old client)."""
    chat = tg.chat(chat_id).to_api()
    query_id = f"stale{next(_message_ids)}"
    message = {"message_id": message_id, "from": tg.bot_user, "chat": chat, "date": 0, "text": "x"}
    tg.push_update(
        {
            "callback_query": {
                "id": query_id,
                "from": ADMIN_USER,
                "message": message,
                "chat_instance": "1",
                "data": data,
            }
        }
    )
    return query_id


def answered(tg: FakeTelegram, query_id: str) -> bool:
    """Whether the bot called answerCallbackQuery for `query_id` (even if it failed)."""
    return any(p.get("callback_query_id") == query_id for p in tg.calls("answerCallbackQuery"))
