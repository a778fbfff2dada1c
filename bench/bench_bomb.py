"""Peak RSS while fetching a stacked-gzip bomb (gzip, gzip; 1 GiB decoded) from 127.0.0.1.

Run: python bench/bench_bomb.py [decoded MiB, default 1024]. Prints one line.
"""

from __future__ import annotations

import asyncio
import gzip
import resource
import sys
import threading
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bot.ingest.fetcher import Fetcher, FetchPolicy

MIB = 1024 * 1024
CAP = 10 * MIB


def stacked_bomb(decoded: int) -> bytes:
    """gzip(gzip(zeros)), built a MiB at a time so the zeros are never held."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MIB)
    parts = [inner.compress(block) for _ in range(decoded // MIB)]
    return gzip.compress(b"".join([*parts, inner.flush()]), 9)


def serve(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Encoding", "gzip, gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def main(decoded_mib: int) -> None:
    bomb = stacked_bomb(decoded_mib * MIB)
    httpd = serve(bomb)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/bomb.xml"
    policy = FetchPolicy(allow_private_networks=True, max_bytes=CAP)
    before = peak_rss_mib()
    async with Fetcher(policy) as fetcher:
        result = await fetcher.fetch_feed(url, now=datetime.now(UTC))
    after = peak_rss_mib()
    httpd.shutdown()
    print(
        f"stacked-gzip bomb: {len(bomb)} bytes on the wire, {decoded_mib} MiB decoded,"
        f" cap {CAP // MIB} MiB -> {result.error!r}; peak RSS {after:.1f} MiB"
        f" (before the fetch {before:.1f} MiB, growth {after - before:.1f} MiB)"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1024))
