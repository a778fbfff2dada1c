"""Checked DNS answers are kept a few seconds; refusals and failures never are."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import pytest

from bot.ingest.dnscache import CheckedAnswers
from bot.ingest.fetcher import Fetcher, FetchPolicy, FetchStatus
from bot.ingest.netguard import AddressRefused, PinnedTransport
from tests.support.feedserver import FeedServer, Reply
from tests.test_hostile_fetch import PUBLIC_IP, RecordingBackend

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
OTHER_PUBLIC_IP = "93.184.215.15"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ScriptedResolver:
    """Answers each lookup with the next of `answers` (an OSError is raised)."""

    def __init__(self, *answers: list[str] | OSError) -> None:
        self._answers = list(answers)
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        answer = self._answers.pop(0)
        if isinstance(answer, OSError):
            raise answer
        return answer


async def test_a_checked_answer_is_reused_until_it_expires() -> None:
    clock = Clock()
    resolver = ScriptedResolver([PUBLIC_IP], [OTHER_PUBLIC_IP])
    answers = CheckedAnswers(resolver, ttl=30.0, clock=clock)
    assert await answers.addresses("news.test", 80) == [PUBLIC_IP]
    clock.now += 29.9
    assert await answers.addresses("NEWS.test", 80) == [PUBLIC_IP]  # names are case-blind
    assert len(resolver.calls) == 1
    clock.now += 0.1  # 30 s after the lookup: asked again
    assert await answers.addresses("news.test", 80) == [OTHER_PUBLIC_IP]
    assert len(resolver.calls) == 2


async def test_a_refused_answer_is_never_kept_as_allowed() -> None:
    clock = Clock()
    resolver = ScriptedResolver(["127.0.0.1"], [PUBLIC_IP, "10.0.0.1"], [PUBLIC_IP])
    answers = CheckedAnswers(resolver, clock=clock)
    with pytest.raises(AddressRefused, match=r"127\.0\.0\.1"):
        await answers.addresses("rebind.test", 80)
    with pytest.raises(AddressRefused, match=r"10\.0\.0\.1"):  # asked again at once, not cached
        await answers.addresses("rebind.test", 80)
    assert await answers.addresses("rebind.test", 80) == [PUBLIC_IP]
    assert len(resolver.calls) == 3


async def test_a_kept_answer_outlives_a_rebinding_to_a_private_address() -> None:
    # The name turns private after its check: within the TTL the hop stays on the
    # public address that was checked; after it, the new answer is checked and refused.
    clock = Clock()
    resolver = ScriptedResolver([PUBLIC_IP], ["127.0.0.1"])
    answers = CheckedAnswers(resolver, ttl=30.0, clock=clock)
    assert await answers.addresses("flip.test", 80) == [PUBLIC_IP]
    assert await answers.addresses("flip.test", 80) == [PUBLIC_IP]
    clock.now += 31
    with pytest.raises(AddressRefused):
        await answers.addresses("flip.test", 80)


async def test_resolution_errors_are_not_kept() -> None:
    resolver = ScriptedResolver(socket.gaierror(socket.EAI_NONAME, "no such name"), [PUBLIC_IP])
    answers = CheckedAnswers(resolver, clock=Clock())
    with pytest.raises(OSError, match="no such name"):
        await answers.addresses("flaky.test", 80)
    assert await answers.addresses("flaky.test", 80) == [PUBLIC_IP]


async def test_literals_are_checked_every_time_and_never_resolved() -> None:
    resolver = ScriptedResolver()
    answers = CheckedAnswers(resolver, clock=Clock())
    assert await answers.addresses(PUBLIC_IP, 80) == [PUBLIC_IP]
    with pytest.raises(AddressRefused):
        await answers.addresses("127.0.0.1", 80)
    assert resolver.calls == []


async def test_answers_are_kept_per_port_and_the_oldest_go_first_past_the_limit() -> None:
    clock = Clock()
    resolver = ScriptedResolver(*([[PUBLIC_IP]] * 5))
    answers = CheckedAnswers(resolver, max_hosts=2, clock=clock)
    for host, port in [("a.test", 80), ("a.test", 443), ("b.test", 80), ("a.test", 443)]:
        await answers.addresses(host, port)
    # a.test:80 was dropped for b.test:80; a.test:443 is still kept.
    assert resolver.calls == [("a.test", 80), ("a.test", 443), ("b.test", 80)]
    await answers.addresses("a.test", 80)
    assert len(resolver.calls) == 4


async def test_feeds_on_one_host_resolve_it_once_and_connect_to_the_checked_address() -> None:
    resolver = ScriptedResolver([PUBLIC_IP], ["127.0.0.1"])  # a second lookup would refuse
    backend = RecordingBackend()
    transport = PinnedTransport(guard=True, per_origin=4, network_backend=backend)
    with FeedServer() as server:
        for n in range(3):
            server.route(f"/{n}.xml", Reply(304, {"ETag": '"v1"'}))
        async with Fetcher(FetchPolicy(), transport=transport, resolver=resolver) as fetcher:
            results = [
                await fetcher.fetch_feed(
                    f"http://news.test:{server.port}/{n}.xml", etag='"v1"', now=NOW
                )
                for n in range(3)
            ]
    assert [r.status for r in results] == [FetchStatus.NOT_MODIFIED] * 3
    assert resolver.calls == [("news.test", server.port)]
    assert backend.targets == [PUBLIC_IP]  # one connection, to the checked address, reused


async def test_a_fetcher_resolves_a_host_once_for_its_many_feeds() -> None:
    resolver = ScriptedResolver([PUBLIC_IP], [PUBLIC_IP], [PUBLIC_IP])
    transport = httpx.MockTransport(lambda request: httpx.Response(304))
    async with Fetcher(FetchPolicy(), transport=transport, resolver=resolver) as fetcher:
        for n in range(3):
            got = await fetcher.fetch_feed(f"https://news.test/{n}.xml", etag='"v1"', now=NOW)
            assert got.status is FetchStatus.NOT_MODIFIED
    assert resolver.calls == [("news.test", 443)]  # not one thread hop per feed


async def test_unchecked_answers_are_kept_as_resolved() -> None:
    resolver = ScriptedResolver(["10.0.0.7"])  # the guard would refuse it
    answers = CheckedAnswers(resolver, check=False)
    assert await answers.addresses("intranet.test", 80) == ["10.0.0.7"]
    assert await answers.addresses("intranet.test", 80) == ["10.0.0.7"]
    assert await answers.addresses("127.0.0.1", 80) == ["127.0.0.1"]
    assert resolver.calls == [("intranet.test", 80)]
