"""Parse command arguments into requests (pure): topics by name, /latest options."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.settings import Topic

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


def _fold(name: str) -> str:
    return name.strip().lstrip("#").casefold()


def suggest(name: str, topics: Sequence[Topic], limit: int = 3) -> tuple[str, ...]:
    """Topic slugs that look like `name`, best first."""
    choices = {t.slug: f"{t.slug} {t.name.casefold()}" for t in topics}
    found = process.extract(
        _fold(name), choices, scorer=fuzz.partial_ratio, limit=limit, score_cutoff=60
    )
    return tuple(slug for _label, _score, slug in found)


def resolve_topic(name: str, topics: Sequence[Topic]) -> str | None:
    """Return the slug for a topic given by slug or display name (case-insensitive)."""
    folded = _fold(name)
    for topic in topics:
        if folded in (topic.slug, topic.name.casefold()):
            return topic.slug
    return None


def resolve_topics(names: Sequence[str], topics: Sequence[Topic]) -> TopicResolution:
    """Map names to slugs; collect unknown names with suggestions."""
    slugs: list[str] = []
    unknown: list[UnknownName] = []
    for name in names:
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
    if len(args) > 2:
        raise UsageError("too many arguments")
    for arg in args:
        if arg.isdigit() and not seen_count:
            count, seen_count = int(arg), True
            if not 1 <= count <= LATEST_MAX:
                raise UsageError(f"n must be 1–{LATEST_MAX}")
        elif not seen_topic and not arg.lstrip("-").isdigit():
            seen_topic = True
            topic = resolve_topic(arg, topics)
            if topic is None:
                return UnknownName(arg, suggest(arg, topics))
        else:
            raise UsageError(f"unexpected {arg!r}")
    return LatestRequest(topic=topic, count=count)
