"""The `fetch`, `preview` and `migrate` commands as a user runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer
from tests.support.process import TOPICS_TOML, feed_toml, free_port, run, write_config
from tests.support.samples import serve_outlets


def outlets_config(tmp_path: Path, server: FeedServer) -> Path:
    serve_outlets(server)
    return write_config(
        tmp_path,
        "[fetch]\nallow_private_networks = true\ntimeout_seconds = 5\n"
        + TOPICS_TOML
        + feed_toml(server, "/a.xml", "Outlet A", ("world",))
        + feed_toml(server, "/b.xml", "Outlet B", ("world",))
        + feed_toml(server, "/broken.xml", "Broken"),
    )


def test_fetch_then_preview(tmp_path: Path, server: FeedServer) -> None:
    config = outlets_config(tmp_path, server)
    fetched = run(["--config", str(config), "fetch"], tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    lines = fetched.stdout.splitlines()
    assert lines[0].split() == ["feed", "new", "stories", "merged", "304", "error"]
    rows = {r[0]: r for r in (re.split(r"\s{2,}", line) for line in lines[1:] if line)}
    assert rows["Outlet A"][1] == "3" and rows["Outlet B"][1] == "2"
    # Qamishli ran in both: one of the two outlets merged it into the other's story
    assert {rows["Outlet A"][3], rows["Outlet B"][3]} == {"0", "1"}
    assert "HTTP 500" in next(line for line in lines if line.startswith("Broken"))
    assert "3 feeds, 5 new entries, 4 new stories, 1 merged duplicate, 1 failed" in fetched.stdout

    preview = run(["--config", str(config), "preview", "--limit", "10"], tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert "Latest 4 stories" in preview.stdout
    assert "also Outlet" in preview.stdout  # the merged story names the other outlet
    tech = run(["--config", str(config), "preview", "--topic", "tech"], tmp_path)
    assert "semiconductor plant" in tech.stdout and "Qamishli" not in tech.stdout


def test_bad_config_and_database_exit_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[fetch]\ninterval_seconds = "ten"\n', encoding="utf-8")
    result = run(["--config", str(bad), "fetch"], tmp_path)
    assert result.returncode == 2
    assert 'fetch.interval_seconds must be a positive integer, got "ten"' in result.stderr
    assert "Traceback" not in result.stderr

    result = run(["fetch"], tmp_path, DATABASE_URL="sqlite:////nonexistent/dir/x.db")
    assert result.returncode == 3 and "cannot open database" in result.stderr
    assert "the folder /nonexistent/dir does not exist" in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr

    refused = f"postgresql+psycopg://postgres:pw@127.0.0.1:{free_port()}/test"
    result = run(["migrate"], tmp_path, DATABASE_URL=refused)
    assert result.returncode == 3 and "Connection refused" in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr

    result = run(["preview", "--topic", "nope"], tmp_path)
    assert result.returncode == 2 and 'unknown topic "nope"' in result.stderr


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    for _ in range(2):
        result = run(["migrate"], tmp_path, DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        assert "is up to date" in result.stdout


def test_a_database_from_a_newer_release_explains_in_one_line(tmp_path: Path) -> None:
    """Rolled back after an upgrade: the schema's revision is one this code does not know."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'newer.sqlite3'}"
    assert run(["migrate"], tmp_path, DATABASE_URL=url).returncode == 0
    with sqlite3.connect(tmp_path / "newer.sqlite3") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = run(["migrate"], tmp_path, DATABASE_URL=url)
    assert result.returncode == 3, result.stderr[-2000:]
    assert result.stderr.strip().count("\n") == 0, result.stderr[-2000:]
    assert "'9999'" in result.stderr and "a newer version has migrated it" in result.stderr


def test_run_without_token_explains_in_one_line(tmp_path: Path) -> None:
    result = run(["run"], tmp_path, TELEGRAM_BOT_TOKEN="")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "TELEGRAM_BOT_TOKEN" in result.stderr


@pytest.mark.parametrize("role", ["all", "worker"])
def test_run_with_a_token_the_bot_api_refuses_explains_in_one_line(
    tmp_path: Path, tg: FakeTelegram, role: str
) -> None:
    wrong = tg.token[:-4] + "wxyz"  # a typo in the token @BotFather gave
    args = ["run", "--role", role]
    result = run(args, tmp_path, TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=tg.base_url)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().count("\n") == 0, result.stderr[-2000:]
    assert "refused the bot token" in result.stderr and "TELEGRAM_BOT_TOKEN" in result.stderr
    assert wrong not in result.stderr + result.stdout


def test_run_on_a_database_it_cannot_open_never_calls_telegram(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    """A supervisor restarts a failed start again and again: none of them may reach out."""
    env = {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": tg.base_url}
    result = run(["run"], tmp_path, DATABASE_URL="sqlite:////nonexistent/dir/x.db", **env)
    assert result.returncode == 3, result.stderr[-2000:]
    assert tg.stats.requests == 0


def test_run_with_the_bot_api_unreachable_explains_in_one_line(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}/bot"  # nothing listens there
    token = "123456789:AAFakeTokenNobodyAnswersFor_abcdefgh"
    result = run(["run"], tmp_path, TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_BASE_URL=base)
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip().count("\n") == 0, result.stderr[-2000:]
    assert f"cannot reach the Bot API at {base}" in result.stderr
    assert token not in result.stderr + result.stdout


def test_entry_point_sets_the_gc_thresholds(tmp_path: Path) -> None:
    """`python -m bot ...` raises the young-generation threshold before any command runs."""
    import gc

    from bot.cli.main import main

    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's default
    try:
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'gc.sqlite3'}", "HOME": str(tmp_path)}
        assert main(["migrate"], env) == 0
        assert gc.get_threshold() != (700, 10, 10)
        from bot.ops.gc_policy import GC_THRESHOLDS

        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)
