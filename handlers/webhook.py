"""What the bot's HTTP servers read from a client before answering it.

python-telegram-bot serves webhook updates with tornado and checks the secret token
only once a request's whole body is in memory; tornado's defaults let that body be
100 MB and wait an hour for it. Anyone who can reach the port could make the bot
hold a gigabyte with a few unauthenticated POSTs (six of 95 MB took it from 254 MB
to 1.4 GB before each was refused). An update from Telegram is a few kilobytes.

Set as tornado's defaults for every `HTTPServer` of the process (tornado's
documented `Configurable.configure`): the webhook's and the ops endpoints'.
"""

from __future__ import annotations

import tornado.httpserver

#: A larger body is refused with 400 before it is read (an update is a few KB).
MAX_BODY_BYTES = 1024 * 1024
#: A body must arrive within this long, and a kept-alive connection idles at most this long.
BODY_TIMEOUT_SECONDS = 30.0
IDLE_TIMEOUT_SECONDS = 120.0


def limit_http_requests() -> None:
    """Make these limits the defaults of tornado's HTTP servers in this process."""
    tornado.httpserver.HTTPServer.configure(
        None,
        max_body_size=MAX_BODY_BYTES,
        body_timeout=BODY_TIMEOUT_SECONDS,
        idle_connection_timeout=IDLE_TIMEOUT_SECONDS,
    )
