"""Read the config file and the environment, validate with pydantic, freeze.

Precedence, highest first: `BOT_<SECTION>__<KEY>` variables, the historical
names (TELEGRAM_BOT_TOKEN, DATABASE_URL, ...) and their `*_FILE` forms, the
TOML file, the defaults in `bot.settings.model`. Nothing here reads
`os.environ`: the caller passes the environment in.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

from pydantic import ValidationError, create_model, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as PydanticSettingsError
from pydantic_settings.sources.utils import parse_env_vars

from bot.ingest.urls import feed_key
from bot.settings import model
from bot.settings.errors import SettingsError, one_line, scrub

ENV_PREFIX = "BOT_"
ENV_DELIMITER = "__"
# Names that predate the BOT_<SECTION>__<KEY> rule; hosting platforms and
# existing deployments set these.
LEGACY_ENV: dict[str, tuple[str, str]] = {
    "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
    "TELEGRAM_API_BASE_URL": ("telegram", "api_base_url"),
    "TELEGRAM_WEBHOOK_URL": ("telegram", "webhook_url"),
    "TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
    "DATABASE_URL": ("database", "url"),
    "BOT_ADMINS": ("telegram", "admins"),
    "BOT_ALLOW_PRIVATE_NETWORKS": ("fetch", "allow_private_networks"),
    "BOT_OPS_LISTEN": ("ops", "listen"),
}
# The settings that are secrets may also be handed over as a file (Docker/Kubernetes
# secrets): <NAME>_FILE, for their legacy name and their BOT_<SECTION>__<KEY> name.
SECRETS: tuple[tuple[str, str], ...] = (
    ("telegram", "token"),
    ("telegram", "webhook_secret"),
    ("database", "url"),
)
SECRET_FILE_ENV: dict[str, tuple[str, str]] = {
    **{f"{var}_FILE": key for var, key in LEGACY_ENV.items() if key in SECRETS},
    **{f"{ENV_PREFIX}{s.upper()}{ENV_DELIMITER}{k.upper()}_FILE": (s, k) for s, k in SECRETS},
}
# Variables that start with BOT_ but are not BOT_<SECTION>__<KEY> settings.
NOT_SETTINGS = frozenset({"BOT_CONFIG", *LEGACY_ENV, *SECRET_FILE_ENV})


class _File(BaseSettings):
    """The whole file as pydantic sees it (`build` adds the `_FIELDS`); `to_settings` freezes it."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        case_sensitive=False,
        extra="forbid",
        frozen=True,
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> _File:
        check_settings(self.to_settings(None))
        return self

    def to_settings(self, source: Path | None) -> model.Settings:
        """The bot's Settings: each field as the file gave it, but for the database URL,
        the topics and the file they came from."""
        given = dict(self)
        database, entries = given.pop("database"), given.pop("topics")
        return model.Settings(
            **given,
            database_url=database.url,
            topics=tuple(t.topic() for t in entries),
            source=source,
        )


def _file_fields() -> dict[str, Any]:
    """Each `Settings` field as the file holds it, in the same order: a section (or the feed
    list) as it is, the database URL as a [database] table, the topics as [[topics]] tables."""
    types, defaults = get_type_hints(model.Settings), model.Settings()
    out: dict[str, Any] = {}
    for f in fields(model.Settings):
        if f.name == "database_url":
            out["database"] = (model.DatabaseSettings, model.DatabaseSettings())
        elif f.name == "topics":
            out["topics"] = (tuple[model.TopicEntry, ...], ())
        elif f.name != "source":  # where the file is, not what it says
            out[f.name] = (types[f.name], getattr(defaults, f.name))
    return out


_FIELDS = _file_fields()


def check_settings(settings: model.Settings) -> None:
    """Raise ValueError where sections disagree (intervals, topics, webhook secret)."""
    fetch = settings.fetch
    if fetch.max_interval_seconds < fetch.interval_seconds:
        raise ValueError(
            "fetch.max_interval_seconds must be at least fetch.interval_seconds"
            f' ({fetch.interval_seconds}), got "{fetch.max_interval_seconds}"'
        )
    seen: set[str] = set()
    for i, topic in enumerate(settings.topics):
        if topic.slug in seen:
            raise ValueError(f'topics[{i}].slug "{topic.slug}" is defined twice')
        seen.add(topic.slug)
    listed: dict[str, int] = {}
    for i, feed in enumerate(settings.feeds):
        # One feed, however spelt (host case, http or https, a trailing slash…), as
        # /addfeed and OPML imports tell: two spellings would be two rows fetching it.
        first = listed.setdefault(feed_key(feed.url), i)
        if first != i:
            other = settings.feeds[first].url
            spelt = "" if other == feed.url else f' "{other}"'
            raise ValueError(f'feeds[{i}].url "{feed.url}" is listed twice (feeds[{first}]{spelt})')
        for slug in feed.topics:
            if slug not in seen:
                known = ", ".join(sorted(seen)) or "none defined"
                raise ValueError(
                    f'feeds[{i}].topics names unknown topic "{slug}" (topics: {known})'
                )
    tg = settings.telegram
    ops = settings.ops.address
    if tg.webhook_url and ops is not None and ops[1] == tg.webhook_port:
        raise ValueError(
            f'ops.listen "{settings.ops.listen}" uses telegram.webhook_port {tg.webhook_port}'
            " too: give the ops endpoints a port of their own"
        )
    if tg.webhook_url and not tg.webhook_secret:
        raise ValueError(
            "telegram.webhook_secret is required when telegram.webhook_url is set"
            " (Telegram sends it back so forged calls can be refused)"
        )


