"""Ops pieces in-process: readiness rules, shared gauges, log formats and masking, settings."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cli.main import main
from bot.ops import logs, metrics
from bot.ops.health import Heartbeats, Verdict, database_problems
from bot.settings import SettingsError, load_settings
from bot.storage import outbox
from bot.storage.db import make_engine, session_scope
from bot.storage.gauges import shared_gauges
from bot.storage.models import Chat, Feed, FloodHold, utcnow

Capture = pytest.CaptureFixture[str]
TOKEN = "123456789:AAH-secret_token_value_0123456789abcdef"
PASSWORD = "Db-Pa55-word"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_tick_is_stale_after_three_intervals_without_completing() -> None:
    clock = Clock()
    beats = Heartbeats(clock=clock, started=0.0)
    beats.expect("deliver", 6.0)
    beats.expect("refresh", 30.0)
    clock.now = 17.0
    assert beats.problems() == []
    clock.now = 19.0
    assert beats.problems() == ["deliver tick has not completed since start 19s ago (limit 18s)"]
    beats.beat("deliver")
    clock.now = 36.0
    assert beats.problems() == []
    clock.now = 91.0
    assert beats.problems() == [
        "deliver tick last completed 72s ago (limit 18s)",
        "refresh tick has not completed since start 91s ago (limit 90s)",
    ]


def test_a_tick_that_fails_says_why_once_it_is_stale() -> None:
    now = [0.0]
    beats = Heartbeats(clock=lambda: now[0], started=0.0)
    beats.expect("deliver", 6)
    beats.beat("deliver")
    beats.fail("deliver", "database: database or disk is full")
    now[0] = 10.0
    assert beats.problems() == []  # not stale yet: one failed round is no verdict
    now[0] = 19.0
    assert beats.problems() == [
        "deliver tick last completed 19s ago (limit 18s): database: database or disk is full"
    ]
    beats.beat("deliver")  # it works again: no reason left over
    now[0] = 40.0
    assert beats.problems() == ["deliver tick last completed 21s ago (limit 18s)"]


def test_a_process_shutting_down_is_not_ready_whatever_its_ticks_did() -> None:
    beats = Heartbeats(clock=lambda: 1.0, started=0.0)
    beats.expect("deliver", 6.0)
    beats.beat("deliver")
    assert beats.problems() == []
    beats.stop()
    assert beats.problems() == ["shutting down"]
    beats.beat("deliver")  # the last round finishing does not make it ready again
    assert beats.problems() == ["shutting down"]


def test_verdict_is_one_line_of_json() -> None:
    assert Verdict().json_line() == '{"status": "ok"}'
    bad = json.loads(Verdict(("database: down", "deliver tick …")).json_line())
    assert bad == {"status": "failing", "reason": "database: down; deliver tick …"}


def seed(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as s:
        s.add(Feed(url="https://a.example/rss"))
        s.add(Feed(url="https://b.example/rss", consecutive_failures=2))
        s.add(Feed(url="https://c.example/rss", paused=True, consecutive_failures=10))
        s.add(Feed(url="https://d.example/rss", enabled=False))
        for i, (mode, active, stopped) in enumerate(
            [
                ("scheduled", True, False),
                ("instant", True, False),
                ("instant", True, False),
                ("scheduled", False, False),
                ("off", True, True),
            ]
        ):
            s.add(
                Chat(
                    id=i + 1,
                    mode=mode,
                    active=active,
                    stopped=stopped,
                    created_at=now,
                    updated_at=now,
                )
            )
        s.add(FloodHold(scope="global", until=now + timedelta(seconds=30)))
        messages = [outbox.NewMessage(1, "briefing", f"k{i}", "x") for i in range(3)]
        outbox.enqueue(s, messages, now=now - timedelta(minutes=10))


def test_shared_gauges_come_from_the_database(engine: Engine) -> None:
    seed(engine)
    with Session(engine) as s:
        g = shared_gauges(s, now=utcnow())
    assert g.feeds == {"ok": 1, "failing": 1, "paused": 1}
    assert g.active_chats == {"scheduled": 1, "instant": 2, "off": 0}
    assert g.outbox_pending == 3
    assert 599 < g.oldest_pending_age < 700
    assert 0 < g.flood_hold <= 30
    assert database_problems(engine, max_outbox_age=3600, now=utcnow()) == []
    [problem] = database_problems(engine, max_outbox_age=60, now=utcnow())
    assert problem.startswith("oldest unsent outbox message is 6")

    families = {f.name: f for f in text_string_to_metric_families(metrics.exposition(g).decode())}
    for name in metrics.SHARED_GAUGES:
        assert "shared by all processes" in families[name].documentation
    feeds = {s.labels["state"]: s.value for s in families["newsbrief_feeds"].samples}
    assert feeds == {"ok": 1, "failing": 1, "paused": 1}
    assert families["newsbrief_database_up"].samples[0].value == 1


def test_counters_carry_the_process_role() -> None:
    metrics.set_role("worker")
    try:
        metrics.count_message("briefing", "sent")
        metrics.count_fulltext(hit=True)
        text = metrics.exposition(None).decode()
    finally:
        metrics.set_role("cli")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(metrics.PROCESS_METRICS) <= set(families)
    assert not set(metrics.SHARED_GAUGES) & set(families)  # no database: no shared gauges
    sent = [
        s
        for s in families["newsbrief_messages_sent"].samples
        if s.labels == {"role": "worker", "kind": "briefing", "result": "sent"}
        and s.name.endswith("_total")
    ]
    assert sent[0].value >= 1
    assert families["newsbrief_database_up"].samples[0].value == 0


def test_a_database_that_is_not_there_is_a_readiness_problem(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.sqlite3'}")
    [problem] = database_problems(engine, max_outbox_age=60, now=utcnow())
    assert problem.startswith("database: OperationalError: unable to open database file")


@pytest.fixture
def log_output(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Our log handler writes to the sys.stderr of the moment, which capsys captures."""
    root = logging.getLogger()
    level = root.level
    yield capsys
    root.setLevel(level)


