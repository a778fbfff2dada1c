"""Texts and buttons of /mute, /follow, /unmute, /unfollow and /filters (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.briefings.filters import MAX_ENTRIES, MAX_LENGTH
from bot.delivery.message import Button, OutMessage
from bot.render import texts, tghtml
from bot.render.i18n import EN, Lang
from bot.services.filters import FilterChange, FilterList, phrase_key

FILTER_PREFIX = "fl:"
_KIND_CODE = {"mute": "m", "follow": "f"}
_CODE_KIND = {v: k for k, v in _KIND_CODE.items()}


# Visible characters of typed words one answer line shows back: two such lines and the
# wording stay within one Telegram message however much was typed.
ECHO_BUDGET = 1500


def quoted(phrases: Sequence[str]) -> str:
    return ", ".join(f"“{tghtml.escape(p)}”" for p in phrases)


def echoed(phrases: Sequence[str]) -> str:
    """Words as typed, shown back: each cut at the length limit, the list cut at a budget."""
    shown: list[str] = []
    used = 0
    for phrase in phrases:
        cut = phrase if len(phrase) <= MAX_LENGTH else phrase[:MAX_LENGTH] + "…"
        if used + len(cut) > ECHO_BUDGET:
            return quoted(shown) + ", …"
        shown.append(cut)
        used += len(cut) + 4  # the quotes, comma and space
    return quoted(shown)


def filters_message(current: FilterList, lang: Lang = EN) -> OutMessage:
    """/filters: both lists, and a button under each entry that removes it."""
    if not current.total:
        return OutMessage(f"{lang(texts.FILTERS_HEADER)}\n{lang(texts.FILTERS_NONE)}")
    lines = [lang(texts.FILTERS_HEADER)]
    if current.mutes:
        muted = quoted(current.mutes)
        lines.append(lang(texts.FILTERS_MUTED, count=len(current.mutes), words=muted))
    if current.follows:
        followed = quoted(current.follows)
        lines.append(lang(texts.FILTERS_FOLLOWED, count=len(current.follows), words=followed))
    lines.append(lang(texts.FILTERS_TAP, count=current.total, limit=MAX_ENTRIES))
    return OutMessage("\n".join(lines), keyboard=filters_markup(current))


def filters_markup(current: FilterList) -> tuple[tuple[Button, ...], ...]:
    """Two buttons a row: mute words first, then keywords."""
    buttons = [_button("mute", p) for p in current.mutes]
    buttons += [_button("follow", p) for p in current.follows]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def _button(kind: str, phrase: str) -> Button:
    mark = "🔇" if kind == "mute" else "➕"
    return Button(f"{mark} {phrase} ✖", f"{FILTER_PREFIX}{_KIND_CODE[kind]}:{phrase_key(phrase)}")


def parse_filter_callback(data: str) -> tuple[str, str] | None:
    """(kind, key) from a /filters button, or None for data we never made."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] + ":" != FILTER_PREFIX or parts[1] not in _CODE_KIND:
        return None
    key = parts[2]
    if len(key) != 10 or any(c not in "0123456789abcdef" for c in key):
        return None
    return _CODE_KIND[parts[1]], key


def add_text(change: FilterChange, lang: Lang = EN) -> str:
    """The answer to /mute or /follow."""
    if change.too_long:
        return lang(texts.FILTER_TOO_LONG, words=echoed(change.too_long), limit=MAX_LENGTH)
    if change.no_words:
        return lang(texts.FILTER_NO_WORDS, words=echoed(change.no_words))
    if change.over_limit:
        return lang(texts.FILTER_LIMIT, count=change.over_limit, limit=MAX_ENTRIES)
    return _outcome(change, _ADDED, lang)


def remove_text(change: FilterChange, *, everything: bool, lang: Lang = EN) -> str:
    """The answer to /unmute or /unfollow."""
    muting = change.kind == "mute"
    if everything:
        if not change.changed:
            return lang(texts.FILTER_NONE_TO_REMOVE)
        return lang(texts.FILTER_UNMUTED_ALL if muting else texts.FILTER_UNFOLLOWED_ALL)
    return _outcome(change, _REMOVED, lang) or lang(texts.FILTER_NONE_TO_REMOVE)


# What a change says, by kind: (for the entries it changed, for those it left as they were).
_ADDED = {
    "mute": (texts.FILTER_MUTED, texts.FILTER_ALREADY_MUTED),
    "follow": (texts.FILTER_FOLLOWED, texts.FILTER_ALREADY_FOLLOWED),
}
_REMOVED = {
    "mute": (texts.FILTER_UNMUTED, texts.FILTER_NOT_MUTED),
    "follow": (texts.FILTER_UNFOLLOWED, texts.FILTER_NOT_FOLLOWED),
}


def _outcome(change: FilterChange, wording: dict[str, tuple[str, str]], lang: Lang) -> str:
    """One line for the entries changed, one for those left alone; empty when neither."""
    done, untouched = wording["mute" if change.kind == "mute" else "follow"]
    parts = []
    if change.changed:
        parts.append(lang(done, words=echoed(change.changed)))
    if change.unchanged:
        parts.append(lang(untouched, words=echoed(change.unchanged)))
    return "\n".join(parts)


def button_answer(change: FilterChange, lang: Lang = EN) -> str:
    """The toast after a 🗑 tap under /filters."""
    if not change.changed:
        return lang(texts.FILTER_BUTTON_GONE)
    return lang(texts.FILTER_REMOVED, word=change.changed[0])
