"""A strict fake Telegram Bot API server for tests (see server.py) and TDLib's HTML rules."""

from .server import (
    DEFAULT_TOKEN,
    DEFAULT_USERNAME,
    ApiError,
    ApiRequest,
    Chat,
    FakeTelegram,
    Fault,
    Message,
    Stats,
    UploadedFile,
)
from .tdhtml import Entity, FormattedText, HtmlParseError, parse_html, utf16_len

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USERNAME",
    "ApiError",
    "ApiRequest",
    "Chat",
    "Entity",
    "FakeTelegram",
    "Fault",
    "FormattedText",
    "HtmlParseError",
    "Message",
    "Stats",
    "UploadedFile",
    "parse_html",
    "utf16_len",
]
