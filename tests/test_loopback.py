"""The loopback servers stay quiet when a client resets, and still report real errors."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.support.fake_telegram.server import _Server as FakeTelegramServer
from tests.support.feedserver import _HTTPServer as FeedHTTPServer
from tests.support.loopback import LoopbackHTTPServer


class _Broken(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        raise RuntimeError("a bug in the handler")


class _Server(LoopbackHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Broken)
        self.closed = threading.Event()

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.set()


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _connect(httpd: _Server) -> socket.socket:
    return socket.create_connection(httpd.server_address[:2], timeout=5)


def test_a_client_that_resets_mid_request_prints_nothing(
    server: _Server, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _connect(server)
    client.sendall(b"GET /half-a-request")  # no line end: the server waits for more
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # linger 0: the kernel sends RST, as for a SIGKILLed client
    assert server.closed.wait(5)
    assert capsys.readouterr().err == ""


def test_any_other_error_still_prints_its_traceback(
    server: _Server, capsys: pytest.CaptureFixture[str]
) -> None:
    with _connect(server) as client:
        client.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert server.closed.wait(5)
    assert "RuntimeError: a bug in the handler" in capsys.readouterr().err


def test_the_suites_servers_share_it() -> None:
    assert issubclass(FakeTelegramServer, LoopbackHTTPServer)
    assert issubclass(FeedHTTPServer, LoopbackHTTPServer)
