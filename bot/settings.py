"""Load, validate and freeze the bot's configuration.

TOML first, then environment overrides; every bad value is refused with a
message naming the key. Nothing is read at import time.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite:///newsbrief.sqlite3"
PLACEHOLDER_TOKENS = frozenset({"", "123456:ABC-DEF", "YOUR-BOT-TOKEN", "changeme"})

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class Topic:
    slug: str
    name: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedConfig:
    url: str
    name: str | None = None
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class TelegramSettings:
    token: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL
    admins: tuple[int, ...] = ()
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = None

    @property
    def token_is_placeholder(self) -> bool:
        return self.token.strip() in PLACEHOLDER_TOKENS or ":" not in self.token


@dataclass(frozen=True)
class FetchSettings:
    interval_seconds: int = 900
    max_interval_seconds: int = 6 * 3600
    timeout_seconds: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_concurrency: int = 20
    max_per_host: int = 4
    allow_private_networks: bool = False
    pause_after_failures: int = 10
    user_agent: str = "newsbrief-bot/0.1 (+https://github.com/newsbrief/newsbrief-bot)"


@dataclass(frozen=True)
class DedupSettings:
    window_hours: int = 48


@dataclass(frozen=True)
class BriefingSettings:
    times: tuple[str, ...] = ("08:00",)
    timezone: str = "UTC"
    max_items: int = 10
    late_grace_hours: int = 3


@dataclass(frozen=True)
class DeliverySettings:
    messages_per_second: float = 30.0
    allow_paid_broadcast: bool = False
    lease_seconds: int = 60


@dataclass(frozen=True)
class FullTextSettings:
    max_bytes: int = 2_000_000
    timeout_seconds: float = 15.0
    extract_timeout_seconds: float = 10.0
    max_messages: int = 3


@dataclass(frozen=True)
class LimitsSettings:
    commands_per_minute: int = 20
    taps_per_minute: int = 40
    fulltext_per_minute: int = 6


@dataclass(frozen=True)
class Settings:
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    database_url: str = DEFAULT_DATABASE_URL
    fetch: FetchSettings = field(default_factory=FetchSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    briefing: BriefingSettings = field(default_factory=BriefingSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    fulltext: FullTextSettings = field(default_factory=FullTextSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    topics: tuple[Topic, ...] = ()
    feeds: tuple[FeedConfig, ...] = ()
    source: Path | None = None

    def topic(self, slug: str) -> Topic | None:
        return next((t for t in self.topics if t.slug == slug), None)


def resolve_config_path(cli_path: str | None, environ: Mapping[str, str]) -> tuple[Path, bool]:
    """Return the config path and whether the user named it explicitly."""
    if cli_path:
        return Path(cli_path), True
    if environ.get("BOT_CONFIG"):
        return Path(environ["BOT_CONFIG"]), True
    return Path("config.toml"), False


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read TOML at `path` (None: defaults only), apply env overrides, validate."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SettingsError(f"config file {path} not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
    _apply_env(raw, env)
    return _build(raw, source=path)


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    overrides = {
        "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
        "TELEGRAM_API_BASE_URL": ("telegram", "api_base_url"),
        "TELEGRAM_WEBHOOK_URL": ("telegram", "webhook_url"),
        "TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
        "DATABASE_URL": ("database", "url"),
    }
    for var, (section, key) in overrides.items():
        if env.get(var):
            raw.setdefault(section, {})[key] = env[var]
    if env.get("BOT_ADMINS") is not None and env.get("BOT_ADMINS", "").strip():
        parts = [p.strip() for p in env["BOT_ADMINS"].split(",") if p.strip()]
        raw.setdefault("telegram", {})["admins"] = parts
    if env.get("BOT_ALLOW_PRIVATE_NETWORKS"):
        raw.setdefault("fetch", {})["allow_private_networks"] = env["BOT_ALLOW_PRIVATE_NETWORKS"]


# ---------------------------------------------------------------- validation


def _section(raw: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise SettingsError(f"[{name}] must be a table")
    return value


def _pos_int(sec: Mapping[str, Any], key: str, default: int, name: str) -> int:
    value = sec.get(key, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SettingsError(f'{name}.{key} must be a positive integer, got "{value}"')
    return value


def _pos_float(sec: Mapping[str, Any], key: str, default: float, name: str) -> float:
    value = sec.get(key, default)
    try:
        number = float(value) if not isinstance(value, bool) else -1.0
    except (TypeError, ValueError):
        number = -1.0
    if number <= 0:
        raise SettingsError(f'{name}.{key} must be a positive number, got "{value}"')
    return number


def _bool(sec: Mapping[str, Any], key: str, default: bool, name: str) -> bool:
    value = sec.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f'{name}.{key} must be true or false, got "{value}"')


def _str(sec: Mapping[str, Any], key: str, default: str | None, name: str) -> str | None:
    value = sec.get(key, default)
    if value is not None and not isinstance(value, str):
        raise SettingsError(f'{name}.{key} must be a string, got "{value}"')
    return value


def parse_hhmm(value: str) -> tuple[int, int] | None:
    """Parse "HH:MM" (24-hour) into (hour, minute), or None."""
    match = _TIME_RE.match(value.strip()) if isinstance(value, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def valid_timezone(name: str) -> bool:
    """Tell whether `name` is a known IANA zone."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def normalise_database_url(url: str) -> str:
    """Accept the postgres:// form hosting platforms hand out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _telegram(raw: Mapping[str, Any]) -> TelegramSettings:
    sec = _section(raw, "telegram")
    admins_raw = sec.get("admins", [])
    if not isinstance(admins_raw, list):
        raise SettingsError(f'telegram.admins must be a list of user ids, got "{admins_raw}"')
    admins: list[int] = []
    for item in admins_raw:
        try:
            admins.append(int(str(item).strip()))
        except ValueError as exc:
            raise SettingsError(f'telegram.admins must hold user ids, got "{item}"') from exc
    base = _str(sec, "api_base_url", DEFAULT_API_BASE_URL, "telegram") or DEFAULT_API_BASE_URL
    if not base.startswith(("http://", "https://")):
        raise SettingsError(f'telegram.api_base_url must be an http(s) URL, got "{base}"')
    webhook = _str(sec, "webhook_url", None, "telegram") or None
    if webhook and not webhook.startswith("https://"):
        raise SettingsError(f'telegram.webhook_url must be an https URL, got "{webhook}"')
    return TelegramSettings(
        token=(_str(sec, "token", "", "telegram") or "").strip(),
        api_base_url=base,
        admins=tuple(admins),
        webhook_url=webhook,
        webhook_listen=_str(sec, "webhook_listen", "0.0.0.0", "telegram") or "0.0.0.0",
        webhook_port=_pos_int(sec, "webhook_port", 8443, "telegram"),
        webhook_secret=_str(sec, "webhook_secret", None, "telegram") or None,
    )


def _fetch(raw: Mapping[str, Any]) -> FetchSettings:
    sec = _section(raw, "fetch")
    d = FetchSettings()
    interval = _pos_int(sec, "interval_seconds", d.interval_seconds, "fetch")
    maximum = _pos_int(sec, "max_interval_seconds", max(d.max_interval_seconds, interval), "fetch")
    if maximum < interval:
        raise SettingsError(
            f"fetch.max_interval_seconds must be at least fetch.interval_seconds ({interval}),"
            f' got "{maximum}"'
        )
    return FetchSettings(
        interval_seconds=interval,
        max_interval_seconds=maximum,
        timeout_seconds=_pos_float(sec, "timeout_seconds", d.timeout_seconds, "fetch"),
        max_bytes=_pos_int(sec, "max_bytes", d.max_bytes, "fetch"),
        max_concurrency=_pos_int(sec, "max_concurrency", d.max_concurrency, "fetch"),
        max_per_host=_pos_int(sec, "max_per_host", d.max_per_host, "fetch"),
        allow_private_networks=_bool(sec, "allow_private_networks", False, "fetch"),
        pause_after_failures=_pos_int(sec, "pause_after_failures", d.pause_after_failures, "fetch"),
        user_agent=_str(sec, "user_agent", d.user_agent, "fetch") or d.user_agent,
    )


def _briefing(raw: Mapping[str, Any]) -> BriefingSettings:
    sec = _section(raw, "briefing")
    d = BriefingSettings()
    times = sec.get("times", list(d.times))
    if not isinstance(times, list) or not all(parse_hhmm(t) for t in times):
        raise SettingsError(f'briefing.times must be a list of "HH:MM" times, got "{times}"')
    zone = _str(sec, "timezone", d.timezone, "briefing") or d.timezone
    if not valid_timezone(zone):
        raise SettingsError(f'briefing.timezone must be an IANA time zone, got "{zone}"')
    max_items = _pos_int(sec, "max_items", d.max_items, "briefing")
    if max_items > 50:
        raise SettingsError(f'briefing.max_items must be at most 50, got "{max_items}"')
    return BriefingSettings(
        times=tuple(sorted(set(times))),
        timezone=zone,
        max_items=max_items,
        late_grace_hours=_pos_int(sec, "late_grace_hours", d.late_grace_hours, "briefing"),
    )


_Counts = TypeVar("_Counts", FullTextSettings, LimitsSettings)


def _counts(raw: Mapping[str, Any], name: str, cls: type[_Counts]) -> _Counts:
    """A section of positive numbers: each key keeps its default's type (int or float)."""
    sec, default = _section(raw, name), cls()
    values: dict[str, Any] = {}
    for key, value in vars(default).items():
        parse = _pos_float if isinstance(value, float) else _pos_int
        values[key] = parse(sec, key, value, name)
    return cls(**values)


