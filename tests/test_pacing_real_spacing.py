"""A chat's sends keep Telegram's per-chat spacing when the bot-wide queue delays some of them.

The pacer books a chat's slot first and the bot-wide slot afterwards. When other chats'
replies fill the bot-wide queue, a chat's first sends wait there while its later sends'
chat slots come due, and they went out right behind each other: more than Telegram's
burst for one private chat within a moment, answered with 429 (found by
`python -m bench.bench_storm --users 0 --flood 1000 --bystanders 100`).
"""

from __future__ import annotations

from bot.delivery.pacing import PRIVATE_BURST, Pacer
from tests.support.virtualtime import VirtualTime


def refused_by_bucket(
    times: list[float], burst: int = PRIVATE_BURST, rate: float = 1.0
) -> list[float]:
    """Sends a token bucket like Telegram's (burst 3, one token a second) would refuse."""
    tokens, last = float(burst), None
    refused: list[float] = []
    for at in sorted(times):
        if last is not None:
            tokens = min(float(burst), tokens + (at - last) * rate)
        last = at
        if tokens < 1.0:
            refused.append(round(at, 3))
        else:
            tokens -= 1.0
    return refused


async def test_a_chats_sends_delayed_by_the_queue_still_keep_its_spacing() -> None:
    vc = VirtualTime()
    pacer = Pacer(per_second=30.0, clock=vc.clock, sleep=vc.sleep)
    sent: dict[int, list[float]] = {}

    async def send(chat_id: int) -> None:
        await pacer.acquire(chat_id)
        sent.setdefault(chat_id, []).append(vc.now)
        pacer.release()  # Telegram answers at once on virtual time

    busy = 1
    # Sixty other chats' replies come first and fill two seconds of the bot-wide queue;
    # then one chat's eight replies: its burst waits behind them, while its later
    # replies' own slots come due at 1.05 s, 2.1 s, ...
    others = [send(chat) for chat in range(100, 160)]
    await vc.run(*others, *(send(busy) for _ in range(8)))
    assert len(sent[busy]) == 8
    assert refused_by_bucket(sent[busy]) == [], sorted(sent[busy])
    # The bot as a whole still sends at most 30 within any second.
    every = sorted(t for times in sent.values() for t in times)
    assert all(every[i + 30] - every[i] >= 1.0 - 1e-9 for i in range(len(every) - 30))
