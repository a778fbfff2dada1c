"""On-time briefings through the real compose code: DST in many zones, downtime, clock steps.

The clock is the `now` compose takes (the compose tick passes `services.clock()`); the
database is real (SQLite, and PostgreSQL where the test takes `engine`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.briefings.compose import compose_scheduled
from bot.briefings.timetable import next_due
from bot.settings import BriefingSettings, Settings, Topic
from bot.storage.models import Chat, Outbox, Story, table_of
from tests.support.seed import seed_chats, seed_headlines

SETTINGS = Settings(
    topics=(Topic("world", "World"),),
    briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=5, late_grace_hours=3),
)
TICK = timedelta(minutes=15)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def chat_row(engine: Engine, chat_id: int) -> Chat:
    with Session(engine) as session:
        row = session.get(Chat, chat_id)
        assert row is not None
        return row


def briefings(engine: Engine, chat_id: int) -> list[Outbox]:
    with Session(engine) as session:
        query = select(Outbox).where(Outbox.chat_id == chat_id, Outbox.kind == "briefing")
        return list(session.exec(query.order_by(col(Outbox.id))).all())


def add_chat(
    engine: Engine, chat_id: int, *, times: str, zone: str, since: datetime, now: datetime
) -> None:
    """A chat as /schedule and /timezone leave it at `since`."""
    due = next_due("scheduled", times, zone, after=since)
    seed_chats(engine, [chat_id], now=now, due=due, zone=zone, times=times)


# --- DST and odd offsets, walked tick by tick --------------------------------------------

# (zone, a window of local days around a change). Each window starts a day before the
# change and ends a day after it.
WINDOWS = [
    ("Europe/Berlin", date(2026, 3, 28)),  # 02:00 → 03:00 on 29 March
    ("Europe/Berlin", date(2026, 10, 24)),  # 03:00 → 02:00 on 25 October
    ("America/New_York", date(2026, 3, 7)),  # 02:00 → 03:00 on 8 March
    ("America/New_York", date(2026, 10, 31)),  # 02:00 → 01:00 on 1 November
    ("Australia/Sydney", date(2026, 4, 4)),  # 03:00 → 02:00 on 5 April (autumn there)
    ("Australia/Sydney", date(2026, 10, 3)),  # 02:00 → 03:00 on 4 October
    ("Australia/Lord_Howe", date(2026, 4, 4)),  # 02:00 → 01:30 on 5 April (30 minutes)
    ("Australia/Lord_Howe", date(2026, 10, 3)),  # 02:00 → 02:30 on 4 October
    ("Asia/Kolkata", date(2026, 3, 28)),  # UTC+05:30, no DST
    ("Asia/Kathmandu", date(2026, 3, 28)),  # UTC+05:45, no DST
]
# In every window: the gap's and the overlap's times, midnight and the day's last minute.
TIMES = ("00:00", "01:30", "01:45", "02:00", "02:15", "02:30", "03:00", "23:59")


@pytest.mark.parametrize(("zone", "first_day"), WINDOWS, ids=[f"{z}-{d}" for z, d in WINDOWS])
def test_each_time_once_a_local_day_across_dst(
    sqlite_engine: Engine, zone: str, first_day: date
) -> None:
    engine, where = sqlite_engine, ZoneInfo(zone)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=where).astimezone(UTC)
    after = first_day + timedelta(days=3)
    end = datetime.combine(after, datetime.min.time(), tzinfo=where).astimezone(UTC)
    for i, hm in enumerate(TIMES, start=1):
        add_chat(engine, i, times=hm, zone=zone, since=start - TICK, now=start)
    seed_headlines(engine, ["Before the window"], now=start - TICK)
    seen: dict[int, list[datetime]] = defaultdict(list)  # chat → the slots composed
    at = start
    while at <= end + TICK:
        if at.minute == 0:
            seed_headlines(engine, [f"News at {at:%Y-%m-%d %H:%M} UTC"], now=at)
        compose_scheduled(engine, SETTINGS, now=at)
        query = sa.select(table_of(Chat).c.id, table_of(Chat).c.last_briefing_at)
        with engine.connect() as conn:
            for chat_id, last in conn.execute(query):
                if last is not None and (not seen[chat_id] or seen[chat_id][-1] != last):
                    last = last.replace(tzinfo=UTC) if last.tzinfo is None else last
                    # On time: composed at the first tick at or after its slot.
                    assert timedelta(0) <= at - last < TICK, (chat_id, at, last)
                    seen[chat_id].append(last)
        at += TICK
    for i, hm in enumerate(TIMES, start=1):
        per_day = Counter(s.astimezone(where).date() for s in seen[i])
        days = [first_day + timedelta(days=n) for n in range(3)]
        assert [per_day[d] for d in days] == [1, 1, 1], (hm, per_day)
        for slot in seen[i]:
            local = slot.astimezone(where)
            wanted = datetime.combine(local.date(), datetime.strptime(hm, "%H:%M").time())
            # The wall-clock time, or (inside a spring gap) the first real instant after it.
            assert local.replace(tzinfo=None) >= wanted, (hm, local)
            assert local.replace(tzinfo=None) - wanted <= timedelta(hours=1), (hm, local)
            if local.replace(tzinfo=None) == wanted:
                assert local.fold == 0, (hm, local)  # an autumn overlap: its first occurrence
        # One message per briefing, and a briefing per slot: no repeats, no losses.
        keys = [row.dedup_key for row in briefings(engine, i)]
        assert len(keys) == len(set(keys)) == len(seen[i]), (hm, keys)


# --- Downtime: one catch-up for the latest missed time, never a flood ----------------------


DAY = date(2026, 6, 10)


@pytest.mark.parametrize(
    ("down_for", "expect_slot"),
    [
        (timedelta(minutes=10), utc(2026, 6, 10, 7, 0)),  # one catch-up
        (timedelta(hours=3), utc(2026, 6, 10, 7, 0)),  # at the grace: still sent, once
        (timedelta(hours=3, minutes=10), None),  # too late: the next time is awaited
        (timedelta(hours=13), utc(2026, 6, 10, 19, 0)),  # 07:00 lost, 19:00 an hour ago: sent
        (timedelta(days=2), utc(2026, 6, 12, 7, 0)),  # today's 07:00 was just now: sent
        (timedelta(days=2, hours=4), None),  # today's 07:00 is 4 h old: nothing
    ],
)
def test_restart_after_downtime_sends_at_most_one_catch_up(
    engine: Engine, down_for: timedelta, expect_slot: datetime | None
) -> None:
    # Times 07:00 and 19:00 UTC; the bot stops at 06:59 on 10 June, before the 07:00 one.
    stopped = utc(2026, 6, 10, 6, 59)
    add_chat(engine, 1, times="07:00 19:00", zone="UTC", since=stopped, now=stopped)
    seed_headlines(engine, ["Stored before the outage"], now=stopped)
    back = utc(2026, 6, 10, 7, 0) + down_for
    seed_headlines(engine, ["Fetched at the restart"], now=back)
    stats = compose_scheduled(engine, SETTINGS, now=back)
    again = compose_scheduled(engine, SETTINGS, now=back + TICK)  # the next tick repeats nothing
    assert again.briefings == again.empty == again.skipped_late == 0
    rows = briefings(engine, 1)
    row = chat_row(engine, 1)
    following = next_due("scheduled", "07:00 19:00", "UTC", after=back)
    assert row.next_briefing_at == following
    if expect_slot is None:
        assert (stats.briefings, stats.skipped_late, rows) == (0, 1, [])
        return
    assert (stats.briefings, stats.skipped_late) == (1, 0)
    [message] = rows
    assert message.dedup_key == f"brief:1:{expect_slot:%Y%m%dT%H%M}:0"
    assert row.last_briefing_at == expect_slot
    assert "Fetched at the restart" in message.text
    # The stories the outage held back, unless they are days old (a new chat looks back 24 h).
    assert ("Stored before the outage" in message.text) == (down_for < timedelta(days=1))


def test_catch_up_window_holds_missed_stories_but_none_older_than_two_days(
    engine: Engine,
) -> None:
    # Briefed on 1 June at 07:00; the bot is down from then until 5 June 07:30.
    last = utc(2026, 6, 1, 7, 0)
    add_chat(engine, 1, times="07:00", zone="UTC", since=last, now=last)
    with engine.begin() as conn:
        conn.execute(
            sa.update(table_of(Chat)).values(last_briefing_at=last, next_briefing_at=last + TICK)
        )
    back = utc(2026, 6, 5, 7, 30)
    seed_headlines(engine, ["Four days old"], now=back - timedelta(days=4))
    seed_headlines(engine, ["Forty hours old"], now=back - timedelta(hours=40))
    seed_headlines(engine, ["Fresh after the restart"], now=back)
    stats = compose_scheduled(engine, SETTINGS, now=back)
    assert stats.briefings == 1
    [message] = briefings(engine, 1)
    assert "Forty hours old" in message.text and "Fresh after the restart" in message.text
    assert "Four days old" not in message.text


# --- Stories at the boundary between two briefings -----------------------------------------


def test_story_at_the_boundary_and_odd_dates_each_arrive_once(engine: Engine) -> None:
    first = utc(2026, 6, 10, 7, 0)
    add_chat(engine, 1, times="07:00 19:00", zone="UTC", since=first - TICK, now=first)
    seed_headlines(engine, ["Before the morning"], now=first - timedelta(hours=1))
    # Composed a few seconds after the slot; a story stored exactly at the slot and one
    # stored between the slot and the compose are in this one, and not again.
    seed_headlines(engine, ["Stored at the slot"], now=first + timedelta(minutes=1))
    compose_scheduled(engine, SETTINGS, now=first + timedelta(seconds=5))
    seed_headlines(engine, ["Stored just after"], now=first + timedelta(seconds=5, minutes=1))
    # A refresh that read the clock before the slot and committed after the compose.
    seed_headlines(engine, ["Stamped before, stored after"], now=first + timedelta(seconds=30))
    # A feed with a wrong clock: published long ago or far ahead, first seen now.
    ids = seed_headlines(engine, ["Dated 2019", "Dated next year"], now=first + timedelta(hours=5))
    with engine.begin() as conn:
        story = table_of(Story)
        conn.execute(
            sa.update(story).where(story.c.id == ids[0]).values(published_at=utc(2019, 1, 1))
        )
        conn.execute(
            sa.update(story).where(story.c.id == ids[1]).values(published_at=utc(2027, 6, 1))
        )
    compose_scheduled(engine, SETTINGS, now=utc(2026, 6, 10, 19, 0, 3))
    compose_scheduled(engine, SETTINGS, now=utc(2026, 6, 11, 7, 0, 3))
    texts = [m.text for m in briefings(engine, 1)]
    for headline in (
        "Before the morning",
        "Stored at the slot",
        "Stored just after",
        "Stamped before, stored after",
        "Dated next year",
    ):
        assert sum(headline in t for t in texts) == 1, (headline, texts)
    # Published years ago is no news (grouping.MAX_STORY_AGE): never in a briefing.
    assert not any("Dated 2019" in t for t in texts), texts
