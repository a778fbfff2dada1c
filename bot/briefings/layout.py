"""A briefing's messages as a chat wants them: language, summaries, preview, image, quiet (pure).

Each message comes with its send options (JSON for the outbox `options` column,
None for a plain text message) as `bot.delivery.sender` reads them:
`{"photo": url}` sends the message as a photo with the text as caption (or,
with empty text, the photo alone); `{"preview": {...}}` is the message's
`link_preview_options`; `{"quiet": true}` is `disable_notification`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.briefings.prefs import ChatPrefs
from bot.delivery.message import OutMessage
from bot.render.i18n import lang
from bot.render.stories import ListStyle, StoryView, compose_story_list
from bot.render.tghtml import visible_length

CAPTION_LIMIT = 1024  # Telegram's caption limit, in characters after HTML parsing


def lead_image(views: Sequence[StoryView]) -> str | None:
    """The image of the first listed story that has one (already checked at ingest)."""
    return next((v.image_url for v in views if v.image_url), None)


def preview_options(prefs: ChatPrefs, views: Sequence[StoryView]) -> dict[str, Any] | None:
    """`link_preview_options` showing the lead story's page, or None when previews are off."""
    lead = views[0].link if views else None
    if prefs.link_preview == "off" or not lead:
        return None
    size = "prefer_small_media" if prefs.link_preview == "small" else "prefer_large_media"
    return {"url": lead, size: True}


def briefing_messages(
    views: Sequence[StoryView], *, header_html: str, now: datetime, prefs: ChatPrefs
) -> list[tuple[OutMessage, str | None]]:
    """The briefing's messages, each with its send options JSON (None: plain text)."""
    style = ListStyle(lang=lang(prefs.language), summaries=prefs.summaries)
    messages = compose_story_list(views, header_html=header_html, now=now, style=style)
    options: list[dict[str, Any]] = [{} for _ in messages]
    preview = preview_options(prefs, views)
    if preview is not None:
        options[0]["preview"] = preview
    image = lead_image(views) if prefs.lead_image else None
    if image is not None:
        if visible_length(messages[0].html) <= CAPTION_LIMIT:
            options[0] = {"photo": image}  # a photo with a caption has no link preview
        else:
            messages.insert(0, OutMessage(""))
            options.insert(0, {"photo": image})
    if prefs.quiet:
        for each in options:
            each["quiet"] = True
    return [(m, json.dumps(o) if o else None) for m, o in zip(messages, options, strict=True)]
