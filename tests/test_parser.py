"""Tests for feed parsing and normalisation (bot.ingest.parser) and bot.render.plain helpers.

Real-world quirks live as files in tests/testdata/feeds/, one named case each.
"""

from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.ingest.parse_workers import parse_feed_async
from bot.ingest.parser import (
    MAX_SUMMARY,
    MAX_TITLE,
    ParsedEntry,
    ParsedFeed,
    entry_identities,
    parse_feed,
)
from bot.render.plain import collapse_ws, html_to_text, truncate

FEEDS = Path(__file__).parent / "testdata" / "feeds"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RSS = "application/rss+xml"


def parse_file(name: str, content_type: str | None = RSS, url: str | None = None) -> ParsedFeed:
    body = (FEEDS / name).read_bytes()
    return parse_feed(
        body, url=url or f"https://feeds.example.com/{name}", content_type=content_type, now=NOW
    )


def parse_text(xml: str, content_type: str | None = RSS) -> ParsedFeed:
    return parse_feed(
        xml.encode(), url="https://feeds.example.com/f", content_type=content_type, now=NOW
    )


def rss(*items: str, channel: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://site.example/</link>{channel}{''.join(items)}</channel></rss>"
    )


# --- quirk files --------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    file: str
    content_type: str | None
    feed_title: str | None
    entries: list[tuple[str, str | None]]  # (title, link)


QUIRKS = [
    Case(
        "rss20_markup_tracking.xml",
        RSS,
        "Example Daily & Co",
        [
            ("Markets rally as rates fall", "https://www.example.com/markets/rally?id=7"),
            ("Council approves new budget", "https://www.example.com/local/budget?page=2"),
            ("A storm is coming.", "https://www.example.com/weather/storm"),
        ],
    ),
    Case(
        "atom10_xml_base.xml",
        "application/atom+xml",
        "Engineering Notes",
        [
            ("Why we moved to <canvas>", "https://blog.example.org/2024/04/canvas.html"),
            ("Release 2.0", "https://blog.example.org/releases/2.0"),
        ],
    ),
    Case(
        "rss10_rdf.xml",
        "application/rdf+xml",
        "Science Wire",
        [
            ("Comet visible tonight", "http://science.example.net/a/1"),
            ("New species of frog found", "http://science.example.net/a/2"),
        ],
    ),
    Case(
        "rss091_netscape.xml",
        "text/xml",
        "Old School News",
        [("Y2K survived", "http://oldschool.example.com/y2k.html")],
    ),
    Case(
        "jsonfeed11.json",
        "application/feed+json",
        "Podcast <Weekly>",
        [
            ("Episode 42: <script> & you", "https://pod.example.com/ep/42"),
            ("Plain text only.", "https://pod.example.com/ep/41"),
        ],
    ),
    Case(
        "jsonfeed11.json",  # JSON sniffed from the bytes when the server says text/plain
        "text/plain",
        "Podcast <Weekly>",
        [
            ("Episode 42: <script> & you", "https://pod.example.com/ep/42"),
            ("Plain text only.", "https://pod.example.com/ep/41"),
        ],
    ),
    Case(
        "cp1251_declared_utf8.xml",
        "application/rss+xml; charset=utf-8",
        "Новости Сибири",
        [
            ("Мэрия объявила о ремонте моста через реку", "https://sib.example.ru/most"),
            ("В городе открылась новая библиотека", "https://sib.example.ru/biblioteka"),
        ],
    ),
    Case(
        "utf8_declared_latin1.xml",
        "application/rss+xml; charset=iso-8859-1",
        "Café Łódź",
        [("Crème brûlée — naïve 😀 Ünïcödé", "https://cafe.example.fr/creme")],
    ),
    Case(
        "utf8_declared_latin1.xml",  # declared only in the XML prolog
        "text/xml; charset=windows-1252",
        "Café Łódź",
        [("Crème brûlée — naïve 😀 Ünïcödé", "https://cafe.example.fr/creme")],
    ),
    Case(
        "duplicate_guids.xml",
        RSS,
        "Same GUID Everywhere",
        [
            ("First story", "https://dup.example.com/1"),
            ("Second story", "https://dup.example.com/2"),
            ("Third story", "https://dup.example.com/2"),
            ("Unique story", "https://dup.example.com/4"),
        ],
    ),
    Case(
        "missing_guids.xml",
        RSS,
        "No GUIDs",
        [
            ("Linked story", "https://noguid.example.com/a"),
            ("Orphan story", None),
            ("Blank guid", "https://noguid.example.com/c"),
        ],
    ),
    Case(
        "future_dates.xml",
        RSS,
        "Time Travellers",
        [
            ("From 2099", "https://future.example.com/2099"),
            ("A few hours ahead", "https://future.example.com/soon"),
            ("Undated", "https://future.example.com/undated"),
            ("Updated only", "https://future.example.com/upd"),
        ],
    ),
    Case(
        "truncated.xml",
        RSS,
        "Cut Short",
        [
            ("Complete one", "https://cut.example.com/1"),
            ("Complete two", "https://cut.example.com/2"),
        ],
    ),
    Case(
        "rss20_markup_tracking.xml",  # servers often label feeds text/html
        "text/html; charset=utf-8",
        "Example Daily & Co",
        [
            ("Markets rally as rates fall", "https://www.example.com/markets/rally?id=7"),
            ("Council approves new budget", "https://www.example.com/local/budget?page=2"),
            ("A storm is coming.", "https://www.example.com/weather/storm"),
        ],
    ),
]


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=f"{c.file}[{c.content_type}]") for c in QUIRKS]
)
def test_quirk_file(case: Case) -> None:
    feed = parse_file(case.file, case.content_type)
    assert feed.error is None
    assert feed.is_feed
    assert feed.title == case.feed_title
    assert [(e.title, e.link) for e in feed.entries] == case.entries
    for entry in feed.entries:
        assert entry.published_at.tzinfo is UTC
        assert len(entry.title) <= MAX_TITLE
        assert len(entry.summary) <= MAX_SUMMARY


