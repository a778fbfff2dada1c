"""Settings through pydantic-settings: every bad value is one line naming the key,
the BOT_<SECTION>__<KEY> environment rule, *_FILE secrets, precedence, and
`--config` on either side of the verb."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

REPO = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAHsuperSecretTokenValue"
DB_PASSWORD = "pw-Very-Secret-42"


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(SettingsError) as info:
        load_settings(path, environ or {})
    message = str(info.value)
    assert "\n" not in message and message.strip() == message
    assert "Traceback" not in message and "pydantic" not in message.lower()
    return message


# ---------------------------------------------------------------- the file itself


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[telegram]\ntoken = "caf\xe9"\n'.encode("latin-1"))
    message = refused(path)
    assert str(path) in message and "not UTF-8" in message and "0xe9" in message


def test_file_that_is_a_directory(tmp_path: Path) -> None:
    assert refused(tmp_path) == f"config file {tmp_path} is a directory, not a file"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_file_that_is_unreadable(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    path.chmod(0)
    try:
        assert "cannot be read: permission denied" in refused(path)
    finally:
        path.chmod(0o600)


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "[fetch]\ninterval_seconds = 5\noops = = 1\n[briefing]\n"))
    assert "is not valid TOML" in message and "line 3" in message


# ---------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[briefing]\ntimezone = "Europe"',
            'briefing.timezone must be an IANA time zone such as Europe/London, got "Europe"',
        ),
        (
            '[[topics]]\nslug = "a"\n[[feeds]]\nurl = "https://x.example/rss"\ntopics = [["a"]]',
            'feeds[0].topics must hold topic slugs (strings), got "["a"]" at position 0',
        ),
        (
            '[database]\nurl = "postgresql://u:p@h:abc/db"',
            "database.url has a port that is not a number from 0 to 65535,"
            ' got "postgresql://u:***@h:abc/db"',
        ),
        (
            "[fetch]\nintervall_seconds = 600",
            "unknown key `fetch.intervall_seconds`, did you mean `fetch.interval_seconds`?",
        ),
        ("[fech]\ninterval_seconds = 600", "unknown key `fech`, did you mean `fetch`?"),
        (
            '[[topics]]\nslug = "a"\nkeyword = ["x"]',
            "unknown key `topics[0].keyword`, did you mean `topics[0].keywords`?",
        ),
        (
            "[fetch]\ninterval_seconds = 0",
            'fetch.interval_seconds must be a positive integer, got "0"',
        ),
        (
            "[delivery]\nmessages_per_second = -1.5",
            'delivery.messages_per_second must be a positive number, got "-1.5"',
        ),
        ("[fetch]\nmax_per_host = true", "fetch.max_per_host must be a number, not true/false"),
        ('[briefing]\ntimes = ["7:30"]', 'briefing.times must be a list of "HH:MM" times'),
        ('[briefing]\ntimes = ["24:00"]', 'briefing.times must be a list of "HH:MM" times'),
        ('[[topics]]\nslug = "a"\n[[topics]]\nslug = "a"', 'topics[1].slug "a" is defined twice'),
        (
            '[[feeds]]\nurl = "https://x.example/rss"\ntopics = ["nope"]',
            'feeds[0].topics names unknown topic "nope" (topics: none defined)',
        ),
        (
            '[telegram]\nwebhook_url = "https://bot.example/hook"',
            "telegram.webhook_secret is required when telegram.webhook_url is set",
        ),
        (
            '[telegram]\nwebhook_url = "https://bot.example/hook"\nwebhook_secret = "a b!"',
            "telegram.webhook_secret must be 1-256 characters of A-Z a-z 0-9 _ -"
            " (contains ' !'), got \"***\"",
        ),
        (
            f'[telegram]\nwebhook_url = "https://bot.example/hook"\nwebhook_secret = "{"x" * 257}"',
            "telegram.webhook_secret must be 1-256 characters of A-Z a-z 0-9 _ -"
            ' (is 257 characters long), got "***"',
        ),
        (
            '[telegram]\nwebhook_url = "http://bot.example/hook"\nwebhook_secret = "s"',
            "telegram.webhook_url must be an https URL",
        ),
        ("fetch = 5", '[fetch] must be a table, got "5"'),
        ("[fulltext]\nmax_messages = 50", 'fulltext.max_messages must be at most 20, got "50"'),
        ('[[feeds]]\nname = "x"', "feeds[0].url is required"),
    ],
)
def test_bad_value_is_one_line_naming_key_and_value(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in refused(write(tmp_path, text))


NEW_KEYS = {
    "fetch": {"max_entries": 200, "parse_timeout_seconds": 30.0},
    "fulltext": {
        "max_bytes": 2_000_000,
        "timeout_seconds": 15.0,
        "extract_timeout_seconds": 10.0,
        "extract_workers": 2,
        "max_messages": 10,  # long articles arrive whole (issue 11)
    },
    "limits": {"commands_per_minute": 20, "taps_per_minute": 40, "fulltext_per_minute": 6},
    "retention": {"outbox_days": 14, "stories_days": 30, "articles_days": 7, "audit_days": 365},
}


def test_new_keys_have_the_agreed_defaults() -> None:
    settings = load_settings(None, {})
    for section, keys in NEW_KEYS.items():
        for key, default in keys.items():
            value = getattr(getattr(settings, section), key)
            assert value == default and type(value) is type(default), (section, key)


@pytest.mark.parametrize(("section", "key"), [(s, k) for s, keys in NEW_KEYS.items() for k in keys])
@pytest.mark.parametrize("bad", ["0", "-3"])
def test_new_keys_must_be_positive(tmp_path: Path, section: str, key: str, bad: str) -> None:
    message = refused(write(tmp_path, f"[{section}]\n{key} = {bad}\n"))
    assert message.startswith(f"{section}.{key} must be a positive")
    assert f'got "{bad}"' in message
    # The same rule holds when the value comes from the environment.
    env_message = refused(None, {f"BOT_{section.upper()}__{key.upper()}": bad})
    assert env_message.startswith(f"{section}.{key} must be a positive")


def test_several_problems_stay_on_one_line(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "[fetch]\ninterval_seconds = 0\nmax_bytes = -1\n"))
    assert "fetch.interval_seconds" in message and "fetch.max_bytes" in message


# ---------------------------------------------------------------- secrets never shown


@pytest.mark.parametrize(
    "text",
    [
        f'[telegram]\ntoken = "{TOKEN}"\nwebhook_url = "https://b.example/h"',
        f'[telegram]\ntoken = "{TOKEN}"\n[database]\nurl = "postgresql://u:{DB_PASSWORD}@h:x/db"',
        f'[telegram]\ntoken = "{TOKEN}"\n[database]\nurl = "mysql://u:{DB_PASSWORD}@h/db"',
        f'[database]\nurl = "postgres://u:{DB_PASSWORD}@h:99999/db"\n[fetch]\nmax_bytes = 0',
        f"[telegram]\ntoken = {TOKEN.split(':')[0]}\n",
        f'[telegram]\ntoken = ["{TOKEN}"]\n',
    ],
)
def test_messages_never_contain_token_or_db_password(tmp_path: Path, text: str) -> None:
    message = refused(write(tmp_path, text))
    assert TOKEN not in message and TOKEN.split(":")[1] not in message
    assert DB_PASSWORD not in message


def test_env_secrets_are_not_echoed_either() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_URL": f"postgresql://u:{DB_PASSWORD}@h:abc/db",
        "BOT_TELEGRAM__WEBHOOK_URL": "https://b.example/h",
    }
    message = refused(None, env)
    assert TOKEN not in message and DB_PASSWORD not in message
    assert message.startswith("database.url has a port that is not a number")


# ---------------------------------------------------------------- environment rule


def test_bot_section_key_rule_sets_any_key() -> None:
    env = {
        "BOT_FETCH__INTERVAL_SECONDS": "600",
        "BOT_FETCH__ALLOW_PRIVATE_NETWORKS": "true",
        "BOT_FULLTEXT__MAX_MESSAGES": "5",
        "BOT_RETENTION__AUDIT_DAYS": "30",
        "BOT_DELIVERY__MESSAGES_PER_SECOND": "12.5",
        "BOT_BRIEFING__TIMEZONE": "Europe/Berlin",
        "BOT_TELEGRAM__ADMINS": "[7, 8]",
    }
    settings = load_settings(None, env)
    assert settings.fetch.interval_seconds == 600
    assert settings.fetch.allow_private_networks is True
    assert settings.fulltext.max_messages == 5
    assert settings.retention.audit_days == 30
    assert settings.delivery.messages_per_second == 12.5
    assert settings.briefing.timezone == "Europe/Berlin"
    assert settings.telegram.admins == (7, 8)


@pytest.mark.parametrize("value", ['["19:00","07:00"]', "19:00, 07:00", "07:00,19:00"])
def test_briefing_times_from_env_as_json_or_comma_list(value: str) -> None:
    settings = load_settings(None, {"BOT_BRIEFING__TIMES": value})
    assert settings.briefing.times == ("07:00", "19:00")


def test_unknown_env_key_gets_a_suggestion() -> None:
    message = refused(None, {"BOT_FETCH__INTERVALL_SECONDS": "600"})
    assert (
        message == "unknown key `fetch.intervall_seconds`, did you mean `fetch.interval_seconds`?"
    )


def test_unknown_env_section_is_refused_too() -> None:
    assert refused(None, {"BOT_FETHC__INTERVAL_SECONDS": "600"}) == (
        "unknown key `fethc` (from BOT_FETHC__INTERVAL_SECONDS), did you mean `fetch`?"
    )
    # Plain BOT_ variables without a section are not settings and stay untouched.
    assert load_settings(None, {"BOT_SOMETHING_ELSE": "x"}).fetch.interval_seconds == 900


def test_bad_env_value_names_the_key() -> None:
    assert refused(None, {"BOT_FETCH__INTERVAL_SECONDS": "soon"}) == (
        'fetch.interval_seconds must be a positive integer, got "soon"'
    )
    assert refused(None, {"BOT_BRIEFING__TIMES": "[07:00"}).startswith(
        "briefing.times is not a JSON list"
    )
    assert refused(None, {"BOT_FETCH": "{oops"}).startswith("BOT_FETCH must be a JSON object")


def test_historical_names_keep_working() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        "TELEGRAM_WEBHOOK_URL": "https://b.example/h",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret_-OK",
        "BOT_ADMINS": "10, 20",
        "DATABASE_URL": "postgres://u:p@db:5432/news",
        "BOT_ALLOW_PRIVATE_NETWORKS": "yes",
        "BOT_CONFIG": "ignored-here.toml",
    }
    settings = load_settings(None, env)
    assert settings.telegram.token == TOKEN
    assert settings.telegram.api_base_url == "http://127.0.0.1:9/bot"
    assert settings.telegram.webhook_url == "https://b.example/h"
    assert settings.telegram.webhook_secret == "s3cret_-OK"
    assert settings.telegram.admins == (10, 20)
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/news"
    assert settings.fetch.allow_private_networks is True


def test_secret_files(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "db").write_text("postgres://u:p@db/news\n")
    (tmp_path / "hook").write_text("hook_secret\n")
    env = {
        "TELEGRAM_BOT_TOKEN_FILE": str(tmp_path / "token"),
        "DATABASE_URL_FILE": str(tmp_path / "db"),
        "TELEGRAM_WEBHOOK_SECRET_FILE": str(tmp_path / "hook"),
        "TELEGRAM_WEBHOOK_URL": "https://b.example/h",
    }
    settings = load_settings(None, env)
    assert settings.telegram.token == TOKEN
    assert settings.database_url == "postgresql+psycopg://u:p@db/news"
    assert settings.telegram.webhook_secret == "hook_secret"
    bot_form = load_settings(None, {"BOT_TELEGRAM__TOKEN_FILE": str(tmp_path / "token")})
    assert bot_form.telegram.token == TOKEN


def test_secret_file_problems_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    assert refused(None, {"TELEGRAM_BOT_TOKEN_FILE": str(missing)}) == (
        f"TELEGRAM_BOT_TOKEN_FILE: {missing} not found"
    )
    assert refused(None, {"TELEGRAM_BOT_TOKEN_FILE": str(tmp_path)}) == (
        f"TELEGRAM_BOT_TOKEN_FILE: {tmp_path} is a directory, not a file"
    )
    (tmp_path / "token").write_text(TOKEN)
    both = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BOT_TOKEN_FILE": str(tmp_path / "token")}
    assert refused(None, both) == "set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE, not both"


def test_precedence_env_over_file_over_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[fetch]\ninterval_seconds = 300\nmax_bytes = 1000\n[telegram]\ntoken = "1:file"\n',
    )
    from_file = load_settings(path, {})
    assert from_file.fetch.interval_seconds == 300
    assert from_file.fetch.max_per_host == 4  # default
    merged = load_settings(
        path, {"BOT_FETCH__INTERVAL_SECONDS": "600", "TELEGRAM_BOT_TOKEN": "2:legacy"}
    )
    assert merged.fetch.interval_seconds == 600  # env wins
    assert merged.fetch.max_bytes == 1000  # the rest of the file's table stays
    assert merged.telegram.token == "2:legacy"
    # Both env forms set: the BOT_<SECTION>__<KEY> one wins.
    both = load_settings(path, {"TELEGRAM_BOT_TOKEN": "2:legacy", "BOT_TELEGRAM__TOKEN": "3:new"})
    assert both.telegram.token == "3:new"


def test_settings_stay_frozen() -> None:
    settings = load_settings(None, {})
    with pytest.raises(AttributeError):
        settings.fetch.interval_seconds = 1  # type: ignore[misc]


def test_example_config_documents_and_loads_every_new_key() -> None:
    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    assert "BOT_<SECTION>__<KEY>" in text and "TELEGRAM_BOT_TOKEN_FILE" in text
    settings = load_settings(REPO / "config.example.toml", {})
    for section, keys in NEW_KEYS.items():
        for key in keys:
            assert f"\n{key} = " in text, key
            assert getattr(getattr(settings, section), key) == keys[key]


def test_pure_rules_do_not_import_the_config_module() -> None:
    code = (
        "import sys, bot.briefings.timetable, bot.ingest.topics;"
        "assert 'bot.settings' not in sys.modules, 'bot.settings imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- through `python -m bot`


def run_bot(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "TELEGRAM_"))
    }
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args_for", "text", "line"),
    [
        (
            lambda p: ["fetch", "--config", p],
            "[fetch]\nintervall_seconds = 5\n",
            "error: unknown key `fetch.intervall_seconds`, did you mean `fetch.interval_seconds`?",
        ),
        (
            lambda p: ["--config", p, "migrate"],
            '[briefing]\ntimezone = "Europe"\n',
            "error: briefing.timezone must be an IANA time zone such as Europe/London,"
            ' got "Europe"',
        ),
        (
            lambda p: ["preview", "-v", "--config", p],
            f'[database]\nurl = "postgresql://u:{DB_PASSWORD}@h:abc/db"\n',
            "error: database.url has a port that is not a number from 0 to 65535,"
            ' got "postgresql://u:***@h:abc/db"',
        ),
        (  # the value was named twice: 'must be one of …, got "fr", got "fr"'
            lambda p: ["--config", p, "migrate"],
            '[bot]\nlanguage = "fr"\n',
            'error: bot.language must be one of en, ru, de, es, tr, got "fr"',
        ),
        (
            lambda p: ["--config", p, "migrate"],
            '[display]\nlink_preview = "big"\n',
            'error: display.link_preview must be one of off, small, large, got "big"',
        ),
        (  # two spellings of one feed were two feeds, each fetched, while OPML and
            # /addfeed tell them apart as one (host case, scheme, trailing slash)
            lambda p: ["--config", p, "migrate"],
            '[[feeds]]\nurl = "https://news.example/rss"\n'
            '[[feeds]]\nurl = "http://News.example/rss/"\n',
            'error: feeds[1].url "http://News.example/rss/" is listed twice'
            ' (feeds[0] "https://news.example/rss")',
        ),
        (  # a token pasted without its number was answered "no bot token"
            lambda p: ["--config", p, "run"],
            '[telegram]\ntoken = "AAEhBP0av28wh2gPlzL8kZEV"\n',
            "error: that is not a bot token: set TELEGRAM_BOT_TOKEN (or telegram.token in the"
            " config file) to the token @BotFather gave you (digits, a colon, then letters:"
            " 123456789:AAE…)",
        ),
    ],
)
def test_bad_config_exits_2_with_one_line(tmp_path: Path, args_for, text: str, line: str) -> None:
    path = write(tmp_path, text, "bad.toml")
    done = run_bot(args_for(str(path)), tmp_path)
    assert done.returncode == 2
    assert done.stderr == line + "\n"
    assert DB_PASSWORD not in done.stderr + done.stdout


def test_config_before_or_after_the_verb(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    path = write(tmp_path, f'[database]\nurl = "sqlite:///{db}"\n', "mine.toml")
    after = run_bot(["migrate", "--config", str(path)], tmp_path)
    assert after.returncode == 0, after.stderr
    assert f"database sqlite:///{db} is up to date" in after.stdout
    before = run_bot(["--config", str(path), "migrate"], tmp_path)
    assert before.returncode == 0 and before.stdout == after.stdout
    # Not a directory and not UTF-8: the same one line on any verb.
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe")
    for argv in (["export-opml", "--config", str(bad)], ["--config", str(tmp_path), "fetch"]):
        done = run_bot(argv, tmp_path)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: config file ")
