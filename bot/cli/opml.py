"""The `import-opml` and `export-opml` commands: the feed list in and out as OPML."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Engine

from bot.admin import audit, opml
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.models import utcnow


def run_import(settings: Settings, engine: Engine, path: Path, *, out: TextIO) -> None:
    """Import the feeds listed in an OPML file; raise OpmlError or OSError when unusable."""
    data = path.read_bytes()
    feeds = opml.parse_opml(data, settings.topics)
    report = opml.import_feeds_into(
        engine,
        feeds,
        actor=audit.CLI,
        now=utcnow(),
        allow_private=settings.fetch.allow_private_networks,
    )
    print(
        f"{report.added} {'feed' if report.added == 1 else 'feeds'} added,"
        f" {report.present} already there,"
        f" {report.invalid} skipped as invalid",
        file=out,
    )


def run_export(engine: Engine, path: Path | None, *, out: TextIO) -> int:
    """Write every enabled feed as OPML to `path`, or to `out`; return the feed count."""
    with session_scope(engine) as session:
        feeds = opml.export_feeds(session)
    data = opml.build_opml(feeds, title="newsbrief feeds", now=utcnow())
    if path is None:
        out.write(data.decode("utf-8"))
    else:
        path.write_bytes(data)
    return len(feeds)
