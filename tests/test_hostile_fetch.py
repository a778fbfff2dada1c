"""A hostile server cannot blow up memory with stacked codings or rebind DNS past the guard."""

from __future__ import annotations

import gzip
import socket
import threading
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpcore
import pytest

from bot.ingest.decode import PIECE, BodyDecoder, DecodeError
from bot.ingest.fetcher import Fetcher, FetchPolicy, FetchStatus
from bot.ingest.netguard import PinnedBackend, PinnedTransport, PollableStream, pinned
from tests.support.feedserver import FeedServer, Reply, gzip_bomb, redirect

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
MB = 1024 * 1024
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
PUBLIC_IP = "93.184.215.14"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@cache
def stacked_bomb(size: int) -> bytes:
    """gzip(gzip(size zero bytes)): a few KB on the wire."""
    return gzip.compress(gzip_bomb(size), 9)


async def test_stacked_gzip_bomb_is_refused_without_inflating_it(server: FeedServer) -> None:
    bomb = stacked_bomb(256 * MB)
    assert len(bomb) < 64 * 1024
    headers = {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip, gzip"}
    url = server.route("/bomb.xml", Reply(200, headers, bomb))
    policy = FetchPolicy(allow_private_networks=True, max_bytes=10 * MB)
    tracemalloc.start()
    try:
        async with Fetcher(policy) as fetcher:
            result = await fetcher.fetch_feed(url, now=NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status is FetchStatus.ERROR
    assert result.error == "too large (over 10 MB)"
    # httpx inflated the whole read at once (256 MiB); we stop within a piece of the cap.
    assert peak < 10 * MB + 20 * MB, f"peak {peak / MB:.0f} MiB"


async def test_stacked_gzip_under_the_cap_decodes(server: FeedServer) -> None:
    body = gzip.compress(gzip.compress(RSS))
    headers = {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip, x-gzip"}
    url = server.route("/twice.xml", Reply(200, headers, body))
    async with Fetcher(FetchPolicy(allow_private_networks=True)) as fetcher:
        result = await fetcher.fetch_feed(url, now=NOW)
    assert result.status is FetchStatus.OK and result.body == RSS
    assert server.requests[-1].headers["accept-encoding"] == "gzip"


@pytest.mark.parametrize(
    ("coding", "reason"),
    [
        ("br", 'bad content encoding (unsupported "br")'),
        ("gzip, gzip, gzip", "bad content encoding (3 stacked codings)"),
    ],
)
async def test_codings_we_cannot_or_will_not_undo_are_refused(
    server: FeedServer, coding: str, reason: str
) -> None:
    headers = {"Content-Type": "application/rss+xml", "Content-Encoding": coding}
    url = server.route("/odd.xml", Reply(200, headers, b"\x1f\x8b whatever"))
    async with Fetcher(FetchPolicy(allow_private_networks=True)) as fetcher:
        result = await fetcher.fetch_feed(url, now=NOW)
    assert result.status is FetchStatus.ERROR and result.error == reason


def test_decoder_pieces_are_bounded_and_corrupt_data_is_a_reason() -> None:
    decoder = BodyDecoder("gzip, gzip")
    pieces = list(decoder.feed(stacked_bomb(8 * MB))) + list(decoder.finish())
    assert max(map(len, pieces)) <= PIECE
    assert sum(map(len, pieces)) == 8 * MB
    with pytest.raises(DecodeError, match="bad content encoding"):
        list(BodyDecoder("gzip").feed(b"\x1f\x8b\x08\x00garbage-not-deflate"))


# --- DNS rebinding -------------------------------------------------------------------


class FlippingResolver:
    """A rebinding name server: each host answers a public address once, then 127.0.0.1."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return [PUBLIC_IP] if self.calls.count(host) == 1 else ["127.0.0.1"]


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records where connections go; the 'public' address is our loopback test server."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, *_: Any, **__: Any
    ) -> httpcore.AsyncNetworkStream:
        # The local address and socket options are the real backend's business.
        self.targets.append(host)
        return await self._connect(host, port, timeout)

    async def _connect(
        self, host: str, port: int, timeout: float | None
    ) -> httpcore.AsyncNetworkStream:
        if host != PUBLIC_IP:
            raise httpcore.ConnectError(f"test network: {host} is not reachable")
        return await self._real.connect_tcp("127.0.0.1", port, timeout)

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


async def test_connection_goes_to_the_checked_address_at_every_hop(server: FeedServer) -> None:
    server.route("/final.xml", Reply(200, {"Content-Type": "application/rss+xml"}, RSS))
    server.route("/start", redirect(f"http://second.test:{server.port}/final.xml"))
    resolver, backend = FlippingResolver(), RecordingBackend()
    transport = PinnedTransport(guard=True, per_origin=4, network_backend=backend)
    async with Fetcher(FetchPolicy(), transport=transport, resolver=resolver) as fetcher:
        result = await fetcher.fetch_feed(f"http://first.test:{server.port}/start", now=NOW)
    assert result.status is FetchStatus.OK, result.error
    assert result.body == RSS
    # One lookup per hop, and each connection went to what that lookup was checked as.
    assert resolver.calls == ["first.test", "second.test"]
    assert backend.targets == [PUBLIC_IP, PUBLIC_IP]
    # Only the TCP target changed: the server still sees the original host names.
    hosts = [request.headers["host"] for request in server.requests]
    assert hosts == [f"first.test:{server.port}", f"second.test:{server.port}"]


async def test_a_refused_answer_never_connects(server: FeedServer) -> None:
    async def loopback(host: str, port: int) -> list[str]:
        return [PUBLIC_IP, "127.0.0.1"]

    backend = RecordingBackend()
    transport = PinnedTransport(guard=True, per_origin=4, network_backend=backend)
    async with Fetcher(FetchPolicy(), transport=transport, resolver=loopback) as fetcher:
        result = await fetcher.fetch_feed(f"http://mixed.test:{server.port}/x", now=NOW)
    assert result.error == "refused: mixed.test (127.0.0.1) is a private or local address"
    assert backend.targets == []


async def test_an_unchecked_host_is_refused_by_the_guarded_backend() -> None:
    backend = PinnedBackend(RecordingBackend(), guard=True)
    with pytest.raises(httpcore.ConnectError, match="was not checked"):
        await backend.connect_tcp("unchecked.test", 80)


class TlsRecordingStream(httpcore.AsyncNetworkStream):
    """A connection that records the TLS server name asked for, then fails the handshake."""

    def __init__(self, names: list[str | None]) -> None:
        self._names = names

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        self._names.append(server_hostname)
        raise httpcore.ConnectError("test network: no TLS here")


class TlsRecordingBackend(RecordingBackend):
    def __init__(self) -> None:
        super().__init__()
        self.server_names: list[str | None] = []

    async def _connect(
        self, host: str, port: int, timeout: float | None
    ) -> httpcore.AsyncNetworkStream:
        return TlsRecordingStream(self.server_names)


async def test_tls_to_a_pinned_address_still_names_the_original_host() -> None:
    resolver, backend = FlippingResolver(), TlsRecordingBackend()
    transport = PinnedTransport(guard=True, per_origin=4, network_backend=backend)
    async with Fetcher(FetchPolicy(), transport=transport, resolver=resolver) as fetcher:
        result = await fetcher.fetch_feed("https://news.test/feed", now=NOW)
    assert result.status is FetchStatus.ERROR
    assert backend.targets == [PUBLIC_IP]
    assert backend.server_names == ["news.test"]  # SNI (and certificate check) use the name


def test_concatenated_gzip_members_decode_and_trailing_padding_is_ignored() -> None:
    data = gzip.compress(b"hello ") + gzip.compress(b"world") + b"\n\n"
    decoder = BodyDecoder("gzip")
    pieces = [piece for i in range(0, len(data), 3) for piece in decoder.feed(data[i : i + 3])]
    assert b"".join([*pieces, *decoder.finish()]) == b"hello world"


class ClosingServer:
    """Answers one request per connection with a keep-alive 304, then hangs up unasked."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self.hung_up = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                self.connections += 1
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(4096)
                conn.sendall(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
            self.hung_up.set()  # closed after a complete answer: the client pools it

    def close(self) -> None:
        self._listener.close()


async def test_a_pooled_connection_the_server_closed_is_not_reused() -> None:
    server = ClosingServer()
    resolver, backend = FlippingResolver(), RecordingBackend()
    transport = PinnedTransport(guard=True, per_origin=4, network_backend=backend)
    try:
        async with Fetcher(FetchPolicy(), transport=transport, resolver=resolver) as fetcher:
            url = f"http://closes.test:{server.port}/feed"
            first = await fetcher.fetch_feed(url, etag='"v1"', now=NOW)
            assert server.hung_up.wait(5)
            # The same origin again: the pool holds the idle connection the server closed.
            resolver.calls.clear()  # the flipping resolver answers public once per name
            second = await fetcher.fetch_feed(url, etag='"v1"', now=NOW)
    finally:
        server.close()
    # The idle connection read as closed (EOF pending), so the second fetch connected anew,
    # to the address checked for it, instead of failing on a dead socket.
    assert (first.status, second.status) == (FetchStatus.NOT_MODIFIED, FetchStatus.NOT_MODIFIED)
    assert server.connections == 2
    assert backend.targets == [PUBLIC_IP, PUBLIC_IP]


async def test_pinned_connections_poll_their_socket_for_readability() -> None:
    server = ClosingServer()
    backend = PinnedBackend(RecordingBackend(), guard=True)
    try:
        with pinned("polled.test", server.port, [PUBLIC_IP]):
            stream = await backend.connect_tcp("polled.test", server.port)
        assert isinstance(stream, PollableStream)
        assert stream.get_extra_info("is_readable") is False  # open, nothing sent yet
        await stream.write(b"GET / HTTP/1.1\r\nHost: polled.test\r\n\r\n")
        assert server.hung_up.wait(5)
        assert await stream.read(4096)  # the answer, then the server's hang-up
        assert stream.get_extra_info("is_readable") is True  # EOF waiting
        assert stream.get_extra_info("socket") is not None  # the rest goes to the inner stream
        await stream.aclose()
    finally:
        server.close()
