"""/schedule and /timezone through the real bot, then the real compose and sender, on a clock
the test sets: changes just before and after a briefing, zone changes, clock steps, midnight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.briefings.compose import compose_scheduled
from bot.services.context import Services
from bot.settings import Settings
from bot.storage.models import Chat
from tests.support.botharness import converse, make_settings, running_bot, say
from tests.support.fake_telegram import FakeTelegram
from tests.support.seed import seed_headlines

USER = 4242
SCHEDULE_USAGE = "Usage: /schedule [HH:MM…|instant|off]: show or set your briefing times"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Clock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Bot:
    settings: Settings
    engine: Engine
    services: Services
    clock: Clock
    tg: FakeTelegram

    async def tick(self, at: datetime) -> None:
        """One compose tick at `at`, then one deliver round at the same time."""
        self.clock.at = at
        await asyncio.to_thread(compose_scheduled, self.engine, self.settings, now=at)
        sender = self.services.sender
        assert sender is not None
        sender.clock = self.clock
        await sender.deliver_due(budget_seconds=10)

    def briefings(self) -> list[str]:
        return [m.text for m in self.tg.messages(USER) if "Your briefing" in m.text]

    async def command(self, at: datetime, text: str, *fragments: str) -> str:
        self.clock.at = at
        [reply] = await converse(self.tg, USER, [(text, fragments)])
        return str(reply.text)

    def chat(self) -> Chat:
        with Session(self.engine) as session:
            row = session.get(Chat, USER)
            assert row is not None
            return row


@pytest.fixture
async def bot(tg: FakeTelegram, engine: Engine) -> AsyncIterator[Bot]:
    tg.add_private_chat(USER)
    settings = make_settings(tg)  # new chats: 08:00 Europe/Berlin
    clock = Clock(utc(2026, 6, 10, 4, 0))
    async with running_bot(settings, engine) as services:
        services.clock = clock
        harness = Bot(settings, engine, services, clock, tg)
        await harness.command(clock.at, "/subscribe world", "Subscribed to: World")
        yield harness


@pytest.mark.parametrize(
    ("old_zone", "briefed_at", "new_zone", "changed_at", "next_shown", "next_at"),
    [
        # Berlin's 08:00 went out (07:00 London); in London it is the same day: tomorrow.
        (
            "Europe/Berlin",
            utc(2026, 6, 10, 6, 0),
            "Europe/London",
            utc(2026, 6, 10, 6, 30),
            "Thu, 11 Jun, 08:00",
            utc(2026, 6, 11, 7, 0),
        ),
        # Tokyo's 08:00 on the 10th went out at 00:00 London on the 10th: the same day there.
        (
            "Asia/Tokyo",
            utc(2026, 6, 9, 23, 0),
            "Europe/London",
            utc(2026, 6, 10, 0, 30),
            "Thu, 11 Jun, 08:00",
            utc(2026, 6, 11, 7, 0),
        ),
        # Tokyo's 08:00 on the 10th was 19:00 New York on the 9th: the 10th in New York
        # still gets its 08:00, no day goes without.
        (
            "Asia/Tokyo",
            utc(2026, 6, 9, 23, 0),
            "America/New_York",
            utc(2026, 6, 9, 23, 30),
            "Wed, 10 Jun, 08:00",
            utc(2026, 6, 10, 12, 0),
        ),
        # New York's 08:00 went out at 22:00 Tokyo: Tokyo's next 08:00 is the next morning.
        (
            "America/New_York",
            utc(2026, 6, 10, 12, 0),
            "Asia/Tokyo",
            utc(2026, 6, 10, 12, 30),
            "Thu, 11 Jun, 08:00",
            utc(2026, 6, 10, 23, 0),
        ),
    ],
)
async def test_timezone_change_after_a_briefing_sends_that_time_once_a_local_day(
    bot: Bot,
    old_zone: str,
    briefed_at: datetime,
    new_zone: str,
    changed_at: datetime,
    next_shown: str,
    next_at: datetime,
) -> None:
    setup = briefed_at - timedelta(hours=2)
    await bot.command(setup, f"/timezone {old_zone}", f"Time zone set to {old_zone}")
    seed_headlines(bot.engine, ["Morning news"], now=briefed_at - timedelta(minutes=5))
    await bot.tick(briefed_at + timedelta(seconds=5))
    assert len(bot.briefings()) == 1
    await bot.command(changed_at, f"/timezone {new_zone}", f"Next briefing: {next_shown}.")
    assert bot.chat().next_briefing_at == next_at
    seed_headlines(bot.engine, ["Later news"], now=changed_at + timedelta(minutes=5))
    # Ticks every 30 minutes until just before the next one: nothing more goes out.
    at = changed_at
    while at < next_at:
        await bot.tick(at)
        at += timedelta(minutes=30)
    assert len(bot.briefings()) == 1
    await bot.tick(next_at + timedelta(seconds=5))
    assert len(bot.briefings()) == 2 and "Later news" in bot.briefings()[1]


async def test_schedule_changes_around_the_briefing_time(bot: Bot) -> None:
    seed_headlines(bot.engine, ["Overnight news"], now=utc(2026, 6, 10, 5, 0))
    # A minute before 08:00 Berlin, moved to 09:00: nothing at 08:00, one at 09:00.
    await bot.command(utc(2026, 6, 10, 5, 59), "/schedule 09:00", "Next: Wed, 10 Jun, 09:00")
    await bot.tick(utc(2026, 6, 10, 6, 0, 5))
    assert bot.briefings() == []
    await bot.tick(utc(2026, 6, 10, 7, 0, 5))
    assert len(bot.briefings()) == 1
    # At 10:00 a time that already passed today: tomorrow, nothing now.
    await bot.command(utc(2026, 6, 10, 8, 0), "/schedule 9.30", "Next: Thu, 11 Jun, 09:30")
    seed_headlines(bot.engine, ["Noon news"], now=utc(2026, 6, 10, 10, 0))
    await bot.tick(utc(2026, 6, 10, 10, 0, 5))
    assert len(bot.briefings()) == 1
    # Two times at noon: 19:00 today still comes.
    await bot.command(utc(2026, 6, 10, 10, 1), "/schedule 07:00, 19:00", "Next: Wed, 10 Jun, 19:00")
    await bot.tick(utc(2026, 6, 10, 17, 0, 5))
    assert len(bot.briefings()) == 2 and "Noon news" in bot.briefings()[1]
    # Removed: nothing the next morning.
    await bot.command(utc(2026, 6, 10, 20, 0), "/schedule off", "Scheduled briefings are off")
    seed_headlines(bot.engine, ["Next morning"], now=utc(2026, 6, 11, 4, 0))
    await bot.tick(utc(2026, 6, 11, 5, 0, 5))
    assert len(bot.briefings()) == 2 and bot.chat().next_briefing_at is None


async def test_midnight_and_the_days_last_minute_carry_the_local_date(bot: Bot) -> None:
    await bot.command(utc(2026, 6, 10, 21, 0), "/schedule 23:59 00:00", "Next: Wed, 10 Jun, 23:59")
    seed_headlines(bot.engine, ["Late news"], now=utc(2026, 6, 10, 21, 30))
    await bot.tick(utc(2026, 6, 10, 21, 59, 5))  # 23:59 Berlin on the 10th
    seed_headlines(bot.engine, ["Midnight news"], now=utc(2026, 6, 10, 22, 0))
    await bot.tick(utc(2026, 6, 10, 22, 0, 5))  # 00:00 Berlin on the 11th, still the 10th in UTC
    late, midnight = bot.briefings()
    assert "Wednesday, 10 June 2026" in late and "Late news" in late
    assert "Thursday, 11 June 2026" in midnight and "Midnight news" in midnight
    assert "Late news" not in midnight


async def test_clock_stepping_back_repeats_nothing_and_loses_no_story(bot: Bot) -> None:
    seed_headlines(bot.engine, ["Before eight"], now=utc(2026, 6, 10, 5, 30))
    await bot.tick(utc(2026, 6, 10, 6, 0, 5))  # 08:00 Berlin
    assert len(bot.briefings()) == 1
    # NTP steps the host clock back ten minutes; a story is stored on the stepped clock.
    stepped = utc(2026, 6, 10, 5, 51)
    seed_headlines(bot.engine, ["Stored on the stepped clock"], now=stepped)
    await bot.tick(stepped)
    # A change of schedule on the stepped clock does not bring 08:00 back today.
    await bot.command(stepped, "/schedule 08:00 19:00", "Next: Wed, 10 Jun, 19:00")
    await bot.tick(utc(2026, 6, 10, 6, 0, 5))
    assert len(bot.briefings()) == 1
    await bot.tick(utc(2026, 6, 10, 17, 0, 5))
    assert len(bot.briefings()) == 2
    assert "Stored on the stepped clock" in bot.briefings()[1]


async def test_clock_stepping_forward_sends_once(bot: Bot) -> None:
    seed_headlines(bot.engine, ["Before eight"], now=utc(2026, 6, 10, 5, 30))
    await bot.tick(utc(2026, 6, 10, 5, 59))
    await bot.tick(utc(2026, 6, 10, 6, 40))  # a 40-minute step forward past 08:00 Berlin
    await bot.tick(utc(2026, 6, 10, 6, 0, 5))  # and back
    await bot.tick(utc(2026, 6, 10, 6, 41))
    assert len(bot.briefings()) == 1


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("7.30", "Briefings at 07:30 "),
        ("07.30 19.00", "Briefings at 07:30, 19:00 "),
        ("7h", "Briefings at 07:00 "),
        ("7h30", "Briefings at 07:30 "),
        ("00:00 23:59", "Briefings at 00:00, 23:59 "),
        ("24:00", "Usage: /schedule"),
        ("7", "Usage: /schedule"),
        ("7.5", "Usage: /schedule"),
        ("25h", "Usage: /schedule"),
    ],
)
async def test_schedule_reads_times_as_people_type_them(bot: Bot, typed: str, answer: str) -> None:
    before = bot.chat().briefing_times
    [reply] = await say(bot.tg, USER, f"/schedule {typed}")
    assert answer in reply.text
    if answer.startswith("Usage"):
        assert bot.chat().briefing_times == before  # a bad time changes nothing


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("25:00", '"25:00" is not a time of day'),
        ("07:30 banana", '"banana" is not a time of day'),
        ("25h", '"25h" is not a time of day'),  # named as typed, not as read
        ("1:00 2:00 3:00 4:00 5:00 6:00 7:00", "That is 7 times; at most 6 briefings a day."),
    ],
)
async def test_a_schedule_that_sets_nothing_says_why_above_the_usage(
    bot: Bot, typed: str, reason: str
) -> None:
    before = bot.chat().briefing_times
    [reply] = await say(bot.tg, USER, f"/schedule {typed}")
    first, usage = reply.text.splitlines()
    assert reason in first and usage == SCHEDULE_USAGE
    assert bot.chat().briefing_times == before


async def test_the_reason_is_in_the_chats_language(bot: Bot) -> None:
    await say(bot.tg, USER, "/language de")
    [bad] = await say(bot.tg, USER, "/schedule 25:00")
    assert bad.text.startswith("„25:00“ ist keine Uhrzeit") and "Verwendung: /schedule" in bad.text
    [many] = await say(bot.tg, USER, "/schedule 1:00 2:00 3:00 4:00 5:00 6:00 7:00")
    assert "höchstens 6 Briefings am Tag" in many.text and "Verwendung: /schedule" in many.text


@pytest.mark.parametrize("mode", ["off", "instant"])
async def test_a_zone_set_with_no_briefing_scheduled_names_none(bot: Bot, mode: str) -> None:
    """Briefings off or instant: the zone is set and the reply names no next briefing
    (it said "Next briefing: —.")."""
    await say(bot.tg, USER, f"/schedule {mode}")
    [reply] = await say(bot.tg, USER, "/timezone Asia/Tokyo")
    assert reply.text == "🕰 Time zone set to Asia/Tokyo."
    assert bot.chat().timezone == "Asia/Tokyo"
    await say(bot.tg, USER, "/language de")
    [german] = await say(bot.tg, USER, "/timezone Europe/Berlin")
    assert german.text == "🕰 Zeitzone auf Europe/Berlin gesetzt."


async def test_schedule_changed_while_its_briefing_is_due_keeps_it_if_the_time_stays(
    bot: Bot,
) -> None:
    seed_headlines(bot.engine, ["Overnight news"], now=utc(2026, 6, 10, 5, 0))
    # 08:00:03 Berlin: due, not composed yet (the compose tick is seconds away). 19:00 is
    # added, 08:00 stays: this morning's briefing still comes.
    await bot.command(utc(2026, 6, 10, 6, 0, 3), "/schedule 08:00 19:00", "Briefings at 08:00")
    await bot.tick(utc(2026, 6, 10, 6, 0, 15))
    assert len(bot.briefings()) == 1
    seed_headlines(bot.engine, ["Afternoon news"], now=utc(2026, 6, 10, 15, 0))
    await bot.tick(utc(2026, 6, 10, 17, 0, 5))
    assert len(bot.briefings()) == 2
    # The next morning, due again, 08:00 is replaced by 09:00: only the 09:00 one comes.
    seed_headlines(bot.engine, ["Morning news"], now=utc(2026, 6, 11, 5, 0))
    await bot.command(utc(2026, 6, 11, 6, 0, 3), "/schedule 09:00", "Next: Thu, 11 Jun, 09:00")
    await bot.tick(utc(2026, 6, 11, 6, 0, 15))
    assert len(bot.briefings()) == 2
    await bot.tick(utc(2026, 6, 11, 7, 0, 5))
    assert len(bot.briefings()) == 3