def _topics(raw: Mapping[str, Any]) -> tuple[Topic, ...]:
    items = raw.get("topics", [])
    if not isinstance(items, list):
        raise SettingsError("[[topics]] must be an array of tables")
    topics: list[Topic] = []
    for i, item in enumerate(items):
        where = f"topics[{i}]"
        slug = item.get("slug") if isinstance(item, dict) else None
        if not isinstance(slug, str) or not _SLUG_RE.match(slug):
            raise SettingsError(
                f'{where}.slug must be lower-case letters, digits, "-" or "_", got "{slug}"'
            )
        if any(t.slug == slug for t in topics):
            raise SettingsError(f'{where}.slug "{slug}" is defined twice')
        keywords = item.get("keywords", [])
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise SettingsError(f'{where}.keywords must be a list of words, got "{keywords}"')
        name = item.get("name", slug)
        if not isinstance(name, str) or not name.strip():
            raise SettingsError(f'{where}.name must be a non-empty string, got "{name}"')
        kws = tuple(k.strip() for k in keywords if k.strip())
        topics.append(Topic(slug=slug, name=name.strip(), keywords=kws))
    return tuple(topics)


def _feeds(raw: Mapping[str, Any], topics: tuple[Topic, ...]) -> tuple[FeedConfig, ...]:
    items = raw.get("feeds", [])
    if not isinstance(items, list):
        raise SettingsError("[[feeds]] must be an array of tables")
    known = {t.slug for t in topics}
    feeds: list[FeedConfig] = []
    for i, item in enumerate(items):
        where = f"feeds[{i}]"
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise SettingsError(f'{where}.url must be an http(s) URL, got "{url}"')
        feed_topics = item.get("topics", [])
        if not isinstance(feed_topics, list):
            raise SettingsError(
                f'{where}.topics must be a list of topic slugs, got "{feed_topics}"'
            )
        for slug in feed_topics:
            if slug not in known:
                raise SettingsError(f'{where}.topics names unknown topic "{slug}"')
        name = item.get("name")
        if name is not None and not isinstance(name, str):
            raise SettingsError(f'{where}.name must be a string, got "{name}"')
        feeds.append(FeedConfig(url=url.strip(), name=name, topics=tuple(feed_topics)))
    return tuple(feeds)


