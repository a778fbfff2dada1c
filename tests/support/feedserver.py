"""A real HTTP server on 127.0.0.1 for tests that fetch feeds and pages.

A tiny router maps a path to a static ``Reply`` or a handler ``Request -> Reply``.
Bodies may be lazy iterables (sent chunked unless a Content-Length is given) and may
trickle with a delay per chunk. Use the ``feed_server`` fixture or ``with FeedServer()``.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Self
from urllib.parse import urlsplit

import pytest

from .loopback import LoopbackHTTPServer


@dataclass(frozen=True)
class Request:
    """One request as the server saw it; header names are lower-cased."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Reply:
    """A response: bytes are sent with Content-Length, iterables chunked (or as declared).

    An iterator body is consumed by the first request; route a handler for repeat use.
    """

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    chunk_delay: float = 0.0


Route = Reply | Callable[[Request], Reply]


class FeedServer:
    """Threaded HTTP/1.1 server on an ephemeral 127.0.0.1 port with a path router."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.hits: Counter[str] = Counter()
        self.bytes_sent = 0
        self.connections = 0  # TCP connections accepted
        self.active = 0  # handlers running, from request line to last byte written
        self.max_active = 0
        # Handlers still working out their reply (nothing sent yet). A client can read a
        # whole response and send its next request before the thread that wrote it gets
        # back to count itself out of `active`, so concurrency limits are checked here.
        self.answering = 0
        self.max_answering = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Return the absolute URL of path on this server."""
        return self.base_url + path

    def route(self, path: str, route: Route) -> str:
        """Serve route at path; return its URL."""
        self.routes[path] = route
        return self.url(path)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes trickling handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _enter(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
            self.hits[request.path] += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def _leave(self) -> None:
        with self._lock:
            self.active -= 1

    def _start_answer(self) -> None:
        with self._lock:
            self.answering += 1
            self.max_answering = max(self.max_answering, self.answering)

    def _end_answer(self) -> None:
        with self._lock:
            self.answering -= 1

    def _connected(self) -> None:
        with self._lock:
            self.connections += 1

    def _sent(self, count: int) -> None:
        with self._lock:
            self.bytes_sent += count


class _HTTPServer(LoopbackHTTPServer):
    block_on_close = False  # trickling handlers must not hold up shutdown
    owner: FeedServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY each
    # response waits ~40 ms for the client's delayed ACK (Nagle).
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.owner._connected()

    def do_GET(self) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, parts.path, parts.query, headers)
        owner._enter(request)
        try:
            route = owner.routes.get(parts.path, Reply(404, body=b"no route"))
            owner._start_answer()
            try:
                reply = route if isinstance(route, Reply) else route(request)
            finally:
                owner._end_answer()
            self._send(reply, owner)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (cap, timeout): expected
        finally:
            owner._leave()

    def _send(self, reply: Reply, owner: FeedServer) -> None:
        self.send_response(reply.status)
        declared = {name.lower() for name in reply.headers}
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status in (204, 304):
            self.end_headers()
            return
        if isinstance(reply.body, bytes):
            if "content-length" not in declared:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self._write(reply.body, owner)
            return
        chunked = "content-length" not in declared
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in reply.body:
            if owner.stopping.wait(reply.chunk_delay):
                self.close_connection = True  # body cut short: the connection is unusable
                return
            self._write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk, owner)
        if chunked:
            self._write(b"0\r\n\r\n", owner)

    def _write(self, data: bytes, owner: FeedServer) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        owner._sent(len(data))

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


def redirect(location: str, status: int = 302) -> Reply:
    """Return a redirect to location (absolute or relative)."""
    return Reply(status, {"Location": location})


def conditional(
    body: bytes, *, etag: str, last_modified: str, content_type: str = "application/rss+xml"
) -> Callable[[Request], Reply]:
    """Return a handler that answers 304 when the request's validators match."""
    validators = {"ETag": etag, "Last-Modified": last_modified}

    def handle(request: Request) -> Reply:
        if request.headers.get("if-none-match") == etag:
            return Reply(304, validators)
        if request.headers.get("if-modified-since") == last_modified:
            return Reply(304, validators)
        return Reply(200, {"Content-Type": content_type, **validators}, body)

    return handle


def gzipped(body: bytes, content_type: str = "application/rss+xml") -> Reply:
    """Return body gzip-encoded with the matching Content-Encoding."""
    return Reply(
        200, {"Content-Type": content_type, "Content-Encoding": "gzip"}, gzip.compress(body)
    )


def gzip_bomb(decompressed_size: int) -> bytes:
    """Return a gzip stream of decompressed_size zero bytes, built without holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(decompressed_size // len(block))]
    return b"".join([*parts, compressor.flush()])


def lazy_chunks(total: int, chunk_size: int = 64 * 1024, fill: bytes = b"x") -> Iterator[bytes]:
    """Yield total bytes in chunks, generated on demand so nothing big is ever held."""
    chunk = fill * chunk_size
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        sent += len(piece)
        yield piece


def trickle(data: bytes) -> Iterator[bytes]:
    """Yield data one byte at a time (pair with Reply.chunk_delay)."""
    for index in range(len(data)):
        yield data[index : index + 1]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll predicate until true or timeout; for assertions about the server thread."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """Yield a running FeedServer, stopped after the test."""
    with FeedServer() as server:
        yield server
