"""The ops HTTP server: /healthz, /readyz and /metrics on `ops.listen`.

tornado is already installed (python-telegram-bot's webhook server), so it
serves these three read-only routes in the bot's own event loop: a stuck loop
leaves /healthz unanswered, which is what liveness should detect.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.ops import metrics
from bot.ops.health import DB_TIMEOUT, Heartbeats, Verdict, readiness
from bot.settings.model import OpsSettings
from bot.storage.gauges import SharedGauges, shared_gauges
from bot.storage.models import utcnow

logger = logging.getLogger(__name__)


class OpsListenError(Exception):
    """An address to listen on (`ops.listen`, the webhook's) cannot be bound (address in
    use, not an address of this host)."""


def check_free(key: str, host: str, port: int) -> None:
    """Raise OpsListenError naming `key` unless `host:port` can be bound right now.

    For a server that binds later, after Telegram was contacted (the webhook's): a
    taken port then ends the start in one line instead of a traceback.
    """
    try:
        sockets = tornado.netutil.bind_sockets(port, address=host)
    except (OSError, socket.gaierror) as exc:
        raise OpsListenError(f"{key} {host}:{port} cannot be used: {exc.strerror or exc}") from exc
    for sock in sockets:
        sock.close()


class _Base(tornado.web.RequestHandler):
    def initialize(self, ops: OpsServer) -> None:
        self.ops = ops

    def _answer(self, verdict: Verdict) -> None:
        self.set_status(200 if verdict.ok else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(verdict.json_line() + "\n")


class _Healthz(_Base):
    async def get(self) -> None:
        self._answer(Verdict())  # answering at all is the check: the event loop runs


class _Readyz(_Base):
    async def get(self) -> None:
        self._answer(await self.ops.ready())


class _Metrics(_Base):
    async def get(self) -> None:
        body = await self.ops.metrics_text()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)


class OpsServer:
    """Start with `await start()` inside the running loop; `await stop()` at shutdown."""

    def __init__(
        self, settings: OpsSettings, engine: Engine, heartbeats: Heartbeats, *, sends: bool = True
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.heartbeats = heartbeats
        # A process that sends nothing (role `bot`) is not made unready by the outbox.
        self.max_outbox_age = settings.max_outbox_age_seconds if sends else float("inf")
        self._server: tornado.httpserver.HTTPServer | None = None
        self._sockets: list[socket.socket] = []

    async def ready(self) -> Verdict:
        return await readiness(self.engine, self.heartbeats, max_outbox_age=self.max_outbox_age)

    async def metrics_text(self) -> bytes:
        try:
            shared = await asyncio.wait_for(asyncio.to_thread(self._read_shared), DB_TIMEOUT)
        except Exception as exc:  # the process's own metrics still answer
            logger.warning("metrics: shared gauges unavailable error=%s", type(exc).__name__)
            return metrics.exposition(None)
        return metrics.exposition(shared)

    def _read_shared(self) -> SharedGauges:
        with Session(self.engine) as session:
            return shared_gauges(session, now=utcnow())

    def bind(self) -> None:
        """Bind the listening socket now, before any Telegram work, so a bad address fails fast."""
        address = self.settings.address
        assert address is not None, "ops.listen is not set"
        host, port = address
        try:
            self._sockets = tornado.netutil.bind_sockets(port, address=host)
        except (OSError, socket.gaierror) as exc:
            raise OpsListenError(
                f"ops.listen {self.settings.listen} cannot be used: {exc.strerror or exc}"
            ) from exc

    async def start(self) -> None:
        """Serve on the bound socket from the running event loop."""
        if not self._sockets:
            self.bind()
        kwargs: dict[str, Any] = {"ops": self}
        app = tornado.web.Application(
            [
                (r"/healthz", _Healthz, kwargs),
                (r"/readyz", _Readyz, kwargs),
                (r"/metrics", _Metrics, kwargs),
            ],
            log_function=lambda handler: None,  # no access log: scrapes every few seconds
        )
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(self._sockets)
        logger.info("ops endpoints listening address=%s", self.settings.listen)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
        for sock in self._sockets:
            sock.close()  # already closed by stop() when the server ran
        self._sockets = []
