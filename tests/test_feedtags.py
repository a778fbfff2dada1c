"""An entry's categories are bounded: feedparser's own tag check is quadratic.

Through `parse_feed`, the function the parse workers run. On feedparser's own
method an item of 10,000 categories took 1.4 CPU seconds and 100,000 took
minutes (`bot.ingest.feedtags`); these tests check the bound's effect on what
comes out, which is what fails without it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.ingest import feedtags
from bot.ingest.parser import parse_feed

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
RSS = "application/rss+xml"


def _rss(tags: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<channel><title>Wire</title><link>https://wire.test/</link>"
        f"<item><title>A story</title><link>https://wire.test/1</link>{tags}</item>"
        "</channel></rss>"
    ).encode()


def test_feedparser_collects_tags_through_the_bounded_method() -> None:
    assert feedtags.installed()


def test_an_entry_keeps_its_first_distinct_categories_up_to_the_bound() -> None:
    tags = "".join(f"<category>c{i % 3000}</category>" for i in range(6000))
    feed = parse_feed(_rss(tags), url="https://wire.test/rss", content_type=RSS, now=NOW)
    (entry,) = feed.entries
    assert entry.categories == tuple(f"c{i}" for i in range(feedtags.MAX_TAGS))


def test_repeated_and_mixed_tag_elements_count_once_each() -> None:
    tags = (
        "<category>Politics</category><category>Politics</category>"
        "<dc:subject>Europe</dc:subject>"
        + "".join(f"<dc:subject>s{i}</dc:subject>" for i in range(5000))
    )
    feed = parse_feed(_rss(tags), url="https://wire.test/rss", content_type=RSS, now=NOW)
    (entry,) = feed.entries
    assert entry.categories[:3] == ("Politics", "Europe", "s0")
    assert len(entry.categories) == feedtags.MAX_TAGS  # distinct ones: "Politics" once
    assert entry.categories.count("Politics") == 1 and entry.categories[-1] == "s61"


def test_atom_categories_are_bounded_too() -> None:
    body = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title>'
        '<entry><title>A story</title><id>tag:wire.test,2026:1</id><link href="https://wire.test/1"/>'
        + "".join(f'<category term="t{i}"/>' for i in range(5000))
        + "</entry></feed>"
    ).encode()
    feed = parse_feed(
        body, url="https://wire.test/atom", content_type="application/atom+xml", now=NOW
    )
    (entry,) = feed.entries
    assert len(entry.categories) == feedtags.MAX_TAGS and entry.categories[0] == "t0"
