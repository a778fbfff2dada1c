"""The shared Telegram-HTML check: it refuses what Telegram refuses, plus our two rules."""

from __future__ import annotations

import pytest

from tests.support.tghtml_check import check_message, squash


def test_returns_the_text_a_user_sees() -> None:
    assert check_message('<b>Tram</b> &amp; <a href="https://x.example/">bus</a>') == "Tram & bus"


@pytest.mark.parametrize(
    ("message", "complaint"),
    [
        ("<b>unclosed", "can't parse entities"),
        ("<marquee>x</marquee>", "can't parse entities"),
        ("a & b", "bare '&'"),
        ("tab\x01bell", "'\\x01'"),
        ("lone \ud800 surrogate", "not UTF-8"),
        ("  \n ", "message text is empty"),
        ("<b> </b>", "message text is empty"),
        ("x" * 4097, "4097 > 4096"),
    ],
)
def test_refuses_with_the_reason(message: str, complaint: str) -> None:
    with pytest.raises(AssertionError) as caught:
        check_message(message)
    assert complaint in str(caught.value)


def test_limit_is_the_callers() -> None:
    assert check_message("12345", limit=5) == "12345"
    with pytest.raises(AssertionError):
        check_message("123456", limit=5)


def test_squash_ignores_only_whitespace() -> None:
    assert squash(" a\nb\t c ") == "abc"
