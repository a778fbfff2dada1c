"""Admin use cases return plain data; the renderers alone make Telegram HTML of it."""

from __future__ import annotations

import ast
import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import get_args

import pytest
from sqlalchemy.engine import Engine

from bot.admin import audit, stats
from bot.admin import broadcast as bc
from bot.admin import feeds as admin_feeds
from bot.admin.access import is_admin, parse_id
from bot.admin.results import (
    AuditLine,
    FeedChange,
    FeedChangeKind,
    FeedLine,
    PausedFeed,
    StatsReport,
    Tap,
)
from bot.render import admin as render
from bot.storage.db import session_scope
from bot.storage.models import Feed, utcnow
from tests.support.fake_telegram.tdhtml import parse_html
from tests.support.seed import seed_chats

ACTOR = audit.Actor(7, "@boss")
ROOT = Path(__file__).resolve().parents[1]
NASTY = 'A <b>&</b> "name"'


def test_feed_use_cases_return_frozen_data(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        feed = Feed(url="https://a.example/rss", name=NASTY, created_at=now)
        session.add(feed)
        session.flush()
        feed_id = feed.id or 0
    with session_scope(engine) as session:
        lines = admin_feeds.feed_lines(session, now=now)
        not_paused = admin_feeds.resume_feed(session, feed_id, actor=ACTOR, now=now)
        removed = admin_feeds.remove_feed(session, feed_id, actor=ACTOR, now=now)
        again = admin_feeds.remove_feed(session, feed_id, actor=ACTOR, now=now)
        missing = admin_feeds.resume_feed(session, 999, actor=ACTOR, now=now)
        log = audit.recent(session)
    assert [type(x) for x in lines] == [FeedLine]
    assert (not_paused.kind, removed.kind, again.kind, missing.kind) == (
        "not_paused",
        "removed",
        "already_removed",
        "not_found",
    )
    assert removed == FeedChange(
        "removed", feed_id, NASTY, "https://a.example/rss", from_config=True
    )
    assert [type(x) for x in log] == [AuditLine] and log[0].who == "@boss (7)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        removed.kind = "resumed"  # type: ignore[misc]


def test_broadcast_and_stats_use_cases_return_data(engine: Engine) -> None:
    now = utcnow()
    seed_chats(engine, [1, 2], now=now, due=None)
    with session_scope(engine) as session:
        draft = bc.create_draft(
            session, actor=ACTOR, chat_id=7, request=bc.Request("hi", None), now=now
        )
        first = bc.tap(session, draft.id, confirming=True, actor=ACTOR, now=now)
        second = bc.tap(session, draft.id, confirming=False, actor=ACTOR, now=now)
        report = stats.report(session, now=now)
    assert draft.audience == 2
    assert first == Tap("queued", draft.id, total=2)
    assert second == Tap("already", draft.id, status="confirmed", confirming=False)
    assert isinstance(report, StatsReport) and report.numbers.active == 2


@pytest.mark.parametrize("kind", get_args(FeedChangeKind))
def test_every_feed_change_renders_as_valid_escaped_html(kind: FeedChangeKind) -> None:
    change = FeedChange(kind, 3, NASTY, "https://x.example/?a=1&b=<2>", "bad <reason>", 4, ("w",))
    html = render.feed_change(change)
    text = parse_html(html).text  # raises on HTML Telegram would refuse
    named = kind not in ("unusable", "not_found", "already_removed")
    assert (NASTY in text) == named  # escaped, so it comes back as typed
    if kind == "unusable":
        assert "https://x.example/?a=1&b=<2>" in text and "bad <reason>" in text


def test_other_renderers_make_valid_html() -> None:
    now = utcnow()
    line = FeedLine(1, NASTY, "https://a.example/?x=<1>", ("w",), None, 2, True, now, "<err>")
    pieces = [
        *render.feed_list([line], now=now),
        *render.audit_log([AuditLine(now, NASTY, "addfeed", "<detail>")]),
        render.pause_alert(PausedFeed(1, NASTY, 10, now - timedelta(hours=1), "<e>"), now=now),
        render.preview(3, NASTY),
        render.nobody(None),
        render.private_only("feeds"),
        *(a for a in render.tap_reply(Tap("queued", 1, total=5), now=now, per_second=1) if a),
    ]
    for html in pieces:
        assert parse_html(html).text
    assert NASTY in parse_html(render.feed_list([line], now=now)[1]).text


def test_admin_and_id_rules() -> None:
    assert is_admin([1, 2], 2) and not is_admin([1, 2], 3) and not is_admin([1], None)
    assert [parse_id(t) for t in ("12", "#12", "²", "١", "1e3", "", "00")] == [
        12,
        12,
        None,
        None,
        None,
        None,
        None,
    ]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_admin_adapter_and_renderers_do_not_reach_storage() -> None:
    adapter = _imports(ROOT / "handlers" / "admin.py")
    assert not {m for m in adapter if m.startswith("bot.storage")}
    for pure in ("admin.py", "commands.py"):
        modules = _imports(ROOT / "bot" / "render" / pure)
        assert not {m for m in modules if m.startswith(("bot.storage", "handlers", "sqlmodel"))}
