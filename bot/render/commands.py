"""The one list of bot commands: usage lines, menus and /help are all generated from it.

Each command appears once, as data in `commands.toml` beside this module: its
name, its arguments, what /help says about it, the short menu description, and
whether it is for admins (and then whether it may only answer in a private chat).
The Telegram adapter maps the same names to handler functions; a startup check
and a test keep both lists equal.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources

from bot.render.i18n import EN, Lang
from bot.render.tghtml import escape


@dataclass(frozen=True)
class Command:
    name: str
    args: str  # as in the usage line, "" when the command takes none
    help: str  # plain text after the colon in /help and in usage answers
    menu: str  # short description for the command menu (setMyCommands: 3-256 chars)
    admin: bool = False
    # Shows feed addresses, numbers or the audit log: never in a group, where
    # everyone else would read it too.
    private: bool = False

    @property
    def usage(self) -> str:
        """The plain usage line: "/latest [topic] [n]: the newest n stories …"."""
        return self.usage_in(EN)

    def usage_in(self, lang: Lang) -> str:
        """The usage line in a language (name and keywords such as `off` stay as typed)."""
        args = f" {lang(self.args)}" if self.args else ""
        return f"/{self.name}{args}: {lang(self.help)}"


def _load(name: str = "commands.toml") -> tuple[Command, ...]:
    """Read the command list (kept as data beside this module, in menu order)."""
    table = tomllib.loads(resources.files(__package__).joinpath(name).read_text("utf-8"))
    return tuple(Command(**entry) for entry in table["command"])


COMMANDS: tuple[Command, ...] = _load()

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}


def split_command(text: str) -> tuple[str, str] | None:
    """("feeds", "mybot") for "/feeds@MyBot now", ("feeds", "") for "/feeds"; None when
    the text is not a command. Both parts are lower-cased, as Telegram matches them."""
    if not text.startswith("/") or not text[1:].strip() or text[1].isspace():
        return None
    name, _, bot = text[1:].split(maxsplit=1)[0].partition("@")
    return name.casefold(), bot.casefold()


def for_this_bot_in_group(text: str, username: str | None) -> bool:
    """Whether a group message is a command this bot answers there: one of its own
    commands not addressed to another bot, or any "/command@ThisBot"."""
    parts = split_command(text)
    if parts is None:
        return False
    name, bot = parts
    return bot == (username or "").casefold() if bot else name in BY_NAME


def commands(*, admin: bool) -> tuple[Command, ...]:
    """The subscriber commands (admin=False) or the admin commands (admin=True)."""
    return tuple(c for c in COMMANDS if c.admin == admin)


def msgids() -> list[str]:
    """The command texts every catalogue translates: arguments, help lines, menu entries."""
    return [text for c in COMMANDS for text in (c.args, c.help, c.menu) if text]


def usage_line(name: str, lang: Lang = EN) -> str:
    """The HTML answer to a command used the wrong way."""
    # "Usage: {usage}" lives in texts; it is spelt here to keep commands free of texts.
    return lang("Usage: {usage}", usage=escape(BY_NAME[name].usage_in(lang)))


def menu(*, admin: bool, lang: Lang = EN) -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands; admins get theirs after the rest."""
    return [(c.name, lang(c.menu)) for c in COMMANDS if admin or not c.admin]


def help_text(*, admin: bool, lang: Lang = EN) -> str:
    """/help (HTML): every subscriber command, and for admins the admin commands too."""
    lines = "\n".join(escape(c.usage_in(lang)) for c in commands(admin=False))
    text = lang("<b>Commands</b>") + "\n" + lines
    if admin:
        lines = "\n".join(escape(c.usage_in(lang)) for c in commands(admin=True))
        text += "\n\n" + lang("<b>Admin commands</b>") + "\n" + lines
    return text
