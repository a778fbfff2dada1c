"""Load, validate and freeze the bot's configuration.

`load_settings(path, environ)` is the only way in: TOML file, then the
environment (`BOT_<SECTION>__<KEY>`, the historical TELEGRAM_*/DATABASE_URL
names and their `*_FILE` forms), checked by pydantic; every bad value becomes
one `SettingsError` line naming the key. Nothing is read at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.briefings.timetable import parse_hhmm
from bot.ingest.topics import Topic
from bot.settings.errors import SettingsError
from bot.settings.load import build, read_toml
from bot.settings.model import (
    DEFAULT_API_BASE_URL,
    DEFAULT_DATABASE_URL,
    ITEM_CHOICES,
    LANGUAGE_CODES,
    PLACEHOLDER_TOKENS,
    PREVIEW_CHOICES,
    BotSettings,
    BriefingSettings,
    DedupSettings,
    DeliverySettings,
    DisplaySettings,
    FeedConfig,
    FetchSettings,
    FulltextSettings,
    LimitsSettings,
    RetentionSettings,
    Settings,
    TelegramSettings,
    normalise_database_url,
    valid_timezone,
)

__all__ = [
    "DEFAULT_API_BASE_URL",
    "DEFAULT_DATABASE_URL",
    "ITEM_CHOICES",
    "LANGUAGE_CODES",
    "PLACEHOLDER_TOKENS",
    "PREVIEW_CHOICES",
    "BotSettings",
    "BriefingSettings",
    "DedupSettings",
    "DeliverySettings",
    "DisplaySettings",
    "FeedConfig",
    "FetchSettings",
    "FulltextSettings",
    "LimitsSettings",
    "RetentionSettings",
    "Settings",
    "SettingsError",
    "TelegramSettings",
    "Topic",
    "load_settings",
    "normalise_database_url",
    "parse_hhmm",
    "resolve_config_path",
    "valid_timezone",
]


def resolve_config_path(cli_path: str | None, environ: Mapping[str, str]) -> tuple[Path, bool]:
    """Return the config path and whether the user named it explicitly."""
    if cli_path:
        return Path(cli_path), True
    if environ.get("BOT_CONFIG"):
        return Path(environ["BOT_CONFIG"]), True
    return Path("config.toml"), False


def load_settings(path: Path | None, environ: Mapping[str, str]) -> Settings:
    """Read TOML at `path` (None: defaults only), apply `environ`, validate, freeze."""
    raw = read_toml(path) if path is not None else {}
    return build(raw, environ, source=path)
