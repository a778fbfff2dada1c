"""Claims: a walk of the unsent rows in (priority, id) order that stops at its batch, and
the next batch claimed while the one before is still being sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from telegram import Bot

from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.storage import outbox
from bot.storage.db import session_scope
from bot.storage.models import utcnow
from tests.support.fake_telegram import FakeTelegram
from tests.support.outboxkit import enqueue_messages, open_bot, statuses


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with open_bot(tg, pool_size=8) as b:
        yield b


def is_claim(statement: str) -> bool:
    """The SELECT of `outbox.claim_due`: the only query ordered by priority and id."""
    return statement.lstrip().upper().startswith("SELECT") and (
        "ORDER BY outbox.priority, outbox.id" in statement
    )


@contextmanager
def on_claims(engine: Engine, seen: Callable[[str, Any], None]) -> Iterator[None]:
    """Call `seen(statement, parameters)` as each claim's query goes to the database."""

    def before(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if is_claim(statement):
            seen(statement, params)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def queue_rows(engine: Engine, pending: int, sent: int) -> None:
    """`pending` rows to as many chats, after `sent` rows already sent (the table's bulk)."""
    now = utcnow() - timedelta(seconds=5)
    messages = [
        outbox.NewMessage(5_000_000 + i, "briefing", f"b:{i}", "hello")
        for i in range(sent + pending)
    ]
    with session_scope(engine) as session:
        outbox.enqueue_many(session, messages, now=now)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE outbox SET status = 'sent' WHERE id <= :n"), {"n": sent})


def claim_plan(engine: Engine) -> list[str]:
    """The database's plan for the query a claim sends, step by step."""
    captured: list[tuple[str, Any]] = []
    with (
        on_claims(engine, lambda statement, params: captured.append((statement, params))),
        session_scope(engine) as session,
    ):
        outbox.claim_due(session, now=utcnow(), limit=200, lease=timedelta(seconds=60))
    ((statement, params),) = captured
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        return [str(row[-1]) for row in conn.exec_driver_sql(explain + statement, params)]


def test_a_claim_walks_the_unsent_rows_in_order_and_sorts_nothing(engine: Engine) -> None:
    # Before: every pending row was found through the status index, each searched for a
    # sender holding its chat, and all of them sorted by (priority, id) before LIMIT.
    queue_rows(engine, pending=3000, sent=3000)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE outbox")
    plan = claim_plan(engine)
    text = "\n".join(plan)
    assert "ix_outbox_queue" in text, text
    if engine.dialect.name == "sqlite":
        assert not any("TEMP B-TREE" in step for step in plan), text
        assert any(step.startswith("SEARCH outbox_1 USING INDEX ix_outbox_held") for step in plan)
    else:
        assert not any(step.lstrip("-> ").startswith("Sort") for step in plan), text
    # The walk still takes the first rows in order.
    with session_scope(engine) as session:
        rows = outbox.claim_due(session, now=utcnow(), limit=200, lease=timedelta(seconds=60))
    assert [row.chat_id for row in rows] == list(range(5_003_200, 5_003_400))


async def test_the_next_batch_is_claimed_while_the_first_is_still_being_sent(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    # Two messages a second, two rows a batch: the first batch takes half a second or
    # more to go out. Before, the second batch was claimed only once it had.
    chat_ids = list(range(71_001, 71_005))
    for chat_id in chat_ids:
        tg.add_private_chat(chat_id)
    enqueue_messages(engine, chat_ids, kind="reply", key="m", text="hello {chat}")
    sent_at_claim: list[int] = []
    sender = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=2.0), batch_size=2)
    with on_claims(engine, lambda *_: sent_at_claim.append(len(tg.calls("sendMessage")))):
        stats = await sender.deliver_due(budget_seconds=30)
    await sender.aclose()
    assert stats.sent == 4
    assert statuses(engine) == {"sent": 4}
    assert sent_at_claim[1] < 2  # the first batch was not all sent yet


async def test_a_chat_with_more_rows_than_a_batch_goes_out_in_order_in_one_round(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    # Claimed ahead, the chat's later rows are held back by its rows in flight: the
    # claim comes back empty, and the round must go on once those are sent.
    chat_id = 71_101
    tg.add_private_chat(chat_id)
    messages = [outbox.NewMessage(chat_id, "reply", f"m:{i}", f"part {i}") for i in range(5)]
    with session_scope(engine) as session:
        outbox.enqueue(session, messages, now=utcnow())
    sender = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=1000.0), batch_size=2)
    stats = await sender.deliver_due(budget_seconds=30)
    await sender.aclose()
    assert stats.sent == 5
    assert tg.texts(chat_id) == [f"part {i}" for i in range(5)]


async def test_rows_put_back_under_a_send_in_flight_here_are_not_sent_twice(
    engine: Engine, tg: FakeTelegram, bot: Bot
) -> None:
    # A sender whose leases had lapsed writes its late "retry" marks over rows this sender
    # has claimed since and is sending: they look due again to the claim made ahead.
    chat_id = 71_201
    tg.add_private_chat(chat_id)
    messages = [outbox.NewMessage(chat_id, "reply", f"m:{i}", f"part {i}") for i in range(4)]
    with session_scope(engine) as session:
        outbox.enqueue(session, messages, now=utcnow())
    with engine.connect() as conn:
        query = sa.text("SELECT id FROM outbox WHERE chat_id = :chat ORDER BY id")
        row_ids = list(conn.execute(query, {"chat": chat_id}).scalars())
    claims: list[int] = []

    def late_marks(*_: Any) -> None:
        claims.append(len(claims))
        if len(claims) == 2:  # the claim ahead: the chat's fourth row waits for its pace
            with session_scope(engine) as session:
                for row_id in row_ids:
                    past = utcnow() - timedelta(seconds=1)
                    outbox.mark_retry(session, row_id, not_before=past, error=None)

    sender = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=1000.0), batch_size=4)
    with on_claims(engine, late_marks):
        stats = await sender.deliver_due(budget_seconds=30)
    await sender.aclose()
    assert len(claims) >= 2
    assert tg.texts(chat_id) == [f"part {i}" for i in range(4)]
    assert stats.sent == 4