def test_rss20_details() -> None:
    feed = parse_file("rss20_markup_tracking.xml")
    assert feed.link == "https://www.example.com/news/"
    assert feed.ttl_seconds == 720 * 60
    first, second, third = feed.entries
    assert first.guid == "markets-rally-7"
    assert first.summary == "Stocks rose on Tuesday. Second paragraph."  # no script, no nbsp
    assert first.categories == ("Markets", "Economy")
    assert first.author == "Jane Roe"
    assert first.published_at == datetime(2024, 4, 30, 7, 15, tzinfo=UTC)
    assert second.summary == "The council voted 7–2."
    # An empty title falls back to the summary's first sentence.
    assert third.title == "A storm is coming."


def test_atom_details() -> None:
    feed = parse_file("atom10_xml_base.xml", "application/atom+xml")
    assert feed.link == "https://blog.example.org/"
    entry = feed.entries[0]
    assert entry.guid == "tag:blog.example.org,2024:canvas"
    assert entry.author == "Ana Lima"
    assert entry.categories == ("frontend",)
    assert entry.summary == "A short story."
    assert entry.published_at == datetime(2024, 4, 30, 6, 0, tzinfo=UTC)
    assert feed.entries[1].published_at == datetime(2024, 4, 29, 12, 0, tzinfo=UTC)


def test_json_feed_details() -> None:
    feed = parse_file("jsonfeed11.json", "application/feed+json")
    assert feed.link == "https://pod.example.com/"
    first, second = feed.entries
    assert first.guid == "42"
    assert first.summary == "We talk about tags."
    assert first.categories == ("tech", "web")
    assert first.author == "Kim"
    assert first.published_at == datetime(2024, 4, 30, 15, 0, tzinfo=UTC)
    assert second.summary == "Plain text only. No title here."
    assert second.published_at == datetime(2024, 4, 20, 10, 0, tzinfo=UTC)


def test_dates_are_clamped_and_defaulted() -> None:
    entries = parse_file("future_dates.xml").entries
    far, soon, undated, updated = (e.published_at for e in entries)
    assert far == NOW  # ahead of the fetch: when it was seen
    assert soon == NOW  # a few hours ahead too (it would sort above newer stories)
    assert undated == NOW - timedelta(seconds=2)  # the third item: feed order kept
    assert updated == datetime(2024, 4, 28, 5, 0, tzinfo=UTC)


def test_now_in_other_timezone_still_gives_utc() -> None:
    plus3 = timezone(timedelta(hours=3))
    feed = parse_feed(
        rss("<item><title>x</title></item>").encode(),
        url="https://f.example/",
        content_type=RSS,
        now=NOW.astimezone(plus3),
    )
    assert feed.entries[0].published_at == NOW
    assert feed.entries[0].published_at.tzinfo is UTC


def test_missing_and_blank_guids_are_none() -> None:
    assert [e.guid for e in parse_file("missing_guids.xml").entries] == [None, None, None]


