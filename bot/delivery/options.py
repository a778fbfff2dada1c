"""How an outbox row is sent: text or photo, link preview, notification (pure).

The options are the JSON that `bot.briefings.layout` writes to the outbox
`options` column; an absent or unreadable value sends plain text without a
preview, as every row did before options existed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from telegram import LinkPreviewOptions

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Telegram's answers when it cannot fetch or use a photo URL: send the text without it.
PHOTO_REFUSED = (
    "wrong file identifier",
    "failed to get http url content",
    "wrong type of the web page content",
    "image_process_failed",
    "photo_invalid",
    "webpage_media_empty",
    "wrong remote file identifier",
    "not enough rights to send photos",  # a group that allows its members text only
)
# Telegram's answers when it takes no message for a chat at all: the chat is unreachable
# (its briefings pause until Telegram says the bot may write there again).
CHAT_REFUSED = (
    "chat not found",
    "user is deactivated",
    "bot was blocked",
    "bot was kicked",
    "bot is not a member",
    "need administrator rights",  # a channel that took the bot's right to post
    "not enough rights to send text messages",  # a group whose admins restricted the bot
    "have no rights to send a message",
)


@dataclass(frozen=True)
class SendPlan:
    photo: str | None = None
    preview: LinkPreviewOptions = NO_PREVIEW
    quiet: bool = False


def send_plan(raw: str | None) -> SendPlan:
    """Read a row's options; anything unexpected falls back to the plain defaults."""
    try:
        data: Any = json.loads(raw) if raw else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    photo = data.get("photo")
    preview = data.get("preview")
    options = NO_PREVIEW
    if isinstance(preview, dict) and isinstance(preview.get("url"), str):
        options = LinkPreviewOptions(
            url=preview["url"],
            prefer_small_media=preview.get("prefer_small_media") is True or None,
            prefer_large_media=preview.get("prefer_large_media") is True or None,
        )
    return SendPlan(
        photo=photo
        if isinstance(photo, str) and photo.startswith(("http://", "https://"))
        else None,
        preview=options,
        quiet=data.get("quiet") is True,
    )


def photo_refused(message: str) -> bool:
    """Telegram could not use the photo (a dead or non-image URL), as opposed to our text."""
    lowered = message.lower()
    return any(text in lowered for text in PHOTO_REFUSED)


def chat_refused(message: str) -> bool:
    """Telegram takes no message for this chat (blocked, removed, no right to send), as
    opposed to refusing this one message."""
    lowered = message.lower()
    return any(text in lowered for text in CHAT_REFUSED)