class _GivenEnv(EnvSettingsSource):
    """pydantic-settings' BOT_<SECTION>__<KEY> rule over the mapping we were given."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = {k: v for k, v in environ.items() if k.upper() not in NOT_SETTINGS}
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, self.case_sensitive, True, self.env_parse_none_str)

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError as exc:
            raise SettingsError(
                f"{ENV_PREFIX}{field_name.upper()} must be a JSON object for [{field_name}]"
                f" (or set {ENV_PREFIX}{field_name.upper()}{ENV_DELIMITER}<KEY> variables)"
            ) from exc


class _LegacyEnv(PydanticBaseSettingsSource):
    """TELEGRAM_BOT_TOKEN & co., and the *_FILE variables holding secrets."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, True

    def __call__(self) -> dict[str, Any]:
        return self._values


def legacy_values(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for var, (section, key) in LEGACY_ENV.items():
        value = environ.get(var, "")
        if value.strip():
            out.setdefault(section, {})[key] = value
    for var, (section, key) in SECRET_FILE_ENV.items():
        if not environ.get(var):
            continue
        direct = next((v for v, sk in LEGACY_ENV.items() if sk == (section, key)), None)
        if direct and environ.get(direct):
            raise SettingsError(f"set {direct} or {var}, not both")
        out.setdefault(section, {})[key] = _read_secret(var, Path(environ[var]))
    return out


def _read_secret(var: str, path: Path) -> str:
    # Secret files usually end with a newline the secret does not contain.
    return read_text(path, what=f"{var}: {path}").strip()


def read_text(path: Path, *, what: str) -> str:
    """A UTF-8 text file's contents, or one line naming `what` and why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SettingsError(f"{what} not found") from exc
    except IsADirectoryError as exc:
        raise SettingsError(f"{what} is a directory, not a file") from exc
    except PermissionError as exc:
        raise SettingsError(f"{what} cannot be read: permission denied") from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"{what} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from exc
    except OSError as exc:
        raise SettingsError(f"{what} cannot be read: {exc.strerror or exc}") from exc


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables, or one line saying why it cannot be used."""
    text = read_text(path, what=f"config file {path}")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc


def _secrets(*layers: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    for layer in layers:
        tg = layer.get("telegram")
        if isinstance(tg, dict):
            found += [str(tg.get("token") or ""), str(tg.get("webhook_secret") or "")]
    for var in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"):
        found.append(environ.get(var, ""))
    for var, value in environ.items():
        if var.upper().startswith(("BOT_TELEGRAM__TOKEN", "BOT_TELEGRAM__WEBHOOK_SECRET")):
            found.append(value)
    return [s.strip() for s in found if s and s.strip()]


def _check_env_sections(environ: Mapping[str, str]) -> None:
    # pydantic-settings skips BOT_X__Y when X is no section; a typo there
    # would otherwise be silently ignored.
    sections = list(_FIELDS)
    for var in environ:
        name = var.upper()
        if not name.startswith(ENV_PREFIX) or ENV_DELIMITER not in name or name in NOT_SETTINGS:
            continue
        section = name[len(ENV_PREFIX) :].split(ENV_DELIMITER, 1)[0].lower()
        if section not in sections:
            close = difflib.get_close_matches(section, sections, n=1, cutoff=0.6)
            hint = f", did you mean `{close[0]}`?" if close else ""
            raise SettingsError(f"unknown key `{section}` (from {var}){hint}")


def build(
    raw: Mapping[str, Any], environ: Mapping[str, str], source: Path | None
) -> model.Settings:
    _check_env_sections(environ)
    legacy = legacy_values(environ)

    class Sources(_File):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # First wins: BOT_ variables, historical names, then the file.
            return (
                _GivenEnv(settings_cls, environ),
                _LegacyEnv(settings_cls, legacy),
                InitSettingsSource(settings_cls, init_kwargs=dict(raw)),
            )

    schema = create_model("Root", __base__=Sources, **_FIELDS)
    try:
        root = schema()
    except ValidationError as exc:
        raise one_line(exc, schema, _secrets(raw, legacy, environ=environ)) from None
    except SettingsError:
        raise
    except PydanticSettingsError as exc:
        # Raised by the env source around our own decoding error; keep ours.
        if isinstance(exc.__cause__, SettingsError):
            raise exc.__cause__ from None
        secrets = _secrets(raw, legacy, environ=environ)
        raise SettingsError(scrub(" ".join(str(exc).split()), secrets)) from None
    except Exception as exc:  # pydantic-settings wraps env decoding failures
        secrets = _secrets(raw, legacy, environ=environ)
        raise SettingsError(scrub(" ".join(str(exc).split()), secrets)) from None
    return root.to_settings(source)