def test_permalink_guid_used_as_link() -> None:
    feed = parse_text(
        rss("<item><title>x</title><guid>https://site.example/p/1?utm_x=1</guid></item>")
    )
    assert feed.entries[0].link == "https://site.example/p/1"


def test_relative_link_resolved_against_channel_link() -> None:
    feed = parse_text(rss("<item><title>x</title><link>/p/2</link></item>"))
    assert feed.entries[0].link == "https://site.example/p/2"


def test_relative_link_without_channel_link_uses_feed_url() -> None:
    body = (
        '<rss version="2.0"><channel><item><title>x</title><link>p/3</link></item></channel></rss>'
    )
    assert parse_text(body).entries[0].link == "https://feeds.example.com/p/3"


def test_non_http_links_are_dropped() -> None:
    feed = parse_text(rss("<item><title>x</title><link>javascript:alert(1)</link></item>"))
    assert feed.entries[0].link is None


def test_html_page_is_not_a_feed() -> None:
    feed = parse_file("html_page.html", "text/html; charset=utf-8")
    assert not feed.is_feed
    assert feed.entries == ()
    assert feed.error == "not a feed (got text/html)"


def test_html_page_without_content_type_is_not_a_feed() -> None:
    feed = parse_file("html_page.html", None)
    assert not feed.is_feed
    assert feed.error is not None and feed.error.startswith("not a feed")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"", RSS, id="empty"),
        pytest.param(b"\x00\x01\x02garbage{{", "application/xml", id="binary"),
        pytest.param(b"just some words", None, id="plain-text"),
        pytest.param(b"<<<<>>>>", RSS, id="brackets"),
        pytest.param(b"\xff\xfe\x00", None, id="broken-bom"),
    ],
)
def test_garbage_is_a_parse_error(body: bytes, content_type: str | None) -> None:
    feed = parse_feed(body, url="https://f.example/", content_type=content_type, now=NOW)
    assert not feed.is_feed
    assert feed.error is not None and feed.error.startswith("parse error: ")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "parse error:"),
        pytest.param(b'{"hello": "world"}', "not a feed"),
        pytest.param(b"[1, 2, 3]", "not a feed"),
        pytest.param(b"[" * 100_000, "parse error:", id="deep-nesting"),
    ],
)
def test_bad_json(body: bytes, error: str) -> None:
    feed = parse_feed(body, url="https://f.example/", content_type="application/json", now=NOW)
    assert not feed.is_feed
    assert feed.error is not None and feed.error.startswith(error)


def test_json_feed_tolerates_wrong_types() -> None:
    body = b"""{"version": "https://jsonfeed.org/version/1", "title": 5,
      "items": [{"id": null, "title": ["x"], "url": 7, "tags": "a", "date_published": "yesterday",
                 "content_text": "Body text."}, "not an item", {"id": true, "title": "Ok"}]}"""
    feed = parse_feed(body, url="https://f.example/", content_type=None, now=NOW)
    assert feed.error is None
    assert [(e.guid, e.title, e.link, e.published_at) for e in feed.entries] == [
        (None, "Body text.", None, NOW),
        (None, "Ok", None, NOW - timedelta(seconds=1)),  # undated: a second per place
    ]


def test_empty_feed_is_a_feed() -> None:
    feed = parse_text(rss())
    assert feed.is_feed and feed.error is None and feed.entries == ()


@pytest.mark.parametrize("ttl", ["", "abc", "-5", "0", "99999999"])
def test_nonsense_ttl_is_none(ttl: str) -> None:
    assert parse_text(rss(channel=f"<ttl>{ttl}</ttl>")).ttl_seconds is None


def test_long_title_and_summary_are_capped() -> None:
    title = "word " * 1000  # 5,000 characters
    summary = "<p>" + "sentence here. " * 500 + "</p>"
    feed = parse_text(rss(f"<item><title>{title}</title><description><![CDATA[{summary}]]>"
                          "</description></item>"))  # fmt: skip
    entry = feed.entries[0]
    assert len(entry.title) <= MAX_TITLE and entry.title.endswith("…")
    assert len(entry.summary) <= MAX_SUMMARY and entry.summary.endswith("…")


def test_title_falls_back_to_link() -> None:
    feed = parse_text(rss("<item><link>https://site.example/only-link</link></item>"))
    assert feed.entries[0].title == "https://site.example/only-link"


