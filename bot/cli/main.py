"""Command line: `python -m bot run | fetch | preview | migrate | import-opml | export-opml`,
and for operators `healthcheck | backup PATH | restore PATH`.

Each command loads settings once, opens (and migrates) the database, and
turns configuration or database problems into one clear line and a non-zero
exit status instead of a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TextIO, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.cli.terminal import PrintableStream, printable
from bot.ops.gc_policy import tune_gc
from bot.ops.logs import LogConfigError, configure_logging, mask_secrets
from bot.settings import Settings, SettingsError, load_settings, resolve_config_path
from bot.storage.db import DatabaseError, open_database, redact_url

logger = logging.getLogger(__name__)

EXIT_CONFIG = 2
EXIT_DATABASE = 3
FRONT_END_GROUP = "newsbrief_bot.front_ends"


class CommandError(Exception):
    """A user-facing failure: print the message, exit with `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def secrets_of(settings: Settings) -> list[str | None]:
    """The values no log line may show: token, webhook secret, database password."""
    try:
        password = sa.engine.make_url(settings.database_url).password
    except sa.exc.ArgumentError:
        password = None
    tg = settings.telegram
    return [tg.token, tg.webhook_secret, str(password) if password else None]


def settings_from_args(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    path, explicit = resolve_config_path(args.config, environ)
    if not explicit and not path.exists():
        # No config file at all: run on defaults plus environment (12-factor hosts).
        return load_settings(None, environ)
    return load_settings(path, environ)


def database(settings: Settings) -> Engine:
    try:
        return open_database(settings.database_url)
    except DatabaseError as exc:
        raise CommandError(str(exc), EXIT_DATABASE) from exc


# ---------------------------------------------------------------- commands


def cmd_migrate(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    database(settings)
    print(f"database {redact_url(settings.database_url)} is up to date", file=out)
    return 0


def cmd_fetch(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.fetch import run_fetch

    engine = database(settings)
    return asyncio.run(run_fetch(settings, engine, out=out, progress=sys.stderr.isatty()))


def cmd_preview(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.fetch import run_preview

    if args.limit < 1:
        raise CommandError("--limit must be a positive number", EXIT_CONFIG)
    if args.topic and settings.topic(args.topic) is None:
        known = ", ".join(t.slug for t in settings.topics) or "none configured"
        raise CommandError(f'unknown topic "{args.topic}" (topics: {known})', EXIT_CONFIG)
    engine = database(settings)
    return run_preview(settings, engine, topic=args.topic, limit=args.limit, out=out)


def front_end() -> Callable[..., int]:
    """The Telegram front end, found through the package's entry points.

    The core never imports the Telegram adapter (`handlers`); the adapter
    registers its `run_bot` under this group in pyproject.toml.
    """
    found = entry_points(group=FRONT_END_GROUP, name="telegram")
    if not found:
        raise CommandError(
            "the Telegram front end is not installed: run `pip install -e .` in the checkout"
        )
    run: Callable[..., int] = next(iter(found)).load()
    return run


async def check_bot_api(settings: Settings) -> None:
    """Ask the Bot API who we are before starting; a refusal or no answer is one line.

    Left to python-telegram-bot, a rejected token or an unreachable server ends
    the start with a long traceback that shows the token in the clear.
    """
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError

    tg = settings.telegram
    try:
        async with Bot(tg.token, base_url=tg.api_base_url):
            pass  # entering calls getMe
    except InvalidToken as exc:
        raise CommandError(
            f"the Bot API at {tg.api_base_url} refused the bot token: set TELEGRAM_BOT_TOKEN"
            " (or telegram.token) to the token @BotFather gave you",
            EXIT_CONFIG,
        ) from exc
    except NetworkError as exc:
        raise CommandError(f"cannot reach the Bot API at {tg.api_base_url}: {exc}") from exc
    except TelegramError as exc:  # a flood wait or another refusal of getMe
        raise CommandError(f"the Bot API at {tg.api_base_url} answered: {exc}") from exc


def cmd_run(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    run_bot = front_end()
    if settings.telegram.token_is_placeholder:
        problem = "no bot token" if not settings.telegram.token else "that is not a bot token"
        raise CommandError(
            f"{problem}: set TELEGRAM_BOT_TOKEN (or telegram.token in the config file) to the"
            " token @BotFather gave you (digits, a colon, then letters: 123456789:AAE…)",
            EXIT_CONFIG,
        )
    from bot.ops.server import OpsListenError

    engine = database(settings)  # first: a start that cannot open it never calls Telegram
    asyncio.run(check_bot_api(settings))
    try:
        return run_bot(settings, engine, role=args.role)
    except DatabaseError as exc:
        raise CommandError(str(exc), EXIT_DATABASE) from exc
    except OpsListenError as exc:
        raise CommandError(str(exc), EXIT_CONFIG) from exc


def cmd_import_opml(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from bot.admin.opml import OpmlError
    from bot.cli.opml import run_import

    engine = database(settings)
    try:
        run_import(settings, engine, Path(args.file), out=out)
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    except OpmlError as exc:
        raise CommandError(f"{args.file} was refused: {exc}") from exc
    return 0


def cmd_export_opml(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.opml import run_export

    engine = database(settings)
    path = Path(args.file) if args.file and args.file != "-" else None
    try:
        count = run_export(engine, path, out=out)
    except OSError as exc:
        raise CommandError(f"cannot write {args.file}: {exc.strerror or exc}") from exc
    if path is not None:
        print(f"{count} {'feed' if count == 1 else 'feeds'} written to {path}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", help="config file (default: $BOT_CONFIG, else ./config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    # The same options after the verb (`python -m bot fetch --config x.toml`).
    # SUPPRESS keeps a verb that omits them from resetting a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def verb(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    run = verb("run", "run the bot and its scheduler")
    run.add_argument("--role", choices=["all", "bot", "worker"], default="all")
    verb("fetch", "refresh every feed once and print a per-feed table")
    preview = verb("preview", "print the latest stories as subscribers see them")
    preview.add_argument("--topic", help="only this topic (slug)")
    preview.add_argument("--limit", type=int, default=10, help="how many stories (default 10)")
    verb("migrate", "create or upgrade the database schema")
    verb("healthcheck", "exit 0 when the bot is ready, 1 when not (for container health checks)")
    backup = verb("backup", "copy the SQLite database while the bot runs (PostgreSQL: pg_dump)")
    backup.add_argument("path", help="the new backup file")
    restore = verb("restore", "replace the SQLite database with a backup (bot stopped)")
    restore.add_argument("path", help="the backup file")
    importer = verb("import-opml", "add the feeds listed in an OPML file")
    importer.add_argument("file", help="the OPML file")
    exporter = verb("export-opml", "write every enabled feed as OPML")
    exporter.add_argument("file", nargs="?", help="output file (default: standard output)")
    return parser


def cmd_healthcheck(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.ops import run_healthcheck

    return run_healthcheck(settings, out)


def cmd_backup(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.ops import OpsCommandError, run_backup

    try:
        return run_backup(settings, args, out)
    except OpsCommandError as exc:
        raise CommandError(str(exc)) from exc


def cmd_restore(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.ops import OpsCommandError, run_restore

    try:
        return run_restore(settings, args, out)
    except OpsCommandError as exc:
        raise CommandError(str(exc)) from exc


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace, TextIO], int]] = {
    "healthcheck": cmd_healthcheck,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "migrate": cmd_migrate,
    "fetch": cmd_fetch,
    "preview": cmd_preview,
    "run": cmd_run,
    "import-opml": cmd_import_opml,
    "export-opml": cmd_export_opml,
}


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tune_gc()
    env = dict(os.environ if environ is None else environ)
    try:
        configure_logging(env, verbose=args.verbose)
    except LogConfigError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        settings = settings_from_args(args, env)
        mask_secrets(secrets_of(settings))
        out = cast(TextIO, PrintableStream(sys.stdout))
        return COMMANDS[args.command](settings, args, out)
    except SettingsError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_CONFIG
    except CommandError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