def emit_secrets(fmt: str, capsys: pytest.CaptureFixture[str]) -> str:
    logs.configure_logging({"LOG_FORMAT": fmt, "LOG_LEVEL": "DEBUG"})
    logs.mask_secrets([TOKEN, PASSWORD, None, ""])
    capsys.readouterr()
    log = logging.getLogger("bot.test")
    log.info("calling url=https://api.telegram.org/bot%s/getMe chat_id=%d", TOKEN, 7)
    log.warning("cannot open database url=postgresql://bot:%s@db/x", PASSWORD)
    log.debug("other token 987654321:%s seen", "B" * 35)
    try:
        raise RuntimeError(f"boom with {TOKEN} and {PASSWORD}")
    except RuntimeError:
        log.exception("failed where=job")
    return capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_no_token_or_password_in_either_log_format(
    fmt: str, log_output: pytest.CaptureFixture[str]
) -> None:
    text = emit_secrets(fmt, log_output)
    assert "boom with" in text and "***" in text
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    assert PASSWORD not in text and "B" * 35 not in text


def test_json_logs_one_object_a_line_with_the_context_fields(
    log_output: pytest.CaptureFixture[str],
) -> None:
    lines = emit_secrets("json", log_output).splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 4
    first = records[0]
    assert set(first) >= {"time", "level", "logger", "message", "url", "chat_id"}
    assert (first["level"], first["logger"], first["chat_id"]) == ("INFO", "bot.test", "7")
    assert first["url"] == "https://api.telegram.org/bot***/getMe"
    assert records[3]["where"] == "job" and "RuntimeError" in records[3]["exc"]


