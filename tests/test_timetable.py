from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.briefings.timetable import next_briefing, parse_times


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def walk(times: str, zone: str, start: datetime, days: int) -> list[datetime]:
    """Every briefing instant from start over `days` days, as a ticking clock would see."""
    out, at = [], start
    end = start + timedelta(days=days)
    while True:
        nxt = next_briefing(parse_times(times), zone, after=at)
        assert nxt is not None
        if nxt > end:
            return out
        out.append(nxt)
        at = nxt


def test_two_zones_get_their_local_times() -> None:
    after = utc(2026, 1, 10, 0, 0)
    berlin = next_briefing(parse_times("07:30"), "Europe/Berlin", after=after)
    ny = next_briefing(parse_times("07:30"), "America/New_York", after=after)
    assert berlin == utc(2026, 1, 10, 6, 30)
    assert ny == utc(2026, 1, 10, 12, 30)


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        ("Europe/Berlin", utc(2026, 3, 27)),  # spring forward on 29 March
        ("Europe/Berlin", utc(2026, 10, 23)),  # fall back on 25 October
        ("America/New_York", utc(2026, 3, 6)),  # spring forward on 8 March
        ("America/New_York", utc(2026, 10, 30)),  # fall back on 1 November
    ],
)
@pytest.mark.parametrize("times", ["02:30", "01:30", "07:00 19:00", "00:00 23:59"])
def test_dst_neither_skips_nor_repeats(zone: str, start: datetime, times: str) -> None:
    instants = walk(times, zone, start, days=5)
    tz = ZoneInfo(zone)
    per_day: dict[object, int] = {}
    for instant in instants:
        day = instant.astimezone(tz).date()
        per_day[day] = per_day.get(day, 0) + 1
    n = len(times.split())
    # Every local day of the walk has exactly n briefings; none twice, none lost.
    full_days = sorted(per_day)[1:-1]
    assert all(per_day[d] == n for d in full_days), per_day
    assert len(set(instants)) == len(instants)


def test_gap_time_is_sent_right_after_the_gap() -> None:
    # 02:30 does not exist in Berlin on 29 March 2026; it goes out at 03:30 CEST.
    got = next_briefing(parse_times("02:30"), "Europe/Berlin", after=utc(2026, 3, 29, 0, 0))
    assert got == utc(2026, 3, 29, 1, 30)
    assert got.astimezone(ZoneInfo("Europe/Berlin")).hour == 3


def test_overlap_time_is_sent_once() -> None:
    # 02:30 happens twice in Berlin on 25 October 2026; only the first counts.
    first = next_briefing(parse_times("02:30"), "Europe/Berlin", after=utc(2026, 10, 24, 23))
    assert first == utc(2026, 10, 25, 0, 30)
    again = next_briefing(parse_times("02:30"), "Europe/Berlin", after=first)
    assert again == utc(2026, 10, 26, 1, 30)


def test_parse_times_rejects_bad_values() -> None:
    assert parse_times("19:00 07:30 07:30") == ((7, 30), (19, 0))
    with pytest.raises(ValueError, match="25:00"):
        parse_times("25:00")


def test_last_briefing_is_the_latest_time_at_or_before() -> None:
    from bot.briefings.timetable import last_briefing

    times = parse_times("07:00 19:00")
    at = utc(2026, 6, 10, 20, 0)
    assert last_briefing(times, "UTC", at_or_before=at) == utc(2026, 6, 10, 19, 0)
    assert last_briefing(times, "UTC", at_or_before=utc(2026, 6, 10, 19)) == utc(2026, 6, 10, 19)
    # Kathmandu is UTC+05:45: 07:00 there is 01:15 UTC.
    got = last_briefing(parse_times("07:00"), "Asia/Kathmandu", at_or_before=utc(2026, 6, 10, 1))
    assert got == utc(2026, 6, 9, 1, 15)
    assert last_briefing((), "UTC", at_or_before=at) is None


@pytest.mark.parametrize(
    ("sent", "old", "new", "expected"),
    [
        # 08:00 Berlin (07:00 London): 08:00 London that day counts as had.
        (utc(2026, 6, 10, 6), "Europe/Berlin", "Europe/London", utc(2026, 6, 10, 7)),
        # 08:00 Tokyo on the 10th was midnight in London: 08:00 London on the 10th counts.
        (utc(2026, 6, 9, 23), "Asia/Tokyo", "Europe/London", utc(2026, 6, 10, 7)),
        # ... and 19:00 on the 9th in New York: only the 9th's 08:00 there counts.
        (utc(2026, 6, 9, 23), "Asia/Tokyo", "America/New_York", utc(2026, 6, 9, 12)),
        (utc(2026, 6, 10, 6), "Europe/Berlin", "Europe/Berlin", utc(2026, 6, 10, 6)),
    ],
)
def test_carried_over_keeps_the_time_of_day_on_the_new_zones_date(
    sent: datetime, old: str, new: str, expected: datetime
) -> None:
    from bot.briefings.timetable import carried_over

    assert carried_over(sent, old, new) == expected
