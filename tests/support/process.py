"""Run `python -m bot ...` as a real process: one-shot commands, or the long-running bot.

Every helper drops BOT_* and DATABASE_* from the environment so a developer's own settings
never leak into a test; the config file written by `write_config` is the only input.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer

# Topics most config files here use; `tech` matches by keyword so preview --topic has work.
TOPICS_TOML = """
[[topics]]
slug = "world"
name = "World"
[[topics]]
slug = "tech"
name = "Technology"
keywords = ["semiconductor"]
"""


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without BOT_*/DATABASE_* variables, plus `env`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    environ.update(env)
    return environ


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one `python -m bot` command to completion and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_config(tmp_path: Path, body: str, *, database: str = "db.sqlite3") -> Path:
    """Write tmp_path/config.toml: a [database] section, then `body` (TOML) as given.

    `database` is a file name in tmp_path, or a full SQLAlchemy URL.
    """
    url = database if "://" in database else f"sqlite:///{tmp_path / database}"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n{body}', encoding="utf-8")
    return config


def feed_toml(server: FeedServer, path: str, name: str, topics: tuple[str, ...] = ()) -> str:
    """One [[feeds]] table for a feed the local server serves at `path`."""
    table = f'[[feeds]]\nurl = "{server.url(path)}"\nname = "{name}"\n'
    if topics:
        table += "topics = [" + ", ".join(f'"{t}"' for t in topics) + "]\n"
    return table


def start_bot(
    config: Path, tg: FakeTelegram, log: Path, *args: str, **extra_env: str
) -> subprocess.Popen[bytes]:
    """Start `python -m bot --config CONFIG run ARGS` against the fake Bot API; output to `log`."""
    env = clean_env(TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_BASE_URL=tg.base_url, **extra_env)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run", *args],
        cwd=config.parent,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def stop_bot(proc: subprocess.Popen[bytes], *, timeout: float = 20) -> float:
    """SIGTERM (SIGKILL after `timeout`) and return how long the process took to exit."""
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return time.monotonic() - began


def free_port() -> int:
    """A loopback port nothing listens on right now (for a server the test starts, or refusal)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
