"""Log output: plain lines or one JSON object a line, level from LOG_LEVEL, secrets masked.

`LOG_FORMAT=json` writes time, level, logger, message, and the `key=value`
context fields our messages carry as separate keys. In both formats the bot
token, the webhook secret and database passwords are replaced by `***` after
formatting, so a secret inside an exception text or a URL is masked too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TextIO

from bot.settings.errors import mask

FORMATS = ("plain", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A Bot API token wherever it appears (e.g. in a request URL): digits, a colon, 35 characters.
_FIELD_RE = re.compile(r"(?<![\w=])([a-z][a-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\[[^\]]*\]|\S+)")
_RESERVED = frozenset({"time", "level", "logger", "message", "exc"})
# Libraries whose INFO lines carry request URLs (Bot API URLs contain the token) or noise.
QUIET = ("httpx", "httpcore", "apscheduler", "alembic", "tornado.access")


class _SkippedRuns(logging.Filter):
    """APScheduler's "skipped: maximum number of running instances reached", as DEBUG.

    Each tick runs one instance at a time and coalesces (handlers/jobs.py), so a tick
    still running when its next run comes is skipped by design; APScheduler says so as
    a WARNING every time, once a second for the deliver tick through a long refresh,
    burying the warnings that matter. Shown only when DEBUG logging is on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances reached" not in str(record.msg):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


_SKIPPED_RUNS = _SkippedRuns()


class _CancelledAtStop(logging.Filter):
    """APScheduler's "Error running job" for a job its executor cancelled, as DEBUG.

    At a stop, APScheduler's asyncio executor cancels the jobs still running (a getMe
    or a send in flight) and logs each as an ERROR with a traceback, although nothing
    failed: the work is picked up again at the next start. Any other job error stays
    an ERROR.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, asyncio.CancelledError):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.exc_info, record.exc_text = None, None
        return logging.getLogger().isEnabledFor(logging.DEBUG)


_CANCELLED_AT_STOP = _CancelledAtStop()


class LogConfigError(ValueError):
    """LOG_FORMAT or LOG_LEVEL has a value we do not know."""


class _Masking(logging.Formatter):
    def __init__(self, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.secrets: set[str] = set()

    def mask(self, text: str) -> str:
        return mask(text, self.secrets)


class PlainFormatter(_Masking):
    def format(self, record: logging.LogRecord) -> str:
        return self.mask(super().format(record))


class JsonFormatter(_Masking):
    def format(self, record: logging.LogRecord) -> str:
        message = self.mask(record.getMessage())
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key, value in context_fields(message).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exc"] = self.mask(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def context_fields(message: str) -> dict[str, str]:
    """The `key=value` fields of a log message (quotes around a value removed)."""
    fields: dict[str, str] = {}
    for key, value in _FIELD_RE.findall(message):
        if key not in _RESERVED:
            fields[key] = value[1:-1] if value[:1] in "\"'" else value
    return fields


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time of the record (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


_handler: logging.Handler | None = None


def configure_logging(environ: Mapping[str, str], *, verbose: bool = False) -> None:
    """Install the one log handler (stderr) by LOG_FORMAT and LOG_LEVEL; -v means DEBUG."""
    global _handler
    fmt = environ.get("LOG_FORMAT", "plain").strip().lower() or "plain"
    level = environ.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if fmt not in FORMATS:
        raise LogConfigError(f'LOG_FORMAT must be plain or json, got "{fmt}"')
    if level not in LEVELS:
        raise LogConfigError(f'LOG_LEVEL must be one of {", ".join(LEVELS)}, got "{level}"')
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = StderrHandler()
    _handler.setFormatter(JsonFormatter() if fmt == "json" else PlainFormatter(PLAIN))
    root.addHandler(_handler)
    root.setLevel(logging.DEBUG if verbose else level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_SKIPPED_RUNS)  # once: a set
    logging.getLogger("apscheduler.executors.default").addFilter(_CANCELLED_AT_STOP)


def mask_secrets(secrets: Iterable[str | None]) -> None:
    """Mask these values (token, webhook secret, database password) in every log line."""
    if _handler is not None and isinstance(_handler.formatter, _Masking):
        _handler.formatter.secrets.update(s for s in secrets if s and len(s) >= 3)
