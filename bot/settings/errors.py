"""Turn pydantic's validation report into one line an operator can act on.

pydantic's own text spans several lines, names internal types and echoes
every input, secrets included; here each problem becomes
`key must be …, got "value"` with tokens and passwords masked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

MASK = "***"
# Keys whose whole value is secret.
SECRET_KEYS = frozenset({"telegram.token", "telegram.webhook_secret"})
_URL_PASSWORD_RE = re.compile(r"(://[^:/@\s]*:)([^@\s]*)(@)")


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message names the key."""


def redact_url(text: str) -> str:
    """Mask the password part of any `scheme://user:password@host` in `text`."""
    return _URL_PASSWORD_RE.sub(lambda m: m.group(1) + MASK + m.group(3), text)


# A Bot API token ("123456:AA…"), also one the settings do not know (another bot's).
TOKEN_RE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")


def scrub(message: str, secrets: Iterable[str]) -> str:
    """Last line of defence: no known secret survives in a message."""
    for secret in sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True):
        message = message.replace(secret, MASK)
    return redact_url(message)


def mask(message: str, secrets: Iterable[str | None] = ()) -> str:
    """`scrub`, and any bot token's shape masked too: for text that leaves the process."""
    return TOKEN_RE.sub(MASK, scrub(message, [s for s in secrets if s]))


def key_name(loc: Sequence[int | str]) -> str:
    """("feeds", 0, "url") -> "feeds[0].url"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shown(key: str, value: Any) -> str:
    if key in SECRET_KEYS:
        return MASK
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, list | tuple):
        return redact_url(str(list(value)).replace("'", '"'))
    return redact_url(str(value))


def _known_keys(schema: Any, loc: Sequence[int | str]) -> list[str]:
    """The keys the table at `loc` accepts, for "did you mean" suggestions."""
    node = schema
    for part in loc:
        if isinstance(part, int):
            continue
        hints = {f.name: f.type for f in fields(node)} if is_dataclass(node) else {}
        if hasattr(node, "model_fields"):
            hints = {name: info.annotation for name, info in node.model_fields.items()}
        target = hints.get(part)
        node = _unwrap(target)
        if node is None:
            return []
    if hasattr(node, "model_fields"):
        return list(node.model_fields)
    return [f.name for f in fields(node)] if is_dataclass(node) else []


def _unwrap(annotation: Any) -> Any:
    # tuple[FeedConfig, ...] -> FeedConfig; dataclasses and models as they are.
    args = getattr(annotation, "__args__", None)
    if args:
        return next((a for a in args if is_dataclass(a) or hasattr(a, "model_fields")), None)
    return annotation


_ITEM_KINDS = {
    "int_parsing": "whole numbers",
    "int_type": "whole numbers",
    "int_from_float": "whole numbers",
    "string_type": "strings",
}
_ITEM_NOUNS = {"admins": "user ids (whole numbers)", "topics": "topic slugs (strings)"}


def _problem(err: ErrorDetails, key: str, schema: Any) -> str:
    kind = err["type"]
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    loc = err["loc"]
    if kind in {"extra_forbidden", "unexpected_keyword_argument"}:
        known = _known_keys(schema, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        where = key_name(loc[:-1])
        hint = f", did you mean `{where + '.' if where else ''}{close[0]}`?" if close else ""
        return f"unknown key `{key}`{hint}"
    if kind == "missing" or kind == "missing_argument":
        return f"{key} is required"
    value = _shown(key, err.get("input"))
    if loc and isinstance(loc[-1], int) and kind in _ITEM_KINDS:
        # An item of a list: name the list and what it must hold.
        parent = key_name(loc[:-1])
        held = _ITEM_NOUNS.get(parent.split(".")[-1], _ITEM_KINDS[kind])
        return f'{parent} must hold {held}, got "{value}" at position {loc[-1]}'
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        what = "must be a positive integer"
    elif kind in {"float_parsing", "float_type", "finite_number"}:
        what = "must be a positive number"
    elif kind == "greater_than":
        positive = "a positive number" if isinstance(ctx.get("gt"), float) else "a positive integer"
        what = f"must be {positive}"
    elif kind == "less_than_equal":
        what = f"must be at most {ctx.get('le')}"
    elif kind in {"bool_parsing", "bool_type"}:
        what = "must be true or false"
    elif kind == "string_type":
        what = "must be a string"
    elif kind in {"tuple_type", "list_type"}:
        what = "must be a list"
    elif kind in {"dataclass_type", "model_type", "dict_type", "model_attributes_type"}:
        return f'[{key}] must be a table, got "{value}"' if key else "config must be a table"
    elif kind == "value_error":
        what = str(ctx.get("error", err["msg"]))
    else:
        what = err["msg"][:1].lower() + err["msg"][1:]
    return f'{key} {what}, got "{value}"'


def one_line(exc: ValidationError, schema: Any, secrets: Iterable[str] = ()) -> SettingsError:
    """One `SettingsError` for everything pydantic found, on a single line."""
    problems: list[str] = []
    for err in exc.errors(include_url=False):
        key = key_name(err["loc"])
        if not key and err["type"] == "value_error":
            # Whole-config rules (feed topics, webhook secret) carry their own key.
            problems.append(str((err.get("ctx") or {}).get("error", err["msg"])))
            continue
        problems.append(_problem(err, key, schema))
    message = "; ".join(dict.fromkeys(problems)) or "invalid configuration"
    return SettingsError(scrub(" ".join(message.split()), secrets))
