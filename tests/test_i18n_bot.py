"""Languages through the real PTB stack: a German user, /language, menus, a German briefing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.briefings.compose import compose_scheduled
from bot.settings import BotSettings, Settings
from bot.storage.models import Chat, Outbox
from tests.support.botharness import make_settings, running_bot, say, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.seed import seed_stories
from tests.support.tghtml_check import check_message

GERMAN, BRAZILIAN, GROUP, GROUP_ADMIN = 2001, 2002, -3001, 2003


@pytest.fixture
async def bot(tg: FakeTelegram, engine: Engine) -> AsyncIterator[Settings]:
    settings = make_settings(tg, bot=BotSettings(language="es"))
    async with running_bot(settings, engine):
        yield settings


def _language(engine: Engine, chat_id: int) -> str | None:
    with Session(engine) as session:
        chat = session.get(Chat, chat_id)
        assert chat is not None
        return chat.language


async def test_a_german_user_gets_start_help_and_the_picker_in_german(
    tg: FakeTelegram, bot: Settings, engine: Engine
) -> None:
    tg.add_private_chat(GERMAN, language_code="de")
    [welcome] = await say(tg, GERMAN, "/start")
    assert "Willkommen bei deinem Nachrichten-Briefing" in welcome.text
    assert "Tippe auf ein Thema" in welcome.text
    assert _language(engine, GERMAN) == "de"
    [help_] = await say(tg, GERMAN, "/help")
    assert help_.text.startswith("Befehle\n")
    assert "/latest [Thema] [n]: die neuesten n Meldungen" in help_.text
    assert "/settings" in help_.text and "Neue Chats starten mit: Linkvorschau aus" in help_.text
    [usage] = await say(tg, GERMAN, "/subscribe")
    assert usage.text == "Verwendung: /subscribe <Thema> [Thema…]: Themen per Name folgen"
    [picker] = await say(tg, GERMAN, "/language")
    assert picker.text == "🌐 Wähle die Sprache, die ich in diesem Chat spreche:"
    labels = [b["text"] for b in picker.buttons]
    assert labels == ["English", "Русский", "✅ Deutsch", "Español", "Türkçe"]
    # Choosing Turkish edits the picker in place, in Turkish.
    tg.press_button(GERMAN, picker.message_id, "lg:tr")
    await wait_for(tg, lambda: "Türkçe konuşuyorum" in tg.messages(GERMAN)[-1].text)
    assert _language(engine, GERMAN) == "tr"
    [unknown] = await say(tg, GERMAN, "/bogus")
    assert unknown.text == "Bu komutu bilmiyorum. /help yapabildiklerimi listeler."


async def test_language_by_code_and_a_code_we_do_not_speak(
    tg: FakeTelegram, bot: Settings, engine: Engine
) -> None:
    tg.add_private_chat(BRAZILIAN, language_code="pt-br")
    [welcome] = await say(tg, BRAZILIAN, "/start")
    assert "Welcome to your news briefing" in welcome.text  # unsupported: English
    [refused] = await say(tg, BRAZILIAN, "/language pt")
    assert refused.text == 'There is no language "pt" here. Available: en, ru, de, es, tr.'
    [done] = await say(tg, BRAZILIAN, "/language ru")
    assert done.text == "🌐 Теперь в этом чате я говорю по-русски."
    [stop] = await say(tg, BRAZILIAN, "/stop")
    assert stop.text.startswith("⏸ Остановлено.")
    assert _language(engine, BRAZILIAN) == "ru"


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Deutsch", "de"), ("german", "de"), ("de-AT", "de"), ("Español", "es"), ("turkce", "tr")],
)
async def test_language_by_its_own_name_its_english_name_or_a_regional_code(
    tg: FakeTelegram, bot: Settings, engine: Engine, typed: str, code: str
) -> None:
    """'/language Deutsch' was refused ('There is no language "Deutsch" here'): only the
    bare codes were taken, while the picker shows the languages by their own names."""
    tg.add_private_chat(BRAZILIAN, language_code="pt-br")
    await say(tg, BRAZILIAN, f"/language {typed}")
    assert _language(engine, BRAZILIAN) == code
    [refused] = await say(tg, BRAZILIAN, "/language Deutschland")
    assert "Deutschland" in refused.text and _language(engine, BRAZILIAN) == code


async def test_groups_speak_the_configured_language_and_only_admins_change_it(
    tg: FakeTelegram, bot: Settings, engine: Engine
) -> None:
    tg.add_group(GROUP, admins=[GROUP_ADMIN], members=[GERMAN])
    tg.add_user(GERMAN, language_code="de")
    [welcome] = await say(tg, GROUP, "/start", from_user=GERMAN)
    assert "Te damos la bienvenida" in welcome.text  # bot.language = es, not the member's
    assert _language(engine, GROUP) is None  # follows the config until chosen
    [refused] = await say(tg, GROUP, "/language de", from_user=GERMAN)
    assert "solo los administradores" in refused.text
    [done] = await say(tg, GROUP, "/language de", from_user=GROUP_ADMIN)
    assert done.text == "🌐 Ab jetzt spreche ich in diesem Chat Deutsch."


async def test_the_command_menu_is_registered_in_every_language(
    tg: FakeTelegram, bot: Settings
) -> None:
    default = {c["command"]: c["description"] for c in tg.commands()}
    german = {c["command"]: c["description"] for c in tg.commands(language_code="de")}
    turkish = {c["command"]: c["description"] for c in tg.commands(language_code="tr")}
    assert default["language"] == "Choose the language"
    assert german["language"] == "Sprache wählen"
    assert turkish["latest"] == "Konularınızdaki en yeni haberler"
    assert set(default) == set(german) == set(turkish)
    for code in ("ru", "es"):
        assert len(tg.commands(language_code=code)) == len(default)


def test_a_german_chat_gets_a_german_briefing_header_and_date(engine: Engine) -> None:
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    settings = Settings()
    seed_stories(engine, now=now, count=3)
    with Session(engine) as session:
        session.add(
            Chat(
                id=GERMAN,
                language="de",
                timezone="Europe/Berlin",
                next_briefing_at=now - timedelta(minutes=1),
                created_at=now,
                updated_at=now,
            )
        )
        session.commit()
    assert compose_scheduled(engine, settings, now=now).briefings == 1
    with Session(engine) as session:
        [row] = session.exec(select(Outbox)).all()
    shown = check_message(row.text)
    assert shown.startswith("Dein Briefing · Alle Themen\nSamstag, 28. März 2026\n")
    assert "vor " in shown  # ages in German ("vor 5 Min.")


async def test_admin_texts_follow_the_chat_language(
    tg: FakeTelegram, bot: Settings, engine: Engine
) -> None:
    tg.add_private_chat(GERMAN, language_code="de")
    await say(tg, GERMAN, "/start")
    [refused] = await say(tg, GERMAN, "/feeds")  # not an admin here
    assert refused.text == "Dieser Befehl ist den Admins des Bots vorbehalten."


async def test_a_chat_from_before_languages_takes_its_users_language(
    tg: FakeTelegram, bot: Settings, engine: Engine
) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.add(Chat(id=GERMAN, created_at=now, updated_at=now))  # language NULL
        session.commit()
    tg.add_private_chat(GERMAN, language_code="de")
    [reply] = await say(tg, GERMAN, "/topics")
    assert reply.text.startswith("Themen\n")
    assert _language(engine, GERMAN) == "de"  # so its briefings are German too


async def test_a_german_user_gets_mute_filters_and_manage_in_german(
    tg: FakeTelegram, bot: Settings
) -> None:
    tg.add_private_chat(GERMAN, language_code="de")
    await say(tg, GERMAN, "/start")
    [usage] = await say(tg, GERMAN, "/mute")
    assert usage.text == (
        'Verwendung: /mute <Wort oder "Phrase"…>: Meldungen ausblenden, die diese Wörter erwähnen'
    )
    [muted] = await say(tg, GERMAN, "/mute football")
    assert muted.text == (
        "🔇 Stummgeschaltet: “football”. "
        "Meldungen, die sie erwähnen, fehlen in Briefings und /latest."
    )
    [listing] = await say(tg, GERMAN, "/filters")
    lines = listing.text.split("\n")
    assert lines[:2] == ["Deine Filter", "🔇 Stummgeschaltet (1): “football”"]
    assert lines[2].startswith("Tippe eines an, um es zu entfernen. 1 von ")
    query = tg.press_button(GERMAN, listing.message_id, listing.buttons[0]["callback_data"])
    await wait_for(tg, lambda: "Noch keine stummen Wörter" in tg.messages(GERMAN)[-1].text)
    assert tg.callback_answer(query)["text"] == "Entfernt: football"
    [channels] = await say(tg, GERMAN, "/manage")
    assert channels.text.startswith("Du verwaltest noch keine Kanäle.")
