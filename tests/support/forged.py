"""Button taps a client could forge: any callback data, from any user, on any bot message."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.support.fake_telegram import FakeTelegram

_ids = itertools.count(1)


def push_forged_tap(
    tg: FakeTelegram, chat_id: int, message_id: int, data: str, *, user_id: int
) -> str:
    """Queue a callback query with `data` from `user_id`, whatever buttons the message has."""
    chat = tg.chat(chat_id).to_api()
    query_id = f"forged{next(_ids)}"
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    message = {
        "message_id": message_id,
        "from": tg.bot_user,
        "chat": chat,
        "date": int(time.time()),
        "text": "x",
    }
    tg.push_update(
        {
            "callback_query": {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": "1",
                "data": data,
            }
        }
    )
    return query_id


def tap_answers(tg: FakeTelegram, query_id: str) -> list[dict[str, Any]]:
    """The answerCallbackQuery calls the bot made for `query_id` (even failed ones)."""
    return [p for p in tg.calls("answerCallbackQuery") if p.get("callback_query_id") == query_id]