def test_rtl_and_emoji_titles_survive() -> None:
    feed = parse_text(rss("<item><title>عاجل: الأسواق ترتفع 📈 &amp; تتعافى</title></item>"))
    assert feed.entries[0].title == "عاجل: الأسواق ترتفع 📈 & تتعافى"


def test_stray_less_than_in_title() -> None:
    feed = parse_text(rss("<item><title>Rates &lt; 5% &amp;&amp; inflation &lt;3</title></item>"))
    assert feed.entries[0].title == "Rates < 5% && inflation <3"


def test_utf16_feed() -> None:
    body = rss("<item><title>Ünïcode ✓</title></item>").replace("utf-8", "utf-16").encode("utf-16")
    feed = parse_feed(body, url="https://f.example/", content_type="application/xml", now=NOW)
    assert [e.title for e in feed.entries] == ["Ünïcode ✓"]


def test_parsed_types_are_frozen() -> None:
    entry = parse_file("rss091_netscape.xml").entries[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.title = "changed"  # type: ignore[misc]


async def test_parse_feed_async_matches_sync() -> None:
    body = (FEEDS / "rss10_rdf.xml").read_bytes()
    url = "https://f.example/rdf"
    expected = parse_feed(body, url=url, content_type=None, now=NOW)
    assert await parse_feed_async(body, url=url, content_type=None, now=NOW) == expected


def test_random_bytes_never_raise() -> None:
    rng = random.Random(20240501)
    seed = (FEEDS / "rss20_markup_tracking.xml").read_bytes()
    for _ in range(200):
        mutated = bytearray(seed)
        for _ in range(rng.randint(1, 40)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        cut = rng.randrange(len(mutated) + 1)
        feed = parse_feed(
            bytes(mutated[:cut]), url="https://f.example/", content_type=None, now=NOW
        )
        assert isinstance(feed, ParsedFeed)


# --- XML entity bombs -----------------------------------------------------------


def billion_laughs(levels: int = 10, fan_out: int = 10) -> bytes:
    """Build the classic nested-entity bomb: fan_out ** levels expansions."""
    decls = ['<!ENTITY lol0 "lol">']
    decls += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * fan_out}">' for i in range(1, levels)]
    subset = "\n".join(decls)
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{subset}\n]>\n<rss version="2.0"><channel>'
        f"<title>Bomb</title><item><title>&lol{levels - 1};</title>"
        "<link>https://bomb.example/1</link></item></channel></rss>"
    ).encode()


def quadratic_blowup(value_size: int = 100_000, references: int = 2_000) -> bytes:
    """Build a single big literal entity referenced many times (200 MB if expanded)."""
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "{"A" * value_size}">\n]>\n'
        '<rss version="2.0"><channel><title>Bomb</title><item><title>Boom</title>'
        f"<description>{'&big;' * references}</description>"
        "<link>https://bomb.example/2</link></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(billion_laughs(), id="billion-laughs"),
        pytest.param(billion_laughs().replace(b"\n", b" "), id="billion-laughs-one-line"),
        pytest.param(quadratic_blowup(), id="quadratic-blowup"),
        pytest.param(quadratic_blowup().replace(b"\n", b""), id="quadratic-one-line"),
        pytest.param(
            quadratic_blowup()
            .decode()
            .replace('version="1.0"', 'version="1.0" encoding="utf-16"')
            .encode("utf-16"),
            id="quadratic-utf16",
        ),
        pytest.param(quadratic_blowup()[:100_200], id="unterminated-subset"),
    ],
)
def test_entity_bombs_are_defused(body: bytes) -> None:
    started = time.perf_counter()
    feed = parse_feed(
        body, url="https://bomb.example/feed", content_type="application/xml", now=NOW
    )
    assert time.perf_counter() - started < 5
    for entry in feed.entries:
        assert "lollollol" not in entry.title
        assert "A" * 500 not in entry.summary


def test_harmless_doctype_is_kept() -> None:
    feed = parse_file("rss091_netscape.xml", "text/xml")
    assert feed.error is None and len(feed.entries) == 1


# --- identities -----------------------------------------------------------------


def entry(title: str, *, guid: str | None = None, link: str | None = None) -> ParsedEntry:
    return ParsedEntry(guid, link, title, f"summary of {title}", NOW, (), None)


def test_identity_forms() -> None:
    keys = entry_identities(
        [entry("a", guid="id-1", link="https://x/1"), entry("b", link="https://x/2"), entry("c")]
    )
    assert keys[0] == "g:id-1"
    assert keys[1] == "l:https://x/2"
    assert keys[2].startswith("h:") and len(keys[2]) == 2 + 40


