"""/healthz, /readyz and /metrics answered by the real `python -m bot run` process.

The process runs on its own PostgreSQL database so the test can make that
database refuse connections (ALLOW_CONNECTIONS false, sessions terminated)
and let it back in; the sender stalls on a real 429 from the fake Bot API.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot.ops import metrics
from bot.storage import outbox
from bot.storage.db import make_engine, session_scope
from bot.storage.models import utcnow
from tests.conftest import postgres_url
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer
from tests.support.process import (
    TOPICS_TOML,
    feed_toml,
    free_port,
    run,
    start_bot,
    stop_bot,
    write_config,
)
from tests.support.samples import serve_news

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

USER = 5151
PASSWORD = "pg-Pa55word-never-logged"


@pytest.fixture
def own_database() -> Iterator[tuple[str, sa.Engine]]:
    """A fresh PostgreSQL database (its URL carries a password trust auth ignores) and an
    admin engine on the server's default database to switch it off and on."""
    base = sa.engine.make_url(postgres_url())
    name = f"ops_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name, password=PASSWORD).render_as_string(hide_password=False)
    try:
        yield url, admin
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def set_reachable(admin: sa.Engine, url: str, reachable: bool) -> None:
    """Let the database accept connections, or refuse new ones and end the open ones."""
    name = sa.engine.make_url(url).database
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(reachable).lower()}'))
        if not reachable:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=:n"),
                {"n": name},
            )


def set_read_only(admin: sa.Engine, url: str, read_only: bool) -> None:
    """Make new sessions of the database read-only (a standby after a failover), or writable
    again; the open sessions end, so the bot's pool reconnects into the new state."""
    name = sa.engine.make_url(url).database
    change = "SET default_transaction_read_only = on" if read_only else "RESET ALL"
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" {change}'))
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=:n"),
            {"n": name},
        )


def poll(
    get: Callable[[], httpx.Response],
    until: Callable[[httpx.Response], bool],
    *,
    within: float = 30,
) -> httpx.Response:
    """GET until `until(answer)` holds (`within` seconds at most); return the last answer."""
    deadline = time.monotonic() + within
    answer: httpx.Response | None = None
    while time.monotonic() < deadline:
        try:
            answer = get()
            if until(answer):
                return answer
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting; last answer: {answer and answer.text}")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a text exposition, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_health_readiness_and_metrics_from_the_real_process(
    tmp_path: Path, server: FeedServer, tg: FakeTelegram, own_database: tuple[str, sa.Engine]
) -> None:
    url, admin = own_database
    serve_news(server)
    port = free_port()
    config = write_config(
        tmp_path,
        "[fetch]\nallow_private_networks = true\ninterval_seconds = 60\ntimeout_seconds = 5\n"
        f'[ops]\nlisten = "127.0.0.1:{port}"\nmax_outbox_age_seconds = 2\n'
        + TOPICS_TOML
        + feed_toml(server, "/feed.xml", "Local News"),
        database=url,
    )
    log = tmp_path / "bot.log"
    proc = start_bot(config, tg, log, LOG_FORMAT="json", LOG_LEVEL="DEBUG")
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> Callable[[], httpx.Response]:
        return lambda: httpx.get(base + path, timeout=10)

    def ok(answer: httpx.Response) -> bool:
        return answer.status_code == 200

    def failing(answer: httpx.Response) -> bool:
        return answer.status_code == 503

    try:
        assert poll(get("/healthz"), ok).json() == {"status": "ok"}
        assert poll(get("/readyz"), ok).json() == {"status": "ok"}
        healthy = run(["--config", str(config), "healthcheck"], tmp_path)
        assert healthy.returncode == 0, healthy.stderr
        assert json.loads(healthy.stdout) == {"status": "ok"}

        # A refresh tick ran to its end (fetch, parse, ingest with the dedup model): it is
        # timed, and the feed is ok in the shared gauges.
        def refreshed(answer: httpx.Response) -> bool:
            count = ("newsbrief_refresh_duration_seconds_count", (("role", "all"),))
            return samples(answer.text).get(count, 0) >= 1

        poll(get("/metrics"), refreshed)
        poll(get("/metrics"), lambda a: 'newsbrief_feeds{state="ok"} 1.0' in a.text)
        families = {f.name for f in text_string_to_metric_families(get("/metrics")().text)}
        named = {*metrics.SHARED_GAUGES, *metrics.PROCESS_METRICS, metrics.DATABASE_UP}
        assert named <= families, named - families

        # The database refuses connections: not ready, with the reason; alive all the same.
        set_reachable(admin, url, False)
        down = poll(get("/readyz"), failing)
        assert down.json()["status"] == "failing"
        assert down.json()["reason"].startswith("database: OperationalError")
        assert "\n" not in down.text.strip()
        assert ok(get("/healthz")())
        assert "newsbrief_database_up 0.0" in get("/metrics")().text
        unhealthy = run(["--config", str(config), "healthcheck"], tmp_path)
        assert unhealthy.returncode == 1 and "database" in unhealthy.stdout
        set_reachable(admin, url, True)
        assert poll(get("/readyz"), ok).json() == {"status": "ok"}

        # The sender stalls behind a 429: the oldest unsent message ages past its limit.
        tg.add_private_chat(USER)
        tg.fail_next("sendMessage", retry_after=4)
        engine = make_engine(url)
        with session_scope(engine) as session:
            message = outbox.NewMessage(USER, "broadcast", "ops-e2e-1", "Ops check")
            outbox.enqueue(session, [message], now=utcnow())
        engine.dispose()
        stalled = poll(get("/readyz"), failing)
        assert "oldest unsent outbox message" in stalled.json()["reason"]
        assert poll(get("/readyz"), ok).json() == {"status": "ok"}  # sent after the hold
        assert [m.text for m in tg.messages(USER)] == ["Ops check"]

        found = samples(get("/metrics")().text)
        sent = (
            "newsbrief_messages_sent_total",
            (("kind", "broadcast"), ("result", "sent"), ("role", "all")),
        )
        assert found[sent] == 1
        assert found[("newsbrief_telegram_429_total", (("role", "all"),))] == 1
        assert found[("newsbrief_refresh_duration_seconds_count", (("role", "all"),))] >= 1
        assert found[("newsbrief_outbox_pending_messages", ())] == 0
    finally:
        took = stop_bot(proc)
    output = log.read_text()
    assert proc.returncode == 0, output[-3000:]
    assert took < 10
    lines = output.splitlines()
    assert lines and all(json.loads(line)["level"] for line in lines)  # one JSON object a line
    assert any(json.loads(line).get("address") == f"127.0.0.1:{port}" for line in lines)
    assert tg.token not in output and PASSWORD not in output


