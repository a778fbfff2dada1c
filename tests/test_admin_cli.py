"""`python -m bot import-opml` and `export-opml` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from bot.admin import opml
from bot.settings import Topic
from bot.storage.db import open_database
from bot.storage.models import AuditEntry, Feed
from tests.support.process import TOPICS_TOML, run, write_config

TOPICS = (Topic("world", "World"), Topic("tech", "Technology"))
OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
  <outline text="World" title="World">
    <outline type="rss" text="Outlet A" xmlUrl="https://a.example/feed.xml"/>
    <outline type="rss" text="Outlet B" xmlUrl="https://b.example/rss"/>
  </outline>
  <outline type="rss" text="Chips" xmlUrl="https://c.example/atom" category="/tech"/>
  <outline type="rss" text="Not a URL" xmlUrl="javascript:alert(1)"/>
</body></opml>
"""


def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, TOPICS_TOML)


def test_import_then_export_round_trips(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    source = tmp_path / "reader.opml"
    source.write_bytes(OPML)
    imported = run(["--config", str(cfg), "import-opml", str(source)], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "3 feeds added, 0 already there, 1 skipped as invalid"
    printed = run(["--config", str(cfg), "export-opml"], tmp_path)
    assert printed.returncode == 0, printed.stderr
    written = tmp_path / "out.opml"
    to_file = run(["--config", str(cfg), "export-opml", str(written)], tmp_path)
    assert to_file.returncode == 0 and "3 feeds written" in to_file.stderr
    for data in (printed.stdout.encode(), written.read_bytes()):
        assert opml.parse_opml(data, TOPICS) == [
            opml.OpmlFeed("https://a.example/feed.xml", "Outlet A", ("world",)),
            opml.OpmlFeed("https://b.example/rss", "Outlet B", ("world",)),
            opml.OpmlFeed("https://c.example/atom", "Chips", ("tech",)),
        ]
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with Session(engine) as session:
        assert {f.origin for f in session.exec(select(Feed)).all()} == {"opml"}
        actors = session.exec(select(AuditEntry.actor)).all()
    assert actors == ["command line"]
    engine.dispose()


def test_malicious_or_missing_files_are_refused_with_one_line(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    evil = tmp_path / "evil.opml"
    evil.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<opml version="2.0"><body><outline text="&x;" xmlUrl="https://x.example/"/>'
        b"</body></opml>"
    )
    refused = run(["--config", str(cfg), "import-opml", str(evil)], tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith(
        "evil.opml was refused: it declares a DTD or entities, which are not allowed"
    )
    assert "Traceback" not in refused.stderr
    missing = run(["--config", str(cfg), "import-opml", str(tmp_path / "nope.opml")], tmp_path)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
