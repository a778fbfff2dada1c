"""Messages to send: Telegram HTML plus an inline keyboard, and its Bot API JSON.

Plain values that render builds and delivery sends; the outbox stores only
their primitives (text and the reply_markup JSON from `markup_json`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    callback_data: str


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One message to send: Telegram HTML and an inline keyboard (rows of buttons)."""

    html: str
    keyboard: tuple[tuple[Button, ...], ...] = ()


def markup_json(message: OutMessage) -> str | None:
    """Serialise an inline keyboard as Telegram's reply_markup JSON."""
    if not message.keyboard:
        return None
    rows = [
        [{"text": b.text, "callback_data": b.callback_data} for b in row]
        for row in message.keyboard
    ]
    return json.dumps({"inline_keyboard": rows}, ensure_ascii=False)
