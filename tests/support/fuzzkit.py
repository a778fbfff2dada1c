"""Random updates for the fuzz test: odd commands, arguments and callback data (seeded).

`push_tap` queues a tap with any data on a message the bot really sent, like a
modified client would; unlike `forged.push_forged_tap` the fake knows the query,
so the bot's answerCallbackQuery succeeds and is recorded as the answer.
"""

from __future__ import annotations

import random
import time

from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_telegram.server import _CallbackQuery

KNOWN = [
    "start", "topics", "subscribe", "unsubscribe", "latest", "schedule", "timezone", "stop",
    "help", "broadcast", "feeds", "addfeed", "removefeed", "resumefeed", "export", "stats",
    "audit",
]  # fmt: skip
ODD_WORDS = [
    "²", "٣", "１２", "𝟓", "-1", "0", "21", "3", "99999999999999999999", "9" * 400, "",
    "<b>&amp;</b>", "<a href='x'>", "&lt;", "\u200f", "\u202e", "\u200b", "👍🏽", "🇩🇪",
    "tech", "World", "#science", "Europe/Berlin", "berlin", "UTC", "07:30", "25:61", "7:5",
    "off", "instant", "#12", "12", "http://127.0.0.1:1/feed", "a" * 4000, "\t", "x\ny",
    "\x01", "\x7f", "ſ", "İ", "ß", "ǅ", "\ufeff", "🂡" * 100,
]  # fmt: skip


def odd_text(rng: random.Random, bot_username: str) -> str:
    """A command (known or not, with or without @suffix) with random arguments, or plain text."""
    roll = rng.random()
    args = " ".join(rng.choice(ODD_WORDS) for _ in range(rng.randint(0, 3)))
    if roll < 0.1:
        return args.strip() or "hello"
    name = rng.choice(KNOWN) if roll < 0.75 else rng.choice(["x", "LATEST", "Start", "zz9", "ß"])
    suffix = rng.choice(["", "", f"@{bot_username}", "@otherbot", f"@{bot_username.upper()}"])
    return (f"/{name}{suffix} {args}").rstrip()[:4096] or "/"


def odd_callback(rng: random.Random) -> str:
    """Callback data a forged client could send (Telegram caps it at 64 bytes)."""
    body = rng.choice(
        ["world", "tech", "nope", "²", "١", "-1", "0", "1", "7", str(2**31), str(2**70), "",
         "ok:1", "no:1", "ok:²", "ok:" + "9" * 30, "<b>", "\u202e", "🙂", ":" * 10]
    )  # fmt: skip
    prefix = rng.choice(["tp:", "ft:", "bc:", "bc:ok:", "bc:no:", "", "zz:", "TP:", "ft"])
    data = prefix + body
    if rng.random() < 0.05:
        data = "".join(rng.choice("ab:1²é🙂") for _ in range(64))
    return data.encode()[:64].decode("utf-8", "ignore") or "x"


def push_tap(tg: FakeTelegram, chat_id: int, message_id: int, data: str, *, user_id: int) -> str:
    """Queue a callback query with `data` on bot message `message_id` from `user_id`."""
    with tg._cond:
        query_id = f"fz{chat_id}x{message_id}x{time.monotonic_ns()}"
        tg._queries[query_id] = _CallbackQuery(query_id, chat_id, message_id, tg.clock())
    chat = tg.chat(chat_id).to_api()
    user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    message = {
        "message_id": message_id,
        "from": tg.bot_user,
        "chat": chat,
        "date": int(time.time()),
    }
    message["text"] = "x"
    tg.push_update(
        {"callback_query": {"id": query_id, "from": user, "message": message,
                            "chat_instance": str(chat_id), "data": data}}
    )  # fmt: skip
    return query_id
