"""The `fetch` and `preview` commands: one refresh with a report, and a text preview."""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Sequence
from typing import TextIO

from sqlalchemy.engine import Engine

from bot.cli.terminal import printable
from bot.ingest.fetcher import Fetcher
from bot.ingest.refresh import FeedReport, Refresher
from bot.render import stories as briefing
from bot.services.context import fetch_policy, sync_feeds
from bot.services.story_views import story_views
from bot.settings import Settings
from bot.storage import feeds as feed_store
from bot.storage import stories as story_store
from bot.storage.db import session_scope
from bot.storage.models import utcnow


class ProgressBar:
    """A one-line progress bar on stderr (only drawn on a terminal)."""

    def __init__(self, total: int, *, enabled: bool, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.enabled, self.stream = total, 0, enabled, stream

    def advance(self, report: FeedReport) -> None:
        self.done += 1
        if not self.enabled or not self.total:
            return
        width = 30
        filled = width * self.done // self.total
        name = printable(report.name[:40])
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {name:<40}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def format_report(reports: Sequence[FeedReport]) -> str:
    """A per-feed table: new entries, new stories, merged, not modified, error."""
    head = ("feed", "new", "stories", "merged", "304", "error")
    rows = [
        (
            r.name[:50],
            str(r.new_entries),
            str(r.new_stories),
            str(r.merged),
            "yes" if r.not_modified else "",
            r.error or "",
        )
        for r in sorted(reports, key=lambda r: r.name.lower())
    ]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [head, *rows]
    ]
    failed = sum(1 for r in reports if r.error)
    totals = ", ".join(
        (
            _count(len(reports), "feed"),
            _count(sum(r.new_entries for r in reports), "new entry", "new entries"),
            _count(sum(r.new_stories for r in reports), "new story", "new stories"),
            _count(sum(r.merged for r in reports), "merged duplicate"),
            f"{failed} failed",
        )
    )
    return "\n".join([*lines, "", totals])


def _count(n: int, one: str, many: str = "") -> str:
    """ "1 feed", "2 feeds": the command line speaks English only."""
    return f"{n} {one if n == 1 else many or one + 's'}"


async def run_fetch(settings: Settings, engine: Engine, *, out: TextIO, progress: bool) -> int:
    sync_feeds(settings, engine)
    async with Fetcher(fetch_policy(settings.fetch)) as fetcher:
        refresher = Refresher(engine=engine, fetcher=fetcher, settings=settings)
        with session_scope(engine) as session:
            total = len(feed_store.enabled_feeds(session))
        bar = ProgressBar(total, enabled=progress)
        reports = await refresher.refresh_all(progress=bar.advance)
    if not reports:
        print("no feeds configured: add [[feeds]] to the config file", file=out)
        return 0
    print(format_report(reports), file=out)
    return 0


def html_to_terminal(text: str) -> str:
    """Render our Telegram HTML for a terminal: links as `title <url>`, tags dropped."""
    text = re.sub(r'<a href="([^"]*)">(.*?)</a>', r"\2 <\1>", text, flags=re.S)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


def run_preview(
    settings: Settings, engine: Engine, *, topic: str | None, limit: int, out: TextIO
) -> int:
    now = utcnow()
    with session_scope(engine) as session:
        rows = story_store.latest_stories(session, topics=[topic] if topic else None, limit=limit)
        views = story_views(session, rows)
    if not views:
        print("no stories yet: run `python -m bot fetch` first", file=out)
        return 0
    chosen = settings.topic(topic) if topic else None
    name = chosen.name if chosen else "all topics"
    header = briefing.latest_header(name, len(views))
    for message in briefing.compose_story_list(views, header_html=header, now=now):
        print(html_to_terminal(message.html), file=out)
        print(file=out)
    return 0