def test_log_level_and_bad_log_settings(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    level = root.level
    logs.configure_logging({"LOG_LEVEL": "warning"})
    assert root.level == logging.WARNING
    root.setLevel(level)
    assert main(["migrate"], {"LOG_FORMAT": "xml"}) == 2
    assert 'LOG_FORMAT must be plain or json, got "xml"' in capsys.readouterr().err
    assert main(["migrate"], {"LOG_LEVEL": "loud"}) == 2
    assert "LOG_LEVEL must be one of" in capsys.readouterr().err


def test_ops_listen_is_off_by_default_and_set_by_either_env_name() -> None:
    assert load_settings(None, {}).ops.address is None
    assert load_settings(None, {"BOT_OPS_LISTEN": ":9090"}).ops.address == ("0.0.0.0", 9090)
    both = load_settings(None, {"BOT_OPS__LISTEN": "127.0.0.1:9100"})
    assert both.ops.address == ("127.0.0.1", 9100)
    with pytest.raises(SettingsError, match=r"ops\.listen"):
        load_settings(None, {"BOT_OPS_LISTEN": "localhost:http"})


def test_healthcheck_without_endpoint_checks_database_and_outbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = {"DATABASE_URL": url, "BOT_OPS__MAX_OUTBOX_AGE_SECONDS": "60"}
    assert main(["migrate"], env) == 0
    capsys.readouterr()
    assert main(["healthcheck"], env) == 0
    assert json.loads(capsys.readouterr().out) == {"status": "ok"}
    engine = make_engine(url)
    with session_scope(engine) as s:
        old = [outbox.NewMessage(1, "briefing", "old", "x")]
        outbox.enqueue(s, old, now=utcnow() - timedelta(minutes=5))
    engine.dispose()
    assert main(["healthcheck"], env) == 1
    assert "oldest unsent outbox message" in json.loads(capsys.readouterr().out)["reason"]
    nothing = {"DATABASE_URL": url, "BOT_OPS_LISTEN": "127.0.0.1:9"}  # nobody listens there
    assert main(["healthcheck"], nothing) == 1
    assert "no answer at http://127.0.0.1:9/readyz" in capsys.readouterr().out


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_a_tick_skipped_while_its_last_run_goes_on_is_not_a_warning(
    level: str, shown: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES
    from apscheduler.schedulers.background import BackgroundScheduler

    root = logging.getLogger()
    before = root.level
    logs.configure_logging({"LOG_LEVEL": level})
    capsys.readouterr()
    skipped = threading.Event()
    release = threading.Event()
    scheduler = BackgroundScheduler()
    scheduler.add_listener(lambda _event: skipped.set(), EVENT_JOB_MAX_INSTANCES)
    # One instance at a time, as our ticks run: the second run comes while the first waits.
    scheduler.add_job(release.wait, "interval", seconds=0.05, max_instances=1, args=(10,))
    scheduler.start()
    try:
        assert skipped.wait(10), "APScheduler never skipped a run"
    finally:
        release.set()
        scheduler.shutdown()
        root.setLevel(before)
    err = capsys.readouterr().err
    assert ("maximum number of running instances reached" in err) is shown
    assert "WARNING apscheduler" not in err


def test_a_job_cancelled_at_stop_is_not_an_error_and_a_failing_job_still_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """APScheduler's asyncio executor cancels running jobs at shutdown and logged each as
    "Error running job" with a CancelledError traceback (a worker stopped mid-getMe)."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    root = logging.getLogger()
    before = root.level
    logs.configure_logging({"LOG_LEVEL": "INFO"})
    capsys.readouterr()

    async def scenario() -> None:
        started = asyncio.Event()

        async def hangs() -> None:
            started.set()
            await asyncio.Event().wait()

        async def fails() -> None:
            raise ValueError("a real job error")

        scheduler = AsyncIOScheduler()
        scheduler.add_job(hangs)
        scheduler.add_job(fails)
        scheduler.start()
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(0.2)  # the failing job has run and been logged
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0.2)  # the cancelled job's callback runs

    try:
        asyncio.run(scenario())
    finally:
        root.setLevel(before)
    err = capsys.readouterr().err
    assert "ValueError: a real job error" in err
    assert "CancelledError" not in err and "Error running job" not in err
