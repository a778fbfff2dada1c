"""Languages: gettext catalogues from bot/locale/*.po, and Babel for dates, numbers and ages.

Message ids are the English texts in `bot.render.texts` and the command list;
English needs no catalogue. Each other language is one `.po` file, compiled in
memory the first time it is used (babel.messages reads the .po and writes the
.mo bytes that `gettext` loads), so a fresh clone installed with
`pip install -e .` has working catalogues without a build step, and a .po
edit takes effect at the next start without a stale .mo to forget.
"""

from __future__ import annotations

import gettext
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from babel import dates, numbers
from babel.messages import mofile, pofile

DEFAULT = "en"
# Code → the language's own name, as the /language picker shows it.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "ru": "Русский",
    "de": "Deutsch",
    "es": "Español",
    "tr": "Türkçe",
}
# CLDR locale for formatting: English as written in Europe ("Saturday, 28 March 2026").
_CLDR = {"en": "en_150"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

Plural = tuple[str, str]  # (singular, plural) English message ids


# Besides a code, /language takes each language's own name or its English one.
_ENGLISH_NAMES = {
    "en": "English",
    "ru": "Russian",
    "de": "German",
    "es": "Spanish",
    "tr": "Turkish",
}


def _name_key(name: str) -> str:
    """A language name as typed, compared without case or accents ("espanol", "TÜRKÇE")."""
    letters = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in letters if not unicodedata.combining(c)).replace("ı", "i")


_BY_NAME = {
    _name_key(name): code for names in (LANGUAGES, _ENGLISH_NAMES) for code, name in names.items()
}


def language_named(text: str) -> str | None:
    """The language `/language` is asked for: a code ("de", "de-AT"), the language's own
    name ("Deutsch", "Español") or its English one ("German"); None when we have none."""
    return _BY_NAME.get(_name_key(text)) or supported(text)


def supported(code: str | None) -> str | None:
    """The supported language for a Telegram `language_code` ("de-AT" → "de"), else None."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else None


def po_path(code: str) -> Path:
    return LOCALE_DIR / f"{code}.po"


@cache
def _translations(code: str) -> gettext.NullTranslations:
    if code == DEFAULT:
        return gettext.NullTranslations()
    with po_path(code).open("rb") as fp:
        catalog = pofile.read_po(fp, locale=code)
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Lang:
    """Translate texts and format dates, numbers and ages for one language (pure)."""

    code: str = DEFAULT
    _t: gettext.NullTranslations = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_t", _translations(self.code))

    def __call__(self, msgid: str, /, **values: object) -> str:
        """The translation of `msgid` with `{placeholders}` filled (values already escaped)."""
        text = self._t.gettext(msgid)
        return text.format(**values) if values else text

    def plural(self, forms: Plural, count: int, /, **values: object) -> str:
        """The form for `count` (the language's own plural rules); `{count}` is formatted."""
        text = self._t.ngettext(forms[0], forms[1], count)
        return text.format(count=self.number(count), **values)

    @property
    def cldr(self) -> str:
        return _CLDR.get(self.code, self.code)

    def number(self, value: float) -> str:
        return numbers.format_decimal(value, locale=self.cldr)

    def day_month(self, moment: date) -> str:
        """A day and short month: "8 Dec", "8. Dez.", "8 дек."."""
        return dates.format_skeleton("dMMM", moment, locale=self.cldr)

    def date(self, moment: date) -> str:
        """ "Wednesday, 2 December 2026" in the language (a datetime: in its own zone)."""
        return dates.format_date(moment, format="full", locale=self.cldr)

    def when(self, moment: datetime) -> str:
        """A short weekday, date and 24-hour time: "Wed, 2 Dec, 07:30", "Mi., 2. Dez., 07:30"."""
        day = dates.format_skeleton("MMMEd", moment, locale=self.cldr)
        return f"{day}, {moment:%H:%M}"

    def age(self, delta: timedelta) -> str:
        """How long ago, coarsely (whole minutes, hours or days, rounded down), in CLDR's
        short relative form: "just now", "12 min. ago", "vor 3 Std.", "hace 2 d"."""
        seconds = max(0, int(delta.total_seconds()))
        if seconds < 60:
            return self("just now")  # texts.JUST_NOW (texts imports this module)
        unit, size = next((u, s) for u, s in _AGE_UNITS if seconds >= s)
        return _relative(self.cldr, unit, seconds // size)


@lru_cache(maxsize=8192)
def _relative(cldr: str, unit: AgeUnit, count: int) -> str:
    """CLDR's short "N units ago" (cached: a briefing repeats the same few ages)."""
    return dates.format_timedelta(
        timedelta(seconds=-count * dict(_AGE_UNITS)[unit]),
        granularity=unit,
        threshold=1,
        add_direction=True,
        format="short",
        locale=cldr,
    )


AgeUnit = Literal["day", "hour", "minute"]
_AGE_UNITS: tuple[tuple[AgeUnit, int], ...] = (
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)


EN = Lang()


def lang(code: str | None) -> Lang:
    """The `Lang` for a stored code; unknown or empty codes fall back to English."""
    return Lang(supported(code) or DEFAULT)
