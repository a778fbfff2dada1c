"""The benchmark's feed server in a child process, like feeds on another machine.

`tests/support/feedserver.FeedServer` serves each body at ``/feeds/<n>.xml`` with an
ETag; in the benchmark's own process its threads would share the GIL with the event
loop being measured (a ``socket.send`` there waited for the GIL), so here it runs in
a child interpreter. The parent switches ETag handling over a pipe:
``honour_etag(True)``: a matching If-None-Match gets 304; ``False``: the same 200 bytes.

With ``origins`` > 1 the feeds are spread over that many servers (ports), feed n on
server n % origins, as a pool sees feeds on many hosts (each origin has its own pooled
connections).

With ``errors`` > 0 the first server also answers ``/errors/<n>.xml`` (n < errors) with
HTTP 500 (``error_urls``), for feeds that fail.

Run as ``python -m bench._feed_process BODIES_FILE ORIGINS [ERRORS]`` (a pickled list of bytes); it
prints its ports, then answers ``etag on`` / ``etag off`` lines with ``ok`` until stdin
closes.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

REPO = Path(__file__).resolve().parents[1]
CONTENT_TYPE = "application/rss+xml; charset=utf-8"


def etag_of(n: int) -> str:
    return f'"feed-{n}-v1"'


class FeedProcess:
    """Start the child server on `bodies`; ``urls`` are the feeds' addresses."""

    def __init__(self, bodies: Sequence[bytes], *, origins: int = 1, errors: int = 0) -> None:
        self._bodies = list(bodies)
        self._origins = origins
        self._errors = errors
        self._child: subprocess.Popen[str] | None = None
        self.urls: list[str] = []
        self.error_urls: list[str] = []

    def __enter__(self) -> Self:
        with tempfile.NamedTemporaryFile(prefix="bench_bodies_", delete=False) as file:
            pickle.dump(self._bodies, file, protocol=pickle.HIGHEST_PROTOCOL)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
        self._child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench._feed_process",
                file.name,
                str(self._origins),
                str(self._errors),
            ],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            ports = [int(port) for port in self._read_line().split()]
        finally:
            os.unlink(file.name)
        self.urls = [
            f"http://127.0.0.1:{ports[n % len(ports)]}/feeds/{n}.xml"
            for n in range(len(self._bodies))
        ]
        self.error_urls = [
            f"http://127.0.0.1:{ports[0]}/errors/{n}.xml" for n in range(self._errors)
        ]
        return self

    def honour_etag(self, on: bool) -> None:
        assert self._child is not None and self._child.stdin is not None
        self._child.stdin.write("etag on\n" if on else "etag off\n")
        self._child.stdin.flush()
        if self._read_line() != "ok":
            raise RuntimeError("feed server child did not acknowledge")

    def _read_line(self) -> str:
        assert self._child is not None and self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            raise RuntimeError("feed server child exited")
        return line.strip()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._child is None:
            return
        assert self._child.stdin is not None
        self._child.stdin.close()  # the child stops on EOF
        try:
            self._child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()


def _serve(bodies_file: str, origins: int, errors: int, commands: IO[str], out: IO[str]) -> None:
    from bench._common import fix_loopback_fakes
    from tests.support.feedserver import FeedServer, Reply, Request

    fix_loopback_fakes(True)
    with open(bodies_file, "rb") as file:
        bodies: list[bytes] = pickle.load(file)
    honour = [True]
    servers = [FeedServer() for _ in range(origins)]
    for n, body in enumerate(bodies):
        etag = etag_of(n)

        def handle(request: Request, body: bytes = body, etag: str = etag) -> Reply:
            if honour[0] and request.headers.get("if-none-match") == etag:
                return Reply(304, {"ETag": etag})
            return Reply(200, {"Content-Type": CONTENT_TYPE, "ETag": etag}, body)

        servers[n % origins].route(f"/feeds/{n}.xml", handle)
    for n in range(errors):
        servers[0].route(f"/errors/{n}.xml", Reply(500, {"Content-Type": "text/plain"}, b"oops"))
    for server in servers:
        server.requests = _Discard()  # type: ignore[assignment]  # keep no requests
        server.start()
    try:
        print(" ".join(str(server.port) for server in servers), file=out, flush=True)
        for line in commands:
            honour[0] = line.strip() == "etag on"
            print("ok", file=out, flush=True)
    finally:
        for server in servers:
            server.stop()


class _Discard(list[object]):
    """A list that keeps nothing (FeedServer appends every request it sees)."""

    def append(self, item: object) -> None:
        pass


if __name__ == "__main__":
    errors = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    _serve(sys.argv[1], int(sys.argv[2]), errors, sys.stdin, sys.stdout)
