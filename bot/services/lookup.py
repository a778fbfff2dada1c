"""Parse command arguments into requests (pure): topics by name, /latest options."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.ingest.topics import Topic
from bot.render.numbers import looks_numeric, parse_ascii_int
from bot.render.plain import fold

LATEST_DEFAULT = 5
LATEST_MAX = 20


@dataclass(frozen=True)
class UnknownName:
    name: str
    suggestions: tuple[str, ...]  # topic slugs


@dataclass(frozen=True)
class TopicResolution:
    slugs: tuple[str, ...]
    unknown: tuple[UnknownName, ...]


@dataclass(frozen=True)
class LatestRequest:
    topic: str | None
    count: int


class UsageError(ValueError):
    """The arguments do not fit the command; answer with its usage line."""


# Direction marks, embeddings, overrides and isolates, the zero-width space, word joiner
# and byte-order mark: right-to-left keyboards and copy-paste put them around what a user
# types, and no topic, time or zone name holds one (ZWJ and ZWNJ, parts of words, stay).
_MARKS = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def without_marks(text: str) -> str:
    """`text` without invisible direction and zero-width marks."""
    return _MARKS.sub("", text)


def _fold(name: str) -> str:
    """A topic as typed ("#Tech ", "tech") as compared: no leading "#", no marks, folded."""
    return fold(without_marks(name)).lstrip("#")


def suggest(name: str, topics: Sequence[Topic], limit: int = 3) -> tuple[str, ...]:
    """Topic slugs that look like `name`, best first."""
    choices = {t.slug: f"{t.slug} {fold(t.name)}" for t in topics}
    found = process.extract(
        _fold(name), choices, scorer=fuzz.partial_ratio, limit=limit, score_cutoff=60
    )
    return tuple(slug for _label, _score, slug in found)


def resolve_topic(name: str, topics: Sequence[Topic]) -> str | None:
    """Return the slug for a topic given by slug or display name (case-insensitive)."""
    folded = _fold(name)
    for topic in topics:
        if folded in (topic.slug, fold(topic.name)):
            return topic.slug
    return None


# Quotation marks a user may put around a topic name: /subscribe "Middle East", «Мир».
_QUOTES = '"“”„«»'


def topic_args(args: Sequence[str], topics: Sequence[Topic]) -> list[str]:
    """The arguments with quotes around them dropped and the words of a topic name that
    has spaces joined again: ["Middle", "East", "tech"] → ["Middle East", "tech"]."""
    words = [stripped for arg in args if (stripped := arg.strip(_QUOTES))]
    lengths = sorted({len(t.name.split()) for t in topics if " " in t.name.strip()}, reverse=True)
    names = {fold(t.name) for t in topics}
    joined: list[str] = []
    i = 0
    while i < len(words):
        span = next(
            (
                n
                for n in lengths
                if i + n <= len(words) and fold(" ".join(words[i : i + n])) in names
            ),
            1,
        )
        joined.append(" ".join(words[i : i + span]))
        i += span
    return joined


def resolve_topics(names: Sequence[str], topics: Sequence[Topic]) -> TopicResolution:
    """Map names (command arguments, see `topic_args`) to slugs; collect unknown names
    with suggestions."""
    slugs: list[str] = []
    unknown: list[UnknownName] = []
    for name in topic_args(names, topics):
        slug = resolve_topic(name, topics)
        if slug is None:
            unknown.append(UnknownName(name, suggest(name, topics)))
        elif slug not in slugs:
            slugs.append(slug)
    return TopicResolution(tuple(slugs), tuple(unknown))


def parse_latest(args: Sequence[str], topics: Sequence[Topic]) -> LatestRequest | UnknownName:
    """`/latest [topic] [n]` in either order; raise UsageError on anything else."""
    topic: str | None = None
    count = LATEST_DEFAULT
    seen_count = seen_topic = False
    args = topic_args(args, topics)
    if len(args) > 2:
        raise UsageError("too many arguments")
    for arg in args:
        if looks_numeric(arg) and not seen_count:
            # "²", "٣", "-3" or 30 digits: meant as a count, and not one we take.
            number = parse_ascii_int(arg)
            if number is None or not 1 <= number <= LATEST_MAX:
                raise UsageError(f"n must be 1–{LATEST_MAX}")
            count, seen_count = number, True
        elif not seen_topic and not looks_numeric(arg):
            seen_topic = True
            topic = resolve_topic(arg, topics)
            if topic is None:
                return UnknownName(arg, suggest(arg, topics))
        else:
            raise UsageError(f"unexpected {arg!r}")
    return LatestRequest(topic=topic, count=count)


@dataclass(frozen=True)
class ScheduleRequest:
    """`/schedule` with no arguments shows; otherwise sets times or a mode."""

    mode: str | None = None  # scheduled | instant | off; None = show
    times: tuple[str, ...] = ()


MAX_TIMES = 6
# "7:00", and as German and Turkish write it "7.30", as French writes it "7h" and "7h30".
# Anything else (24:00, 7pm, 7:5) is left for `parse_times` to refuse.
_LOOSE_TIME = re.compile(r"([0-9]{1,2})(?:[:.]([0-5][0-9])|[hH]([0-5][0-9])?)")


def _hhmm(item: str) -> str:
    match = _LOOSE_TIME.fullmatch(item)
    if match is None:
        return item
    return f"{int(match.group(1)):02d}:{match.group(2) or match.group(3) or '00'}"


class ScheduleUsageError(UsageError):
    """A /schedule that sets nothing: `item` (as typed) is no time of day, or `count` times
    are more than MAX_TIMES. The reply says which, above the usage line."""

    def __init__(self, *, item: str = "", count: int = 0) -> None:
        super().__init__(f'"{item}" is not a time like 07:30' if item else f"{count} times")
        self.item, self.count = item, count


def _schedule_items(args: Sequence[str]) -> list[str]:
    """The items as typed, marks dropped: "07:00,19:30" and "07:00, 19:30" are two."""
    return [item for arg in args for item in without_marks(arg).split(",") if item]


def parse_schedule(args: Sequence[str]) -> ScheduleRequest:
    """`/schedule`, `/schedule 07:30 19:00`, `/schedule off`, `/schedule instant`.

    "7:00", "7.00" and "7h" are 07:00; anything else raises ScheduleUsageError."""
    from bot.briefings.timetable import format_times, parse_hhmm

    typed = _schedule_items(args)
    if not typed:
        return ScheduleRequest()
    if len(typed) == 1 and typed[0].casefold() in ("off", "instant"):
        return ScheduleRequest(mode=typed[0].casefold())
    times = set()
    for item in typed:
        hm = parse_hhmm(_hhmm(item))
        if hm is None:
            raise ScheduleUsageError(item=item)
        times.add(hm)
    if len(times) > MAX_TIMES:
        raise ScheduleUsageError(count=len(times))
    return ScheduleRequest(mode="scheduled", times=tuple(format_times(sorted(times)).split()))


@dataclass(frozen=True)
class ZoneChoice:
    zone: str | None
    suggestions: tuple[str, ...] = ()


# Names the host's zone folder lists that are no place's zone: "localtime" is whatever the
# server runs in (and absent from the tzdata package, so a chat set to it breaks on another
# host), "Factory" is tzdata's "-00" placeholder.
NOT_USER_ZONES = frozenset({"localtime", "Factory"})


# "GMT+3" or "UTC+3" as people write it is three hours ahead of UTC; IANA's Etc/GMT+3 is
# three hours behind (POSIX signs). An offset typed that way is read as meant.
_OFFSET = re.compile(r"(?:utc|gmt)?([+\-\u2212])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
# The longest IANA name is 32 characters; anything much longer is no zone to fuzz-match.
_MAX_ZONE_NAME = 64


def resolve_timezone(name: str) -> ZoneChoice:
    """Match an IANA zone name case-insensitively; suggest close ones otherwise.

    Spaces count as underscores ("New York"), accents are ignored ("São Paulo"), and a
    UTC offset ("GMT+3", "UTC-05:00") names the Etc zone of that offset."""
    from zoneinfo import available_timezones

    zones = sorted(available_timezones() - NOT_USER_ZONES)
    wanted = "_".join(without_marks(name).split())
    exact = {z.casefold(): z for z in zones}
    if wanted.casefold() in exact:
        return ZoneChoice(exact[wanted.casefold()])
    offset = _OFFSET.fullmatch(wanted.replace("_", ""))
    if offset is not None:
        return ZoneChoice(_offset_zone(offset))
    by_city = {_plain(z.rsplit("/", 1)[-1]): z for z in zones if "/" in z}
    if _plain(wanted) in by_city:
        return ZoneChoice(by_city[_plain(wanted)])  # "Berlin" → Europe/Berlin
    if len(wanted) > _MAX_ZONE_NAME:
        return ZoneChoice(None)
    found = process.extract(wanted, zones, scorer=fuzz.WRatio, limit=3, score_cutoff=70)
    return ZoneChoice(None, tuple(z for z, _score, _i in found))


def _offset_zone(offset: re.Match[str]) -> str | None:
    """The Etc zone of a whole-hour offset from UTC (None for 05:30 or past ±12/14 hours)."""
    sign, hours, minutes = offset.groups()
    ahead = int(hours) if sign == "+" else -int(hours)
    if (minutes or "00") != "00" or not -12 <= ahead <= 14:
        return None
    return "UTC" if ahead == 0 else f"Etc/GMT{-ahead:+d}"


def _plain(name: str) -> str:
    """Casefolded, without accents: "São_Paulo" matches "Sao_Paulo"."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
