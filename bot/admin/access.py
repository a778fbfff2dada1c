"""Who is an admin, and which numbers an admin command accepts: decided here only."""

from __future__ import annotations

from collections.abc import Collection

from bot.render.numbers import parse_ascii_int

# Row ids are 32-bit INTEGER columns on PostgreSQL: a larger number is no id,
# and asking the database for it would raise "integer out of range".
MAX_ID = 2**31 - 1


def is_admin(admins: Collection[int], user_id: int | None) -> bool:
    """Admins are the user ids listed in `telegram.admins`; nobody else, and no anonymous sender."""
    return user_id is not None and user_id in admins


def parse_id(text: str) -> int | None:
    """A row id typed by an admin ("12" or "#12") or carried in callback data.

    Only ASCII digits count: `str.isdigit` and `int` accept other scripts'
    digits and superscripts ("²", "٣"), signs, spaces and underscores.
    """
    number = parse_ascii_int(text.removeprefix("#"), max_digits=10)
    return number if number is not None and 0 < number <= MAX_ID else None
