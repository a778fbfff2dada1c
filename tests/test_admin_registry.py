"""One command registry: usage lines, menus, /help and the handler tables all come from it."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from telegram.ext import CommandHandler

import handlers
from bot.render import commands, texts
from bot.settings import Settings
from handlers import admin
from handlers.app import build_application
from tests.support.adminkit import ADMIN, USER, admin_settings, say
from tests.support.fake_telegram import FakeTelegram

SUBSCRIBER = commands.commands(admin=False)
ADMIN_COMMANDS = commands.commands(admin=True)


def test_every_command_is_listed_once_with_usage_and_descriptions() -> None:
    names = [c.name for c in commands.COMMANDS]
    assert len(names) == len(set(names))
    for command in commands.COMMANDS:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.name)  # what setMyCommands accepts
        assert 3 <= len(command.menu) <= 256 and command.help.strip()
        assert command.usage.startswith(f"/{command.name}")
        assert commands.usage_line(command.name).startswith("Usage: /" + command.name)
        assert not command.private or command.admin  # only admin commands can be private-only


def test_every_command_has_a_handler_and_every_handler_a_command() -> None:
    assert set(handlers.HANDLERS) == {c.name for c in SUBSCRIBER}
    assert set(admin.HANDLERS) == {c.name for c in ADMIN_COMMANDS}


def test_the_application_handles_exactly_the_registered_commands(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    app = build_application(admin_settings(tg), sqlite_engine)
    handled = [
        name
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    ]
    assert sorted(handled) == sorted(c.name for c in commands.COMMANDS)


def test_texts_tables_are_generated_from_the_registry() -> None:
    assert {c.name: c.usage for c in SUBSCRIBER} == texts.USAGE
    assert {c.name: c.menu for c in SUBSCRIBER} == texts.MENU
    assert {c.name: c.usage for c in ADMIN_COMMANDS} == texts.ADMIN_USAGE
    assert {c.name: c.menu for c in ADMIN_COMMANDS} == texts.ADMIN_MENU


async def test_menus_list_every_command_in_the_right_scope(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    everyone = [(c["command"], c["description"]) for c in tg.commands()]
    admins = [
        (c["command"], c["description"]) for c in tg.commands({"type": "chat", "chat_id": ADMIN})
    ]
    assert everyone == [(c.name, c.menu) for c in SUBSCRIBER]
    assert admins == [(c.name, c.menu) for c in commands.COMMANDS]


async def test_help_lists_subscriber_commands_and_admin_ones_for_admins_only(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    tg.add_private_chat(USER)
    [for_user] = await say(tg, USER, "/help")
    [for_admin] = await say(tg, ADMIN, "/help")
    for command in SUBSCRIBER:
        assert command.usage in for_user.text and command.usage in for_admin.text
    for command in ADMIN_COMMANDS:
        assert f"/{command.name}" not in for_user.text
        assert command.usage in for_admin.text
    assert "Admin commands" in for_admin.text and "Admin commands" not in for_user.text


async def test_a_wrong_use_answers_with_the_registry_usage_line(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    [reply] = await say(tg, ADMIN, "/addfeed")
    assert reply.text == "Usage: " + commands.BY_NAME["addfeed"].usage
