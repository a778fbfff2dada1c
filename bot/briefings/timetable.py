"""Briefing times in a chat's own zone → the next due moment in UTC (pure).

Each (local date, "HH:MM") pair yields exactly one instant, so a daylight-
saving change can neither skip a briefing (a time inside the spring gap is
sent at the first moment after it) nor repeat one (in the autumn overlap the
first occurrence counts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(value: object) -> tuple[int, int] | None:
    """Parse "HH:MM" (24-hour) into (hour, minute), or None."""
    match = _TIME_RE.match(value.strip()) if isinstance(value, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_times(text: str | Iterable[str]) -> tuple[tuple[int, int], ...]:
    """Parse "07:30 19:00" (or a list) into sorted (hour, minute) pairs; bad items raise."""
    items = text.split() if isinstance(text, str) else list(text)
    parsed = []
    for item in items:
        hm = parse_hhmm(item)
        if hm is None:
            raise ValueError(f'"{item}" is not a time like 07:30')
        parsed.append(hm)
    return tuple(sorted(set(parsed)))


def zone(name: str) -> tzinfo:
    """A chat's zone; UTC when this host cannot load the stored name (set on a host with
    another zone folder, or a name tzdata dropped): one chat's zone must not stop the
    briefings composed with it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def format_times(times: Sequence[tuple[int, int]]) -> str:
    return " ".join(f"{h:02d}:{m:02d}" for h, m in times)


def _instant(day: date, hm: tuple[int, int], where: tzinfo) -> datetime:
    local = datetime.combine(day, time(hm[0], hm[1]), tzinfo=where)  # fold=0: first occurrence
    instant = local.astimezone(UTC)
    # Inside a spring-forward gap fold=0 maps to a moment before the gap ends;
    # keep it, it is the next real instant at or after the wall-clock time.
    return instant


def next_briefing(
    times: Sequence[tuple[int, int]], zone_name: str, *, after: datetime
) -> datetime | None:
    """First briefing instant strictly after `after` (aware UTC), or None without times."""
    if not times:
        return None
    where = zone(zone_name)
    local_day = after.astimezone(where).date()
    candidates = (
        _instant(local_day + timedelta(days=offset), hm, where)
        for offset in (-1, 0, 1, 2)
        for hm in times
    )
    return min(c for c in candidates if c > after)


def last_briefing(
    times: Sequence[tuple[int, int]], zone_name: str, *, at_or_before: datetime
) -> datetime | None:
    """Last briefing instant at or before `at_or_before` (aware UTC), or None without times."""
    if not times:
        return None
    where = zone(zone_name)
    local_day = at_or_before.astimezone(where).date()
    candidates = (
        _instant(local_day + timedelta(days=offset), hm, where)
        for offset in (-2, -1, 0, 1)
        for hm in times
    )
    return max(c for c in candidates if c <= at_or_before)


def is_briefing_time(moment: datetime, times: Sequence[tuple[int, int]], zone_name: str) -> bool:
    """Whether `moment` is the instant of one of `times` on its local day."""
    where = zone(zone_name)
    day = moment.astimezone(where).date()
    return any(_instant(day, hm, where) == moment for hm in times)


def carried_over(moment: datetime, old_zone: str, new_zone: str) -> datetime:
    """The instant at `moment`'s wall-clock time in `old_zone`, on its date in `new_zone`.

    A briefing sent before a change of zone keeps its time of day and counts for the
    new zone's local day it fell on, so that day does not get the same time again.
    """
    wall = moment.astimezone(zone(old_zone))
    day = moment.astimezone(zone(new_zone)).date()
    return _instant(day, (wall.hour, wall.minute), zone(new_zone))


def next_due(
    mode: str, times: str | Iterable[str], zone_name: str, *, after: datetime
) -> datetime | None:
    """The one rule for when a chat's next briefing falls due.

    Scheduled: its next briefing time after `after`. Instant: at once (the
    instant tick then spaces messages itself). Off, or anything else: never.
    """
    if mode == "scheduled":
        return next_briefing(parse_times(times), zone_name, after=after)
    if mode == "instant":
        return after
    return None
