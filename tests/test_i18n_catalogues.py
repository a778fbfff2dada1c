"""The catalogues: complete in every locale, placeholders and tags intact, every text sendable."""

from __future__ import annotations

import copy
import string
from datetime import UTC, datetime, timedelta

import pytest

from bot.briefings.prefs import ChatPrefs
from bot.render import catalogue, commands, prefs, texts
from bot.render.i18n import LANGUAGES, Lang, lang, supported
from bot.settings import LANGUAGE_CODES, Settings
from tests.support.tghtml_check import check_message

LOCALES = [code for code in LANGUAGES if code != "en"]


@pytest.mark.parametrize("code", LOCALES)
def test_catalogue_is_complete(code: str) -> None:
    assert catalogue.problems(code) == []


def test_checker_reports_missing_ids_and_mismatched_placeholders_and_tags() -> None:
    broken = copy.deepcopy(catalogue.read("de"))
    del broken[texts.STOPPED]
    broken[texts.SUBSCRIBED].string = "✅ Abonniert: {namen}."
    broken[texts.HELP_TITLE].string = "Befehle"
    broken[texts.FEEDS_NONE].flags.add("fuzzy")
    found = catalogue.problems("de", broken)
    assert any("missing" in line and "Stopped." in line for line in found)
    assert any("placeholders differ" in line and "{namen}" in line for line in found)
    assert any("HTML tags differ" in line for line in found)
    assert any("fuzzy" in line for line in found)


def test_new_ids_show_up_as_missing_until_translated() -> None:
    # What the lead sees after merging a branch that adds texts: `check` lists them.
    extended = copy.deepcopy(catalogue.read("ru"))
    extended.add("unused id from an older version", "старый текст")
    assert catalogue.problems("ru", extended) == ["ru: unused 'unused id from an older version'"]


def _sample(text: str) -> dict[str, str]:
    fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    return {f: f"x{i}" for i, f in enumerate(sorted(fields))}


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_every_message_renders_through_the_html_check(code: str) -> None:
    here = Lang(code)
    plain = set(commands.msgids())  # plain text: checked below as the usage lines they become
    for msgid, plural in catalogue.msgids().items():
        if msgid in plain:
            continue
        if plural is not None:
            for count in (1, 2, 5, 21):
                values = {k: v for k, v in _sample(plural).items() if k != "count"}
                check_message(here.plural((msgid, plural), count, **values))
            continue
        text = here(msgid, **_sample(msgid)) if _sample(msgid) else here(msgid)
        check_message(text)
    for command in commands.COMMANDS:
        check_message(commands.usage_line(command.name, here))
        assert 3 <= len(here(command.menu)) <= 256  # setMyCommands' description limits
    check_message(commands.help_text(admin=True, lang=here))
    check_message(prefs.help_defaults(Settings(), here))


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_keyboards_fit_telegram_in_every_locale(code: str) -> None:
    here = Lang(code)
    rows = prefs.settings_markup(ChatPrefs(language=code), here) + prefs.language_markup(code)
    for button in [b for row in rows for b in row]:
        assert 1 <= len(button.callback_data.encode()) <= 64
        assert button.text.strip()


def test_a_german_date_age_and_number() -> None:
    de = Lang("de")
    moment = datetime(2026, 3, 28, 7, 30, tzinfo=UTC)
    assert de.date(moment) == "Samstag, 28. März 2026"
    assert de.when(moment) == "Sa., 28. März, 07:30"
    assert de.age(timedelta(hours=3, minutes=5)) == "vor 3 Std."
    assert de.age(timedelta(seconds=20)) == "gerade eben"
    assert de.number(12345) == "12.345"
    assert Lang("ru").plural(texts.LATEST_HEADER, 3, scope="Мир") == "Последние 3 новости · Мир"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("de", "de"), ("de-AT", "de"), ("pt-br", None), ("", None), (None, None), ("TR", "tr")],
)
def test_telegram_language_codes_map_to_supported_languages(
    given: str | None, expected: str | None
) -> None:
    assert supported(given) == expected
    assert lang(given).code == (expected or "en")


def test_the_config_accepts_exactly_the_languages_with_a_catalogue() -> None:
    assert tuple(LANGUAGES) == LANGUAGE_CODES
    assert all(catalogue.read(code) for code in LOCALES)