def _build(raw: Mapping[str, Any], *, source: Path | None) -> Settings:
    db = _section(raw, "database")
    url = _str(db, "url", DEFAULT_DATABASE_URL, "database") or DEFAULT_DATABASE_URL
    if not url.startswith(("sqlite", "postgres")):
        raise SettingsError(f'database.url must be a sqlite:// or postgresql:// URL, got "{url}"')
    dedup = _section(raw, "dedup")
    delivery = _section(raw, "delivery")
    topics = _topics(raw)
    return Settings(
        telegram=_telegram(raw),
        database_url=normalise_database_url(url),
        fetch=_fetch(raw),
        dedup=DedupSettings(window_hours=_pos_int(dedup, "window_hours", 48, "dedup")),
        briefing=_briefing(raw),
        delivery=DeliverySettings(
            messages_per_second=_pos_float(delivery, "messages_per_second", 30.0, "delivery"),
            allow_paid_broadcast=_bool(delivery, "allow_paid_broadcast", False, "delivery"),
            lease_seconds=_pos_int(delivery, "lease_seconds", 60, "delivery"),
        ),
        fulltext=_counts(raw, "fulltext", FullTextSettings),
        limits=_counts(raw, "limits", LimitsSettings),
        topics=topics,
        feeds=_feeds(raw, topics),
        source=source,
    )
