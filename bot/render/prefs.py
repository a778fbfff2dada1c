"""Texts and keyboards of /language and /settings, and the defaults line of /help (pure)."""

from __future__ import annotations

from bot.briefings.prefs import ChatPrefs, choice_token
from bot.delivery.message import Button
from bot.render import texts
from bot.render.i18n import LANGUAGES, Lang
from bot.render.tghtml import escape
from bot.settings import ITEM_CHOICES, PREVIEW_CHOICES, Settings

LANGUAGE_PREFIX = "lg:"
SETTINGS_PREFIX = "st:"
_PREVIEW_WORDS = {
    "off": texts.VALUE_OFF,
    "small": texts.PREVIEW_SMALL,
    "large": texts.PREVIEW_LARGE,
}


def language_markup(current: str) -> list[list[Button]]:
    """One button per language, in its own name; ✅ marks the current one."""
    return [
        [Button(("✅ " if code == current else "") + name, LANGUAGE_PREFIX + code)]
        for code, name in LANGUAGES.items()
    ]


def language_unknown(code: str, lang: Lang) -> str:
    return lang(texts.LANGUAGE_UNKNOWN, code=escape(code[:16]), codes=", ".join(LANGUAGES))


def _on_off(value: bool, lang: Lang) -> str:
    return lang(texts.VALUE_ON if value else texts.VALUE_OFF)


def _next(choices: tuple[object, ...], current: object) -> object:
    return (
        choices[(choices.index(current) + 1) % len(choices)] if current in choices else choices[0]
    )


def settings_markup(prefs: ChatPrefs, lang: Lang) -> list[list[Button]]:
    """One button per setting showing its value; a tap sets the next value (st:<key>:<value>)."""

    def button(label: str, key: str, choices: tuple[object, ...], current: object) -> list[Button]:
        return [Button(label, f"{SETTINGS_PREFIX}{key}:{choice_token(_next(choices, current))}")]

    preview = lang(texts.SETTINGS_PREVIEW, value=lang(_PREVIEW_WORDS[prefs.link_preview]))
    quiet = lang(texts.SETTINGS_QUIET, value=_on_off(prefs.quiet, lang))
    flags = (True, False)
    return [
        button(preview, "p", PREVIEW_CHOICES, prefs.link_preview),
        button(
            lang(texts.SETTINGS_IMAGE, value=_on_off(prefs.lead_image, lang)),
            "i", flags, prefs.lead_image,
        ),
        button(
            lang(texts.SETTINGS_SUMMARIES, value=_on_off(prefs.summaries, lang)),
            "s", flags, prefs.summaries,
        ),
        button(
            lang(texts.SETTINGS_ITEMS, count=prefs.max_items), "n", ITEM_CHOICES, prefs.max_items
        ),
        button(quiet, "q", flags, prefs.quiet),
    ]  # fmt: skip


def parse_settings_callback(data: str) -> tuple[str, str] | None:
    """(key, value) of a settings button's data, or None when it is not one."""
    if not data.startswith(SETTINGS_PREFIX):
        return None
    key, sep, value = data[len(SETTINGS_PREFIX) :].partition(":")
    return (key, value) if sep else None


def help_defaults(settings: Settings, lang: Lang) -> str:
    """The /help line naming what new chats start with."""
    display = settings.display
    return lang(
        texts.HELP_DEFAULTS,
        preview=lang(_PREVIEW_WORDS[display.link_preview]),
        image=_on_off(display.lead_image, lang),
        summaries=_on_off(display.summaries, lang),
        items=settings.briefing.max_items,
        quiet=_on_off(display.quiet, lang),
    )
