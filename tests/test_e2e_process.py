"""The real `python -m bot run` process against the fake Bot API and a local feed server."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, wait_until
from tests.support.process import (
    TOPICS_TOML,
    feed_toml,
    free_port,
    start_bot,
    stop_bot,
    write_config,
)
from tests.support.samples import NEWS_PARAGRAPHS, serve_news

USER = 4242

pytestmark = pytest.mark.slow


def news_config(tmp_path: Path, server: FeedServer, telegram: str = "") -> Path:
    """The bot's config for the local news feed; `telegram` is an optional [telegram] table."""
    return write_config(
        tmp_path,
        "[fetch]\nallow_private_networks = true\ninterval_seconds = 60\ntimeout_seconds = 5\n"
        '[briefing]\ntimes = ["08:00"]\ntimezone = "Europe/Berlin"\n'
        + TOPICS_TOML
        + feed_toml(server, "/feed.xml", "Local News")
        + telegram,
        database="bot.sqlite3",
    )


def _stories(path: Path) -> int:
    """Stories stored so far in the bot's SQLite file (read-only; 0 before it exists)."""
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM story").fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet, or locked for a moment
            return 0


def _extraction_workers(parent: int) -> list[int]:
    """The full-text extraction processes (`bot.services.articles`) of process `parent`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            status = (proc / "status").read_text()
            command = (proc / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue  # not a process, or gone meanwhile
        if f"\nPPid:\t{parent}\n" in status and b"bot.fulltext.article" in command:
            found.append(int(proc.name))
    return found


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def server(server: FeedServer) -> FeedServer:
    return serve_news(server)


def test_whole_path_through_the_real_process(
    tmp_path: Path, server: FeedServer, tg: FakeTelegram
) -> None:
    log = tmp_path / "bot.log"
    proc = start_bot(news_config(tmp_path, server), tg, log)
    try:
        tg.add_private_chat(USER)
        # The refresh tick fetches the feed shortly after start; on a busy machine the
        # parse and store can take seconds after the fetch: wait for the stories.
        tg.wait_for(lambda: server.hits["/feed.xml"] >= 1, timeout=30)
        tg.wait_for(lambda: _stories(tmp_path / "bot.sqlite3") >= 1, timeout=30)
        tg.send_text(USER, "/start")
        [welcome] = tg.wait_for(USER, 1, timeout=30)
        assert "Welcome" in welcome.text
        assert [c["command"] for c in tg.commands()][:2] == ["latest", "topics"]
        tg.press_button(USER, welcome.message_id, "tp:+world")
        tg.wait_for(lambda: tg.messages(USER)[0].buttons[0]["text"] == "✅ World", timeout=10)

        tg.send_text(USER, "/latest")
        latest = tg.wait_for(USER, 2, timeout=10)[1]
        assert "Latest 1 story · World" in latest.text and "tram line" in latest.text
        [tram] = latest.buttons  # subscribed to World: only the tram story is in it
        tg.press_button(USER, latest.message_id, tram["callback_data"])
        parts = tg.wait_for(USER, 3, timeout=20)[2:]
        text = "\n".join(m.text for m in parts)
        assert NEWS_PARAGRAPHS[0] in text
        # The page was read in one of the two extraction processes the bot started.
        workers = _extraction_workers(proc.pid)
        assert len(workers) == 2

        before = len(tg.messages(USER))
        tg.send_text(USER, "/stop")
        stopped = tg.wait_for(USER, before + 1, timeout=10)[-1]
        assert "Stopped" in stopped.text
    finally:
        took = stop_bot(proc)
    assert proc.returncode == 0, log.read_text()
    assert took < 10, f"SIGTERM took {took:.1f}s"
    assert all(_gone(pid) for pid in workers)  # stopped and reaped by the bot
    assert not tg.server_errors
    output = log.read_text()
    assert "Traceback" not in output, output
    assert tg.token not in output  # httpx request lines (with the token) stay quiet


def test_webhook_mode_answers_updates_posted_with_the_secret(
    tmp_path: Path, server: FeedServer, tg: FakeTelegram
) -> None:
    import httpx

    port = free_port()
    log = tmp_path / "bot.log"
    env_extra = {
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg-hook",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-token",
        "BOT_FULLTEXT__EXTRACT_WORKERS": "1",  # a small host's setting
    }
    telegram = f'[telegram]\nwebhook_listen = "127.0.0.1"\nwebhook_port = {port}\n'
    config = news_config(tmp_path, server, telegram)
    proc = start_bot(config, tg, log, **env_extra)
    try:
        tg.wait_for(lambda: tg.webhook_url == "https://bot.example.org/tg-hook", timeout=30)
        tg.add_private_chat(USER)
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": USER, "type": "private", "first_name": "Test"},
                "from": {"id": USER, "is_bot": False, "first_name": "Test"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        url = f"http://127.0.0.1:{port}/tg-hook"
        for _ in range(50):  # the server may still be starting
            try:
                forged = httpx.post(url, json=update, timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.2)
        assert forged.status_code == 403  # no secret header: refused
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
        accepted = httpx.post(url, json=update, headers=headers, timeout=5)
        assert accepted.status_code == 200
        [reply] = tg.wait_for(USER, 1, timeout=15)
        assert "/latest" in reply.text
        # Started before the bot answered anything: as many as the setting asks.
        assert len(_extraction_workers(proc.pid)) == 1
    finally:
        took = stop_bot(proc)
    assert proc.returncode == 0, log.read_text()
    assert took < 10


def test_a_second_poller_is_one_line_that_says_what_to_do(tmp_path: Path, tg: FakeTelegram) -> None:
    """Two `--role bot` processes long-polling one token: Telegram answers 409 Conflict."""
    config = write_config(tmp_path, '[dedup]\nmethod = "lexical"\n')
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    first = start_bot(config, tg, logs[0], "--role", "bot")
    second = None
    try:
        tg.wait_for(lambda: tg.stats.by_method["getUpdates"] >= 1, timeout=60)
        second = start_bot(config, tg, logs[1], "--role", "bot")
        conflict = "Conflict: terminated by other getUpdates request"
        assert wait_until(lambda: any(conflict in log.read_text() for log in logs), timeout=60)
    finally:
        stop_bot(first)
        if second is not None:
            stop_bot(second)
    for log in logs:
        output = log.read_text()
        assert "Traceback" not in output and "unhandled error" not in output, output[-3000:]
    said = "".join(log.read_text() for log in logs)
    assert "another process polls with this bot token" in said


def test_telegram_502s_on_get_updates_are_one_line_each_and_no_admin_alert(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    """Telegram answers getUpdates with 502 Bad Gateway now and then; PTB polls again by
    itself. That is a warning line, not an "unhandled error" traceback and a 🐞 to admins."""
    config = write_config(tmp_path, f'[telegram]\nadmins = [{USER}]\n[dedup]\nmethod = "lexical"\n')
    log = tmp_path / "bot.log"
    tg.add_private_chat(USER)
    proc = start_bot(config, tg, log, "--role", "bot")
    try:
        tg.wait_for(lambda: tg.stats.by_method["getUpdates"] >= 1, timeout=60)
        polls = tg.stats.by_method["getUpdates"]
        tg.fail_next("getUpdates", 2, status=502, description="Bad Gateway")
        tg.wait_for(lambda: tg.stats.by_method["getUpdates"] >= polls + 3, timeout=60)
        tg.send_text(USER, "/help")
        tg.wait_for(lambda: any("/latest" in t for t in tg.texts(USER)), timeout=60)
    finally:
        stop_bot(proc)
    output = log.read_text()
    assert "Traceback" not in output and "unhandled error" not in output, output[-3000:]
    assert output.count("Telegram did not answer getUpdates, polling again: Bad Gateway") == 2
    assert not any("NetworkError" in text for text in tg.texts(USER))


@pytest.mark.parametrize("role", ["bot", "worker"])
def test_a_token_revoked_while_running_ends_the_process_with_exit_code_2(
    tmp_path: Path, tg: FakeTelegram, role: str
) -> None:
    """The token is revoked at @BotFather while the bot runs: PTB's polling gives up for
    good, and a worker's sends would be retried for an hour, then failed; the process must
    not run on, but end as a refused token at start does (one line, exit code 2), cleanly."""
    config = write_config(tmp_path, '[dedup]\nmethod = "lexical"\n')
    log = tmp_path / "bot.log"
    old_token = tg.token
    proc = start_bot(config, tg, log, "--role", role)
    try:
        tg.wait_for(lambda: "started role=" in log.read_text(), timeout=60)
        if role == "bot":
            tg.wait_for(lambda: tg.stats.by_method["getUpdates"] >= 1, timeout=60)
        tg.token = "123456789:AAAnotherTokenAfterTheRevoke_abcdefg"
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            stop_bot(proc)
    output = log.read_text()
    assert proc.returncode == 2, output[-3000:]
    assert output.count("refused the bot token while running") == 1
    assert "Event loop is closed" not in output and "was destroyed" not in output, output[-3000:]
    assert old_token not in output


def test_a_webhook_port_in_use_ends_the_start_in_one_line(tmp_path: Path, tg: FakeTelegram) -> None:
    import socket

    with socket.socket() as busy:  # another program already listens on the webhook port
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        telegram = f'[telegram]\nwebhook_listen = "127.0.0.1"\nwebhook_port = {port}\n'
        config = write_config(tmp_path, '[dedup]\nmethod = "lexical"\n' + telegram)
        log = tmp_path / "bot.log"
        env = {
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg-hook",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret-token",
        }
        proc = start_bot(config, tg, log, **env)
        proc.wait(timeout=60)
    output = log.read_text()
    assert proc.returncode == 2, output[-3000:]
    assert f"127.0.0.1:{port} cannot be used: Address already in use" in output
    assert "Traceback" not in output
