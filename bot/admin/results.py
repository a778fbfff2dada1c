"""What the admin use cases return: plain, frozen data that `bot.render.admin` turns into text.

Kept apart from the use cases so that the renderers can import these types
without importing the storage code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from bot.tally import Tally


@dataclass(frozen=True)
class FeedLine:
    """What /feeds shows of one feed."""

    id: int
    name: str
    url: str
    topics: tuple[str, ...]
    last_success_at: datetime | None
    entries_24h: int
    paused: bool
    failing_since: datetime | None
    last_error: str | None


FeedChangeKind = Literal[
    "added",
    "readded",
    "unusable",
    "duplicate",
    "duplicate_final",  # the URL redirects to a feed that is already there
    "not_found",
    "removed",
    "already_removed",
    "removed_earlier",  # /resumefeed of a removed feed
    "resumed",
    "not_paused",
    "topics_set",  # /feedtopics: `topics` now, `old_topics` before, `items` stories refiled
    "topics_shown",  # /feedtopics <id>: the feed's topics
    "config_topics",  # /feedtopics of a feed the config file lists: its topics are set there
]


@dataclass(frozen=True)
class FeedChange:
    """The outcome of /addfeed, /removefeed, /resumefeed or /feedtopics."""

    kind: FeedChangeKind
    feed_id: int | None = None
    name: str = ""
    url: str = ""  # the URL asked for; for duplicate_final, the stored (final) URL
    reason: str = ""  # why a URL is unusable
    items: int = 0  # entries found by the trial fetch
    topics: tuple[str, ...] = ()
    # topics_set: the feed's topics before the change; duplicate(_final): the feed's
    # topics, while `topics` holds those the /addfeed asked for
    old_topics: tuple[str, ...] = ()
    from_config: bool = False  # a removed config feed comes back at the next start
    found_on: str = ""  # added: the page (no feed itself) that named the feed at `url`


@dataclass(frozen=True)
class MovedFeed:
    """A feed whose server answered with a permanent redirect, for the admins' alert."""

    id: int
    name: str
    url: str  # the new address
    followed: bool  # stored under it now; else its old address stays (config file, taken)


@dataclass(frozen=True)
class PausedFeed:
    """A feed the refresh paused, for the admins' alert."""

    id: int
    name: str
    failures: int
    since: datetime
    reason: str


@dataclass(frozen=True)
class AuditLine:
    when: datetime
    who: str
    action: str
    detail: str


@dataclass(frozen=True)
class Stats:
    """The numbers /stats shows; `subscribers` counts active chats per topic."""

    subscribers: dict[str, int]
    active: int
    unreachable: int
    stopped: int
    stories: int
    merged: int
    sent: int
    failed: int
    cancelled: int
    feeds: int  # enabled: fine, failing or paused
    failing: int  # failing and not paused
    paused: int

    @property
    def inactive(self) -> int:
        return self.unreachable + self.stopped

    @property
    def fine(self) -> int:
        """Enabled feeds neither failing nor paused."""
        return max(0, self.feeds - self.failing - self.paused)


@dataclass(frozen=True)
class DailySeries:
    """Per-day counts over the last days, oldest first (UTC days)."""

    days: tuple[date, ...]
    sent: tuple[int, ...]
    new_chats: tuple[int, ...]


@dataclass(frozen=True)
class StatsReport:
    """Everything /stats shows, read in one transaction."""

    numbers: Stats
    series: DailySeries


@dataclass(frozen=True)
class Progress(Tally):
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    waiting: int = 0


@dataclass(frozen=True)
class TooLong:
    """A /broadcast text over Telegram's message limit."""

    length: int
    limit: int


@dataclass(frozen=True)
class Draft:
    """A stored broadcast draft: nothing is sent before the admin confirms it."""

    id: int
    audience: int
    topic: str | None


TapKind = Literal["queued", "cancelled", "already"]


@dataclass(frozen=True)
class Tap:
    """What a tap on Send or Cancel did; `status` is the broadcast's state when it did nothing."""

    kind: TapKind
    broadcast_id: int
    total: int = 0
    status: str = ""
    confirming: bool = True  # the tap was on Send (else on Cancel)


@dataclass(frozen=True)
class ImportReport:
    """What an OPML import did."""

    added: int = 0
    present: int = 0
    invalid: int = 0
