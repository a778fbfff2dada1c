"""A feed's recurring headline: each day's issue is its own story (`bot.ingest.recurring`).

Through the real ingest path (`IngestProbe`, and `ingest_entries` with a whole feed
in one batch), with both dedup methods: a daily "Morning Briefing" must not join
yesterday's, or a chat that had yesterday's would never get today's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.ingest.dedup import fingerprint
from bot.ingest.parser import ParsedEntry
from bot.ingest.recurring import RECURRING_GAP, Issue, another_issue, guid_reused
from bot.ingest.stories import ingest_entries
from bot.ingest.topics import TopicMatcher
from bot.storage.db import session_scope
from bot.storage.models import Feed
from tests.support.dedupkit import T0, IngestProbe, semantic_or_skip

DAY = timedelta(hours=24)


def issue(title: str, *, link: str | None, hours: float = 0, summary: str = "") -> Issue:
    return Issue(T0 + timedelta(hours=hours), link, title, summary)


def test_a_new_link_a_day_later_under_the_same_headline_is_another_issue() -> None:
    first = issue("Morning Briefing", link="https://a/brief/1", summary="Rates, rain.")
    assert another_issue(issue("Morning  briefing", link="https://a/brief/2", hours=24), first)
    assert another_issue(first, issue("Morning Briefing", link="https://a/brief/2", hours=24))


@pytest.mark.parametrize(
    ("later", "why"),
    [
        (issue("Morning Briefing", link="https://a/brief/2", hours=3), "within the gap"),
        (issue("Morning Briefing", link="https://a/brief/1", hours=24), "the same link"),
        (issue("Morning Briefing", link=None, hours=24), "no link to tell by"),
        (issue("Morning Briefing: rain", link="https://a/brief/2", hours=24), "another title"),
        (
            issue("Morning Briefing", link="https://a/moved/1", hours=24, summary="Rates, rain."),
            "the same article at a new address",
        ),
    ],
)
def test_what_is_not_another_issue(later: Issue, why: str) -> None:
    first = issue("Morning Briefing", link="https://a/brief/1", summary="Rates, rain.")
    assert not another_issue(later, first), why


def test_the_gap_is_half_a_day() -> None:
    first = issue("Live: the war", link="https://a/live/1")
    at_gap = Issue(first.published_at + RECURRING_GAP, "https://a/live/2", "Live: the war", "")
    just_before = replace(at_gap, published_at=at_gap.published_at - timedelta(minutes=1))
    assert another_issue(at_gap, first)
    assert not another_issue(just_before, first)


@pytest.fixture(params=["lexical", "semantic"])
def probe(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IngestProbe]:
    semantic = semantic_or_skip() if request.param == "semantic" else None
    with IngestProbe(tmp_path / "stories.db", semantic=semantic) as p:
        yield p


@pytest.mark.parametrize(
    "headline", ["Morning Briefing", "Today's crossword", "Live updates: Ukraine war"]
)
def test_each_days_issue_is_a_new_story(probe: IngestProbe, headline: str) -> None:
    monday = probe.add(headline, published_at=T0, link="https://a/1", summary="Monday's.")
    tuesday = probe.add(headline, published_at=T0 + DAY, link="https://a/2", summary="Tuesday's.")
    assert tuesday != monday
    # and the next day's is a third, not Monday's or Tuesday's story
    wednesday = probe.add(
        headline, published_at=T0 + 2 * DAY - timedelta(hours=1), link="https://a/3"
    )
    assert wednesday not in (monday, tuesday)


def test_an_update_within_hours_under_a_new_link_is_the_same_story(probe: IngestProbe) -> None:
    title = "Earthquake of magnitude 6.1 strikes central Chile"
    first = probe.add(title, published_at=T0, link="https://a/quake")
    later = T0 + timedelta(hours=3)
    assert probe.add(title, published_at=later, link="https://a/quake-updated") == first


def test_the_same_article_moved_a_day_later_is_the_same_story(probe: IngestProbe) -> None:
    title, summary = "Floods close roads across northern Italy", "Rivers burst their banks."
    first = probe.add(title, published_at=T0, link="https://a/floods", summary=summary)
    moved = probe.add(title, published_at=T0 + DAY, link="https://a/2/floods", summary=summary)
    assert moved == first


def test_another_outlets_entry_joins_as_before(probe: IngestProbe) -> None:
    title = "Floods close roads across northern Italy"
    first = probe.add(title, published_at=T0, feed=0, link="https://a/floods")
    assert probe.add(title, published_at=T0 + DAY, feed=1, link="https://b/floods") == first


def _daily(day: int) -> ParsedEntry:
    return ParsedEntry(
        guid=f"brief-{day}",
        link=f"https://a/brief/{day}",
        title="Morning Briefing",
        summary=f"What happened by day {day}.",
        published_at=T0 + day * DAY,
        categories=(),
        author=None,
    )


def _ingest(engine: Engine, entries: list[ParsedEntry], now: datetime) -> None:
    with session_scope(engine) as session:
        feed = session.exec(select(Feed)).first()
        if feed is None:
            feed = Feed(url="https://a/rss", name="A")
            session.add(feed)
            session.flush()
        ingest_entries(
            session,
            feed=feed,
            entries=entries,
            matcher=TopicMatcher.from_topics([]),
            now=now,
            window=timedelta(hours=48),
        )


def _stories(engine: Engine) -> int:
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT COUNT(DISTINCT story_id) FROM entry")).scalar()
    assert isinstance(found, int)
    return found


def test_issues_in_one_fetch_are_stories_of_their_own(engine: Engine) -> None:
    """A feed's first fetch holds three days of its briefing: one batch, three stories."""
    _ingest(engine, [_daily(2), _daily(1), _daily(0)], T0 + 2 * DAY)  # newest first
    assert _stories(engine) == 3


