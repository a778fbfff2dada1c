"""Error reports to admins: one message per kind of error per ten minutes, not a flood."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.render.admin import error_alert
from bot.render.i18n import EN, Lang
from bot.settings.errors import mask

REPORT_EVERY = 600.0  # seconds
_OUR_PACKAGES = ("bot", "handlers")


@dataclass
class ErrorThrottle:
    """Remembers when each kind of error was last reported (per process)."""

    period: float = REPORT_EVERY
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)

    def allow(self, kind: str) -> bool:
        """True if `kind` was not reported within the period; then count it as reported."""
        now = self.clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.period:
            return False
        self._last[kind] = now
        return True


def command_place(text: str, known: Collection[str]) -> str:
    """One error kind per command: "/LaTeSt@bot ²" -> "command /latest".

    Arguments, the @botname suffix and letter case are dropped (Telegram matches commands
    case-insensitively), and every unknown name is one kind, so random commands cannot
    make "new" kinds that each reach the admins.
    """
    words = text[1:].split(maxsplit=1) if text.startswith("/") else []
    name = words[0].split("@", 1)[0].lower() if words else ""
    return f"command /{name}" if name in known else "command (unknown)"


def button_place(data: str, known_prefixes: Collection[str]) -> str:
    """Where a button error happened, as one kind per callback family: "ft:123" -> "button ft:"."""
    for prefix in known_prefixes:
        if data.startswith(prefix):
            return f"button {prefix}"
    return "button (unknown)"


def error_kind(error: BaseException, where: str) -> str:
    """What makes two errors "the same kind": the exception type and where it happened."""
    return f"{type(error).__name__} in {where}"


def origin(error: BaseException) -> str | None:
    """The innermost frame of our own code in the traceback, as "bot/x.py:12 in f"."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        parts = Path(frame.filename).parts
        for i, part in enumerate(parts[:-1]):
            if part in _OUR_PACKAGES:
                found = f"{'/'.join(parts[i:])}:{frame.lineno} in {frame.name}"
                break
    return found


def format_alert(
    error: BaseException, where: str, lang: Lang = EN, *, secrets: Iterable[str | None] = ()
) -> str:
    """The HTML message admins get for an unhandled error (the error itself as raised,
    with `secrets` and anything shaped like a bot token masked, as in the logs)."""
    at = origin(error)
    place = where + (f", {at}" if at else "")
    text = mask(str(error), secrets)[:300] or "(no message)"
    return error_alert(type(error).__name__, place, text, lang)
