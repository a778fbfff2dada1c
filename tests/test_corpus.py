"""Robustness: every feedparser test-suite feed goes through parse → dedup → compose cleanly.

The corpus lives outside the repository (``../shared/data/feedparser-corpus``);
without it these tests skip, unless ``REQUIRE_CORPUS=1`` makes absence a failure.
"""

from __future__ import annotations

import logging
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.ingest.parser import MAX_SUMMARY, MAX_TITLE, ParsedFeed, entry_identities, parse_feed
from bot.render.stories import StoryView, compose_story_list
from tests.support.dedupkit import IngestProbe
from tests.support.tghtml_check import check_message

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "feedparser-corpus"
SUBDIRS = ("wellformed", "illformed", "encoding", "entities", "json")
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# A hang guard, not a performance claim: a billion-laughs file without the
# DOCTYPE defence takes ~10 s and 600 MB; a normal file takes milliseconds.
PER_FILE_SECONDS = 15.0

# A header comment line such as "Header: Content-type: text/xml; charset=utf-8".
_HEADER_LINE = re.compile(rb"^\s*Header:\s*([\w-]+)\s*:\s*(.*?)\s*(?:-->)?\s*$", re.M | re.I)
# Markup from real HTML elements; a title must never carry one.
_HTML_TAG = re.compile(
    r"</?(?:p|br|div|span|a|b|i|u|em|strong|img|script|style|iframe|font|ul|ol|li|h[1-6]"
    r"|table|tr|td|code|pre|blockquote|hr|sup|sub|small)\b[^<>]*>",
    re.I,
)
# Files whose titles legitimately contain tag-like *text* (escaped in the source).
LITERAL_BRACKET_TITLES = {
    # description is <code>&lt;br /></code>: the title falls back to the text "<br />".
    "wellformed/rss/item_description_code_br.xml",
}

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.is_dir():
        reason = f"../shared/data/feedparser-corpus not found (looked in {CORPUS})"
        if os.environ.get("REQUIRE_CORPUS") == "1":
            pytest.fail(f"{reason}; REQUIRE_CORPUS=1 makes this a failure")
        pytest.skip(f"{reason}; set REQUIRE_CORPUS=1 to make absence fail")
    return CORPUS


def simulated_content_type(body: bytes) -> str | None:
    """Return the Content-Type a corpus file asks to simulate in its header comment."""
    for name, value in _HEADER_LINE.findall(body[:4096]):
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return None


def problems_with(feed: ParsedFeed, relative: str) -> list[str]:
    """Return the contract violations in one parsed corpus feed."""
    problems = []
    if feed.title is not None and (len(feed.title) > MAX_TITLE or _HTML_TAG.search(feed.title)):
        problems.append(f"feed title {feed.title[:80]!r}")
    for entry in feed.entries:
        title = entry.title
        if len(title) > MAX_TITLE or title != title.strip() or "\n" in title:
            problems.append(f"title not capped/collapsed {title[:80]!r}")
        if _HTML_TAG.search(title) and relative not in LITERAL_BRACKET_TITLES:
            problems.append(f"HTML in title {title[:80]!r}")
        if len(entry.summary) > MAX_SUMMARY:
            problems.append(f"summary of {len(entry.summary)} chars")
        if entry.published_at.tzinfo is not UTC:
            problems.append(f"published_at not UTC: {entry.published_at!r}")
    if len(entry_identities(feed.entries)) != len(feed.entries):
        problems.append("identity count mismatch")
    return problems


def downstream_problems(feed: ParsedFeed, probe: IngestProbe) -> list[str]:
    """Dedup (through ingest) and compose what was parsed; messages must be valid HTML."""
    views = []
    for i, entry in enumerate(feed.entries):
        probe.add(
            entry.title, summary=entry.summary, published_at=entry.published_at, link=entry.link
        )
        views.append(
            StoryView(i, entry.title, entry.link, feed.title or "Feed", entry.published_at)
        )
    problems = []
    for message in compose_story_list(views, header_html="<b>Corpus</b>", now=NOW):
        try:
            check_message(message.html)
        except AssertionError as exc:
            problems.append(str(exc)[:300])
    return problems


@pytest.mark.parametrize("subdir", SUBDIRS)
def test_corpus_directory_parses_cleanly(
    corpus: Path, subdir: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    probe = IngestProbe(tmp_path / "stories.db")
    files = sorted(p for p in (corpus / subdir).rglob("*") if p.is_file())
    assert files, f"no files under {corpus / subdir}"
    failures: list[str] = []
    started = time.perf_counter()
    for path in files:
        relative = path.relative_to(corpus).as_posix()
        body = path.read_bytes()
        caplog.clear()
        began = time.perf_counter()
        feed = parse_feed(
            body, url="http://example.com/feed", content_type=simulated_content_type(body), now=NOW
        )
        elapsed = time.perf_counter() - began
        # parse_feed never raises: an internal exception shows up as this warning.
        crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        failures += [f"{relative}: {msg}" for msg in crashes]
        failures += [f"{relative}: {p}" for p in problems_with(feed, relative)]
        if elapsed > PER_FILE_SECONDS:
            failures.append(f"{relative}: took {elapsed:.2f}s")
        failures += [f"{relative}: {p}" for p in downstream_problems(feed, probe)]
    probe.close()
    total = time.perf_counter() - started
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:50])
    print(f"{subdir}: {len(files)} files in {total:.1f}s")


def test_corpus_layout_is_covered(corpus: Path) -> None:
    """Every corpus feed sits in a directory the test above walks."""
    stray = [
        p.relative_to(corpus).as_posix()
        for p in corpus.rglob("*")
        if p.is_file()
        and p.suffix in {".xml", ".json"}
        and p.relative_to(corpus).parts[0] not in SUBDIRS
    ]
    assert not stray


def test_simulated_content_type_reads_header_comment() -> None:
    body = b'<?xml version="1.0"?>\n<!--\nHeader:       Content-type: text/xml; charset=utf-8\n-->'
    assert simulated_content_type(body) == "text/xml; charset=utf-8"
    assert simulated_content_type(b"<rss/>") is None
