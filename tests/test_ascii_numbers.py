"""Only ASCII digits are numbers in commands and callback data; error kinds ignore arguments."""

from __future__ import annotations

import pytest

from bot.admin.access import parse_id
from bot.admin.alerts import ErrorThrottle, button_place, command_place, error_kind
from bot.render.numbers import looks_numeric, parse_ascii_int
from bot.render.stories import fulltext_callback, parse_fulltext_callback
from bot.services.lookup import LatestRequest, UsageError, parse_latest
from tests.support.botharness import TOPICS

ODD_DIGITS = ["²", "٣", "１", "۵", "𝟓", "-3", "+3", " 3", "3 ", "1_0", "", "3.0", "0x1"]


@pytest.mark.parametrize("text", ODD_DIGITS)
def test_parse_ascii_int_refuses_non_ascii_digits(text: str) -> None:
    assert parse_ascii_int(text) is None


def test_parse_ascii_int_reads_ascii_and_bounds_length() -> None:
    assert parse_ascii_int("007") == 7
    assert parse_ascii_int("9" * 18) == int("9" * 18)
    assert parse_ascii_int("9" * 19) is None
    assert parse_ascii_int("9" * 5000) is None  # int() would raise past 4300 digits
    assert parse_ascii_int("12", max_digits=1) is None


def test_looks_numeric_in_any_script() -> None:
    assert all(looks_numeric(t) for t in ["²", "٣", "-3", "+1", "12"])
    assert not any(looks_numeric(t) for t in ["", "-", "tech", "3a", "²x"])


@pytest.mark.parametrize("arg", ["²", "٣", "１", "-3", "0", "21", "9" * 5000])
def test_latest_refuses_numbers_it_does_not_take(arg: str) -> None:
    with pytest.raises(UsageError):
        parse_latest([arg], TOPICS)
    with pytest.raises(UsageError):
        parse_latest(["tech", arg], TOPICS)


def test_latest_still_reads_ascii_counts_and_topics() -> None:
    assert parse_latest(["3"], TOPICS) == LatestRequest(topic=None, count=3)
    assert parse_latest(["3", "tech"], TOPICS) == LatestRequest(topic="tech", count=3)
    with pytest.raises(UsageError):
        parse_latest(["3", "4"], TOPICS)


@pytest.mark.parametrize(
    "data", ["ft:²", "ft:٣", "ft:１", "ft:-1", "ft:", "ft:1 ", "ft:" + "9" * 60]
)
def test_fulltext_callback_refuses_odd_ids(data: str) -> None:
    assert parse_fulltext_callback(data) is None


def test_fulltext_callback_round_trip() -> None:
    assert parse_fulltext_callback(fulltext_callback(42)) == 42
    assert parse_fulltext_callback("tp:42") is None


@pytest.mark.parametrize("text", ["²", "#٣", "１", "#", "-1", "0", str(2**31), "9" * 50])
def test_admin_ids_refuse_odd_numbers(text: str) -> None:
    assert parse_id(text) is None


def test_admin_ids_read_ascii() -> None:
    assert parse_id("#12") == parse_id("12") == 12


KNOWN = {"latest", "help", "feeds"}


@pytest.mark.parametrize(
    "text",
    ["/latest", "/latest ²", "/LaTeSt@newsbot 3 tech", "/latest@otherbot <b>", "/latest\u200f"],
)
def test_command_place_drops_arguments_suffix_and_case(text: str) -> None:
    assert command_place(text.replace("\u200f", " \u200f"), KNOWN) == "command /latest"


def test_unknown_commands_are_one_place() -> None:
    places = {command_place(f"/x{i}@bot", KNOWN) for i in range(50)} | {command_place("/", KNOWN)}
    assert places == {"command (unknown)"}


def test_button_place_keeps_only_known_prefixes() -> None:
    prefixes = ("tp:", "ft:", "bc:")
    assert button_place("ft:123", prefixes) == button_place("ft:²", prefixes) == "button ft:"
    assert button_place("bc:ok:7", prefixes) == "button bc:"
    assert {button_place(f"zz{i}:x", prefixes) for i in range(20)} == {"button (unknown)"}


def test_throttle_reports_random_arguments_once() -> None:
    """A hundred /latest calls with different arguments make one report, not a hundred."""
    now = [0.0]
    throttle = ErrorThrottle(clock=lambda: now[0])
    error = ValueError("boom")
    allowed = [
        throttle.allow(error_kind(error, command_place(f"/latest@bot {i} x{i}", KNOWN)))
        for i in range(100)
    ]
    allowed += [
        throttle.allow(error_kind(error, command_place(f"/rnd{i}", KNOWN))) for i in range(100)
    ]
    allowed += [
        throttle.allow(error_kind(error, button_place(f"ft:{i}", ("ft:",)))) for i in range(100)
    ]
    assert sum(allowed) == 3
    now[0] = 601.0
    assert throttle.allow(error_kind(error, command_place("/latest 1", KNOWN)))
