"""Benchmark mute words and keywords: what filters cost when composing and in /latest.

Run from the repo root: ``python -m bench.bench_filters [--chats N] [--stories N]``.

One SQLite database with a story corpus (4 topics, 48 h) and N due chats, each
following one or two topics. The same compose tick runs four times on fresh
copies of the chats: no filters; 10 mute words that match nothing; a mute word
that matches about a third of the stories (the corpus spans Monday to Wednesday
and every summary names its weekday); the same plus a keyword that brings
stories from other topics; and the worst case, a keyword that matches nothing
(every selection reads up to `SCAN_LIMIT` candidates). Then /latest's selection
(`stories_for_chat`, 20 stories, no time window) for 200 chats of each kind.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bench._common import md_table, print_machine
from bot.briefings.compose import compose_scheduled
from bot.briefings.filters import normalise_phrase
from bot.briefings.selection import stories_for_chat
from bot.settings import BriefingSettings, Settings, Topic
from bot.storage.db import open_database, session_scope
from bot.storage.models import ChatFilter
from tests.support.seed import TopicShare, insert_rows, seed_chats, seed_feeds, seed_story_corpus

NOW = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)
TOPICS = ("world", "tech", "science", "sport")
VARIANTS = {
    "no filters": ((), ()),
    "10 mutes, no match": (tuple(f"zzword{i}" for i in range(10)), ()),
    "1 mute, ~1/3 match": (("tuesday",), ()),
    "1 mute + 1 keyword, both match": (("tuesday",), ("monday",)),
    "worst: 1 keyword, no match": ((), ("zzrare",)),
}


def build(path: Path, *, chats: int, stories: int) -> None:
    engine = open_database(f"sqlite:///{path}")
    feeds = seed_feeds(engine, count=50, now=NOW)
    shares = [TopicShare(t, 1 / len(TOPICS)) for t in TOPICS]
    seed_story_corpus(
        engine, count=stories, feed_ids=feeds, topics=shares, now=NOW, span=timedelta(hours=48)
    )
    seed_chats(
        engine,
        range(1, chats + 1),
        now=NOW,
        due=NOW - timedelta(minutes=1),
        topics=TOPICS,
        per_chat=(1, 2),
    )
    engine.dispose()


def add_filters(engine: sa.Engine, chats: int, mutes: tuple[str, ...], follows: tuple[str, ...]):
    rows = [
        {"chat_id": c, "kind": kind, "phrase": normalise_phrase(w), "created_at": NOW}
        for c in range(1, chats + 1)
        for kind, words in (("mute", mutes), ("follow", follows))
        for w in words
    ]
    if rows:
        insert_rows(engine, ChatFilter.__table__, rows)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--stories", type=int, default=5000)
    args = parser.parse_args()
    print_machine()
    settings = Settings(
        topics=tuple(Topic(t, t.title()) for t in TOPICS),
        briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=10),
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.sqlite3"
        started = time.perf_counter()
        build(base, chats=args.chats, stories=args.stories)
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
        for name, (mutes, follows) in VARIANTS.items():
            path = Path(tmp) / "run.sqlite3"
            shutil.copy(base, path)
            engine = open_database(f"sqlite:///{path}")
            add_filters(engine, args.chats, mutes, follows)
            started = time.perf_counter()
            stats = compose_scheduled(engine, settings, now=NOW, limit=args.chats)
            compose_s = time.perf_counter() - started
            started = time.perf_counter()
            with session_scope(engine) as session:
                for chat_id in range(1, min(args.chats, 200) + 1):
                    stories_for_chat(session, chat_id=chat_id, topics=["world"], limit=20)
            latest_ms = (time.perf_counter() - started) / min(args.chats, 200) * 1000
            print(f"{name}: compose {compose_s:.1f} s, /latest {latest_ms:.2f} ms", flush=True)
            rows.append(
                [
                    name,
                    stats.briefings,
                    f"{compose_s:.1f}",
                    f"{compose_s / args.chats * 1000:.2f}",
                    f"{latest_ms:.2f}",
                ]
            )
            engine.dispose()
    print(f"{args.chats} due chats, {args.stories} stories over 48 h, SQLite\n")
    print(md_table(["filters per chat", "briefings", "compose s", "ms/chat", "/latest ms"], rows))


if __name__ == "__main__":
    main()
