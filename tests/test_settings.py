from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings, resolve_config_path

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_and_lists_feeds() -> None:
    settings = load_settings(REPO / "config.example.toml", {})
    assert settings.feeds and settings.topics
    assert all(f.url.startswith("https://") for f in settings.feeds)
    assert settings.fetch.allow_private_networks is False


def test_defaults_without_file() -> None:
    settings = load_settings(None, {})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.telegram.api_base_url == "https://api.telegram.org/bot"
    assert settings.telegram.token_is_placeholder


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "1:file"\n[database]\nurl = "sqlite:///a.db"\n')
    env = {
        "TELEGRAM_BOT_TOKEN": "42:env",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        "BOT_ADMINS": "10, 20",
        "DATABASE_URL": "postgres://u:p@db:5432/news",
    }
    settings = load_settings(path, env)
    assert settings.telegram.token == "42:env"
    assert settings.telegram.api_base_url == "http://127.0.0.1:9/bot"
    assert settings.telegram.admins == (10, 20)
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/news"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[fetch]\ninterval_seconds = "ten"',
            'fetch.interval_seconds must be a positive integer, got "ten"',
        ),
        ("[fetch]\ninterval_seconds = -5", "fetch.interval_seconds must be a positive integer"),
        ('[briefing]\ntimes = ["7:61"]', "briefing.times must be a list"),
        ('[briefing]\ntimezone = "Mars/Olympus"', "briefing.timezone must be an IANA time zone"),
        ("[briefing]\nmax_items = 0", "briefing.max_items must be a positive integer"),
        ('[delivery]\nmessages_per_second = "fast"', "delivery.messages_per_second"),
        (
            '[fetch]\nallow_private_networks = "maybe"',
            "fetch.allow_private_networks must be true or false",
        ),
        ('[telegram]\nadmins = ["bob"]', "telegram.admins must hold user ids"),
        ('[database]\nurl = "mysql://x"', "database.url must be"),
        ('[[topics]]\nslug = "Bad Slug"', "topics[0].slug"),
        ('[[feeds]]\nurl = "ftp://x"', "feeds[0].url must be an http(s) URL"),
        ('[[feeds]]\nurl = "https://"', "feeds[0].url must be an http(s) URL"),
        (  # a list merged from two: the second row would fail every start on feed.url
            '[[feeds]]\nurl = "https://x/rss"\n[[feeds]]\nurl = "https://x/rss"\nname = "X"',
            'feeds[1].url "https://x/rss" is listed twice (feeds[0])',
        ),
        (
            '[[feeds]]\nurl = "https://x/rss"\ntopics = ["nope"]',
            'feeds[0].topics names unknown topic "nope"',
        ),
        ("not = [valid", "is not valid TOML"),
        (
            '[telegram]\nwebhook_url = "https://b.example/h"\nwebhook_secret = "s"\n'
            'webhook_port = 9090\n[ops]\nlisten = ":9090"',
            'ops.listen "0.0.0.0:9090" uses telegram.webhook_port 9090 too',
        ),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=None) as info:
        load_settings(write(tmp_path, text), {})
    assert message in str(info.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "absent.toml", {})


def test_config_path_resolution() -> None:
    assert resolve_config_path("a.toml", {"BOT_CONFIG": "b.toml"}) == (Path("a.toml"), True)
    assert resolve_config_path(None, {"BOT_CONFIG": "b.toml"}) == (Path("b.toml"), True)
    assert resolve_config_path(None, {}) == (Path("config.toml"), False)
