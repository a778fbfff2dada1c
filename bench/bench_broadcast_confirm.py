"""The Send tap of a broadcast to many chats: how long its transaction holds the database.

Run from the repo root: ``python -m bench.bench_broadcast_confirm`` (SQLite, 100,000
chats), add ``--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test`` for
PostgreSQL (a throwaway schema, dropped afterwards); ``--chats`` scales it. The chats
are active private chats following one topic; the broadcast goes to every chat, so the
confirmation writes one outbox row per chat (``bot.admin.broadcast.tap``). Prints one
line: ``confirm: 100000 chats in 3.2 s (sqlite)``.
"""

from __future__ import annotations

import argparse
import time

from bench._common import ensure_repo_on_path, print_machine
from bench.bench_compose import database_url
from bot.admin import broadcast as bc
from bot.admin.audit import CLI
from bot.storage.db import open_database, session_scope
from bot.storage.models import utcnow
from tests.support.seed import seed_chats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print_machine()
    with database_url(args.database_url) as url:
        engine = open_database(url)
        try:
            seed_chats(engine, range(1, args.chats + 1), now=utcnow(), due=None)
            with session_scope(engine) as session:
                request = bc.Request("Polls are open.", None)
                now = utcnow()
                draft = bc.create_draft(session, actor=CLI, chat_id=1, request=request, now=now)
            began = time.perf_counter()
            with session_scope(engine) as session:
                tap = bc.tap(session, draft.id, confirming=True, actor=CLI, now=utcnow())
            took = time.perf_counter() - began
        finally:
            engine.dispose()
    print(f"confirm: {tap.total} chats in {took:.1f} s ({url.split(':', 1)[0].split('+')[0]})")


if __name__ == "__main__":
    ensure_repo_on_path()
    main()