def test_identities_unique_for_duplicate_guids() -> None:
    entries = parse_file("duplicate_guids.xml").entries
    keys = entry_identities(entries)
    assert len(set(keys)) == len(entries)
    assert keys[0] == "g:https://dup.example.com/|l:https://dup.example.com/1"
    assert keys[3] == "g:unique-4"


def test_identities_unique_for_repeated_links_without_guid() -> None:
    entries = [entry("one", link="https://x/home"), entry("two", link="https://x/home")]
    assert len(set(entry_identities(entries))) == 2


def test_identities_stable_across_fetches() -> None:
    first = list(parse_file("duplicate_guids.xml").entries)
    second = list(parse_file("duplicate_guids.xml").entries)
    assert entry_identities(first) == entry_identities(second)
    # Order changes and new arrivals must not re-key the items already seen.
    shuffled = [*reversed(second), entry("Fresh", guid="fresh-1", link="https://dup.example.com/5")]
    before = dict(zip(first, entry_identities(first), strict=True))
    after = dict(zip(shuffled, entry_identities(shuffled), strict=True))
    assert all(after[item] == key for item, key in before.items())


def test_identity_of_missing_guid_items_is_stable() -> None:
    keys = [entry_identities(parse_file("missing_guids.xml").entries) for _ in range(2)]
    assert keys[0] == keys[1]
    assert len(set(keys[0])) == 3


# --- bot.render.plain -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("<p>Hello&nbsp;<b>world</b></p>", "Hello world"),
        ("a<script>alert('x')</script>b<style>p{}</style>c", "abc"),
        ("<p>unclosed <i>tags <b>here", "unclosed tags here"),
        ("5 < 6 and 7 > 3", "5 < 6 and 7 > 3"),
        ("AT&amp;T &eacute; &#8212; &#x1F600;", "AT&T é — 😀"),
        ("line<br>break<br/>again", "line break again"),
        ("  lots \n\t of   space  ", "lots of space"),
        ("zero\u200bwidth", "zerowidth"),
        ("<!-- comment -->text", "text"),
        ("", ""),
    ],
)
def test_html_to_text(fragment: str, expected: str) -> None:
    assert html_to_text(fragment) == expected


def test_html_to_text_keeps_paragraphs_when_asked() -> None:
    html = "<p>First  para.</p>\n\n<p>Second<br>line.</p><div>Third</div>"
    assert html_to_text(html, paragraphs=True) == "First para.\n\nSecond\nline.\n\nThird"


def test_collapse_ws() -> None:
    assert collapse_ws("\u00a0 a \u2003 b\n") == "a b"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly ten", 11, "exactly ten"),
        ("the quick brown fox jumps", 18, "the quick brown…"),
        ("supercalifragilistic", 10, "supercali…"),
        ("", 5, ""),
        ("abc", 0, ""),
        ("e\u0301e\u0301e\u0301e\u0301", 4, "e\u0301…"),  # never strip a combining accent
        ("ab👍🏽cd", 4, "ab…"),  # keep the skin-tone modifier with its emoji
        ("ab🇩🇪🇫🇷", 4, "ab…"),  # never half a flag
        ("x👨\u200d👩\u200d👧yz", 5, "x…"),  # never break a ZWJ family
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    result = truncate(text, limit)
    assert result == expected
    assert len(result) <= max(limit, 0)


async def test_parse_timeout_counts_the_parse_not_the_wait_for_a_worker() -> None:
    """A big round queues parses: time spent waiting for a pool thread is no parse error."""
    import asyncio
    import threading

    from bot.ingest import parse_workers

    body = (FEEDS / "rss10_rdf.xml").read_bytes()
    url = "https://f.example/rdf"
    # parsed once first: the comparison, and feedparser's first-use imports leave the timing
    expected = parse_feed(body, url=url, content_type=None, now=NOW)
    release = threading.Event()
    pool = parse_workers.parse_pool().threads
    busy = [pool.submit(release.wait, 30) for _ in range(pool._max_workers)]
    loop = asyncio.get_running_loop()
    timeout = 1.0
    loop.call_later(3 * timeout, release.set)  # every worker busy well past the timeout
    try:
        parsed = await parse_feed_async(body, url=url, content_type=None, now=NOW, timeout=timeout)
    finally:
        release.set()
    assert all(job.result() for job in busy)
    assert parsed == expected