def test_the_next_issue_does_not_join_the_stored_one(engine: Engine) -> None:
    """Stored, then read back (times as each database returns them) for the next fetch."""
    _ingest(engine, [_daily(0)], T0)
    _ingest(engine, [_daily(1), _daily(0)], T0 + DAY)
    assert _stories(engine) == 2


# A link the feed reuses: every item of an alert feed or a podcast linking to one page.
ALERTS_PAGE = "https://alerts.example.gov/"


def test_alerts_under_one_link_are_stories_of_their_own(probe: IngestProbe) -> None:
    titles = [
        "Flood warning for River Severn",
        "Road closed on A34 after crash",
        "Power cut in Oxford city centre",
    ]
    at = [T0 + timedelta(minutes=20 * i) for i in range(3)]
    stories = [
        probe.add(t, published_at=a, link=ALERTS_PAGE) for t, a in zip(titles, at, strict=True)
    ]
    assert len(set(stories)) == 3
    # The same alert again under the page's link, reworded: the first one's story.
    again = probe.add(
        "Flood warning issued for River Severn",
        published_at=T0 + timedelta(hours=1),
        link=ALERTS_PAGE,
    )
    assert again == stories[0]


def test_weekly_episodes_linking_to_the_show_page_are_stories_of_their_own(
    probe: IngestProbe,
) -> None:
    show = "https://podcast.example/show"
    first = probe.add("Episode 12: Why the tram costs twice", published_at=T0, link=show)
    week = T0 + timedelta(days=7)
    second = probe.add("Episode 13: Why the tram costs twice", published_at=week, link=show)
    # One link, two episodes a week apart (titles alike but for the number).
    assert second != first
    rerun = probe.add("Season finale: the whole story", published_at=week, link=show)
    assert rerun not in (first, second)


def test_a_live_articles_rewritten_headline_joins_by_its_link(probe: IngestProbe) -> None:
    url = "https://a/live/quake"
    first = probe.add(
        "Earthquake of magnitude 6.1 strikes central Chile", published_at=T0, link=url
    )
    later = T0 + timedelta(hours=2)
    assert probe.add("Chile quake: officials count damage", published_at=later, link=url) == first


def test_another_outlet_under_the_link_joins_by_it(probe: IngestProbe) -> None:
    first = probe.add("Flood warning for River Severn", published_at=T0, link=ALERTS_PAGE)
    later = T0 + timedelta(hours=2)
    other = probe.add("Severn flooding: what we know", published_at=later, feed=1, link=ALERTS_PAGE)
    assert other == first


def test_an_item_under_a_stored_guid_with_another_link_and_story_is_another_item() -> None:
    bridge = fingerprint("Bridge inspection finds cracks in pillars")
    market = fingerprint("Mayor opens winter market in old square")
    reworded = fingerprint("Mayor opens the winter market in the old square")
    assert guid_reused(("https://o/market", market), ("https://o/bridge", bridge))
    assert not guid_reused(("https://o/m2", reworded), ("https://o/market", market))  # an edit
    assert not guid_reused(("https://o/bridge", market), ("https://o/bridge", bridge))  # one link
    assert not guid_reused((None, market), ("https://o/bridge", bridge))  # nothing to tell by
