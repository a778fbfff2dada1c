"""What the suite's loopback HTTP servers share.

A client that goes away mid-request (a worker process killed with SIGKILL, a test
that closes its socket early) resets the connection. socketserver prints a
traceback for that on stderr, which reads like a failure in a green run. A reset
or a broken pipe is the client's business; any other error still prints.
"""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from typing import Any

CLIENT_GONE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # many clients connect at once (socketserver's default: 5)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], CLIENT_GONE):
            return
        super().handle_error(request, client_address)