def test_ops_address_in_use_ends_the_start_in_one_line(tmp_path: Path, tg: FakeTelegram) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = write_config(tmp_path, f'[ops]\nlisten = "127.0.0.1:{port}"\n')
        log = tmp_path / "bot.log"
        proc = start_bot(config, tg, log)
        proc.wait(timeout=60)
    assert proc.returncode == 2
    output = log.read_text()
    assert f"error: ops.listen 127.0.0.1:{port} cannot be used: " in output
    assert "Traceback" not in output


def test_a_database_that_stops_taking_writes_is_not_ready(
    tmp_path: Path, tg: FakeTelegram, own_database: tuple[str, sa.Engine]
) -> None:
    """Reads pass and empty claims write nothing, so only a write shows the problem: the
    sender's heartbeat is one, and a deliver round that cannot write is not a completed one."""
    url, admin = own_database
    port = free_port()
    config = write_config(tmp_path, f'[ops]\nlisten = "127.0.0.1:{port}"\n', database=url)
    log = tmp_path / "bot.log"
    proc = start_bot(config, tg, log)
    readyz = f"http://127.0.0.1:{port}/readyz"

    def get() -> httpx.Response:
        return httpx.get(readyz, timeout=10)

    def read_only(answer: httpx.Response) -> bool:
        return answer.status_code == 503 and "read-only" in answer.json()["reason"]

    try:
        poll(get, lambda a: a.status_code == 200)
        set_read_only(admin, url, True)
        reason = poll(get, read_only, within=120).json()["reason"]
        assert "deliver tick" in reason and "read-only transaction" in reason, reason
        set_read_only(admin, url, False)
        poll(get, lambda a: a.status_code == 200, within=120)
    finally:
        stop_bot(proc)
    assert proc.returncode == 0, log.read_text()[-3000:]


def test_not_ready_while_shutting_down(
    tmp_path: Path, tg: FakeTelegram, own_database: tuple[str, sa.Engine]
) -> None:
    """From SIGTERM on, /readyz says 503 "shutting down" while the last send finishes, so a
    load balancer stops routing before the process stops answering; nothing is lost."""
    import signal
    import threading
    from typing import Any

    from tests.support.fake_telegram.server import Fault

    url, _ = own_database
    port = free_port()
    config = write_config(tmp_path, f'[ops]\nlisten = "127.0.0.1:{port}"\n', database=url)
    proc = start_bot(config, tg, tmp_path / "bot.log")
    base = f"http://127.0.0.1:{port}"
    entered, release = threading.Event(), threading.Event()

    def hold_sends(method: str, params: dict[str, Any]) -> Fault | None:
        if method.lower() == "sendmessage":
            entered.set()
            release.wait(30)
        return None

    try:
        poll(lambda: httpx.get(f"{base}/readyz", timeout=10), lambda a: a.status_code == 200)
        tg.add_private_chat(USER)
        tg.set_fault_hook(hold_sends)
        engine = make_engine(url)
        with session_scope(engine) as session:
            message = outbox.NewMessage(USER, "broadcast", "ops-e2e-stop", "Last words")
            outbox.enqueue(session, [message], now=utcnow())
        engine.dispose()
        assert entered.wait(30), "the sender never sent"
        proc.send_signal(signal.SIGTERM)
        stopping = poll(
            lambda: httpx.get(f"{base}/readyz", timeout=10), lambda a: a.status_code == 503
        )
        assert stopping.json() == {"status": "failing", "reason": "shutting down"}
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200  # alive meanwhile
    finally:
        release.set()
        tg.set_fault_hook(None)
        stop_bot(proc)
    assert proc.returncode == 0, (tmp_path / "bot.log").read_text()[-3000:]
    assert [m.text for m in tg.messages(USER)] == ["Last words"]
