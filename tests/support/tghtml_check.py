"""The one Telegram-HTML check for tests: the fake Bot API's TDLib re-implementation judges.

`check_message` accepts exactly what the fake server (and so Telegram) accepts in HTML parse
mode, plus two rules of our own, marked below, that catch our bugs rather than Telegram's
refusals.
"""

from __future__ import annotations

import re

from tests.support.fake_telegram.tdhtml import HtmlParseError, parse_html

MAX_TEXT = 4096  # Telegram's limit for a message's text after entity parsing
_KNOWN_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
# Characters TDLib removes without an error (C0 controls but tab and newline, U+FFFE/U+FFFF).
_DROPPED = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def check_message(message: str, *, limit: int = MAX_TEXT) -> str:
    """Assert Telegram would send `message` (HTML parse mode); return the text the user sees.

    Telegram's rules, as the fake server applies them: the HTML parses, the shown text is not
    empty after trimming, and it is at most `limit` characters.
    Ours, stricter than Telegram:
    - every '&' starts an entity: Telegram shows a bare '&' as is, but in our output it means
      feed text went out unescaped (and "&lt;" in that text would then change meaning);
    - no character that Telegram silently drops: it would make the text differ from what we
      measured and split.
    """
    try:
        shown = parse_html(message).text
    except HtmlParseError as err:
        raise AssertionError(
            f"Telegram refuses it: can't parse entities: {err}: {message!r}"
        ) from None
    except UnicodeError as err:  # a lone surrogate: the Bot API wants UTF-8
        raise AssertionError(f"Telegram refuses {message!r}: not UTF-8 ({err})") from None
    for at in (i for i, ch in enumerate(message) if ch == "&"):
        assert _KNOWN_ENTITY.match(message, at), f"bare '&' at {at} in {message!r}"
    dropped = _DROPPED.search(message)
    assert dropped is None, f"{dropped.group(0)!r} at {dropped.start()} in {message!r}"
    assert shown, f"message text is empty: {message!r}"
    assert len(shown) <= limit, f"{len(shown)} > {limit} characters: {message!r}"
    return shown


def squash(text: str) -> str:
    """Drop all whitespace: splitting a message may only change whitespace at the cuts."""
    return "".join(text.split())
