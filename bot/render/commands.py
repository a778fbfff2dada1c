"""The one list of bot commands: usage lines, menus and /help are all generated from it.

Each command appears here once, as data: its name, its arguments, what /help
says about it, the short menu description, and whether it is for admins (and
then whether it may only answer in a private chat). The Telegram adapter maps
the same names to handler functions; a startup check and a test keep both
lists equal.
"""

from __future__ import annotations

from dataclasses import dataclass

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


# Listed in menu order: the most used first.
COMMANDS: tuple[Command, ...] = (
    Command(
        "latest",
        "[topic] [n]",
        "the newest n stories (1–20, default 5)",
        "Newest stories from your topics",
    ),
    Command("topics", "", "pick the topics you follow", "Choose your topics"),
    Command("subscribe", "<topic> [topic…]", "follow topics by name", "Follow topics by name"),
    Command("unsubscribe", "<topic…|all>", "stop following topics", "Stop following topics"),
    Command(
        "schedule",
        "[HH:MM…|instant|off]",
        "show or set your briefing times",
        "Show or set briefing times",
    ),
    Command(
        "timezone",
        "<Area/City>",
        "set your time zone, e.g. Europe/Berlin",
        "Set your time zone",
    ),
    Command(
        "mute",
        '<word or "phrase"…>',
        "leave out stories that mention these words",
        "Mute words in headlines",
    ),
    Command("unmute", "<word…|all>", "take mute words back", "Take mute words back"),
    Command(
        "follow",
        '<word or "phrase"…>',
        "also get stories that mention these words, from any topic",
        "Follow your own keywords",
    ),
    Command("unfollow", "<word…|all>", "stop following keywords", "Stop following keywords"),
    Command("filters", "", "your mute words and keywords", "Your mute words and keywords"),
    Command(
        "manage",
        "[@channel|off]",
        "manage a channel you are an admin of from here (no argument: your channels)",
        "Manage a channel from here",
    ),
    Command(
        "settings",
        "",
        "link preview, lead image, summaries, stories per briefing, quiet delivery",
        "Briefing layout and delivery",
    ),
    Command("language", "[code]", "choose the language I use here", "Choose the language"),
    Command("start", "", "subscribe and pick topics", "Subscribe and pick topics"),
    Command("stop", "", "pause all deliveries", "Pause all deliveries"),
    Command("help", "", "this list", "All commands"),
    Command(
        "broadcast",
        "[#topic] <text>",
        "send a message to every active chat (or a topic)",
        "Admin: send a message to all chats",
        admin=True,
    ),
    Command(
        "feeds",
        "",
        "every feed with its state",
        "Admin: feeds and their state",
        admin=True,
        private=True,
    ),
    Command(
        "addfeed", "<url> [topic…]", "check a feed and add it", "Admin: add a feed", admin=True
    ),
    Command(
        "removefeed",
        "<id>",
        "stop fetching a feed (its stories stay)",
        "Admin: remove a feed",
        admin=True,
    ),
    Command(
        "resumefeed",
        "<id>",
        "take a paused feed back",
        "Admin: resume a paused feed",
        admin=True,
    ),
    Command(
        "export",
        "",
        "the feed list as an OPML file (send an .opml file to import)",
        "Admin: export feeds as OPML",
        admin=True,
        private=True,
    ),
    Command(
        "stats",
        "",
        "chats, stories, messages and a two-week chart",
        "Admin: statistics and chart",
        admin=True,
        private=True,
    ),
    Command(
        "audit",
        "",
        "the last 20 admin actions",
        "Admin: recent admin actions",
        admin=True,
        private=True,
    ),
)

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}


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
