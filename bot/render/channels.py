"""Texts of /manage: which channel a private chat acts on (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render import texts, tghtml
from bot.render.i18n import EN, Lang
from bot.services.channels import ManagedChannel

TITLE_MAX = 64


def title(channel: ManagedChannel) -> str:
    """The channel's title, escaped and short enough for a prefix."""
    name = channel.title if len(channel.title) <= TITLE_MAX else channel.title[:TITLE_MAX] + "…"
    return tghtml.bold(name)


def managing_prefix(channel: ManagedChannel, lang: Lang = EN) -> str:
    """The first line of every reply while a private chat manages a channel."""
    return lang(texts.MANAGING_PREFIX, title=title(channel))


def channel_list(channels: Sequence[ManagedChannel], lang: Lang = EN) -> str:
    if not channels:
        return lang(texts.MANAGE_LIST_NONE)
    lines = [("▶️ " if c.current else "• ") + title(c) for c in channels]
    return lang(texts.MANAGE_LIST, lines="\n".join(lines))


def refusal(problem: str, *, name: str, lang: Lang = EN) -> str:
    """Why /manage did not take the channel: not_found, not_channel, not_admin, cannot_post."""
    shown = tghtml.bold(name[:TITLE_MAX])
    if problem == "not_channel":
        return lang(texts.MANAGE_NOT_CHANNEL, name=shown)
    if problem == "not_admin":
        return lang(texts.MANAGE_NOT_ADMIN, title=shown)
    if problem == "cannot_post":
        return lang(texts.MANAGE_BOT_CANNOT_POST, title=shown)
    return lang(texts.MANAGE_NOT_FOUND, name=shown)
