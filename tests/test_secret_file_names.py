"""The secret-file variable names, derived from the secrets list, stay the documented ones."""

from __future__ import annotations

from bot.settings.load import SECRET_FILE_ENV


def test_secret_file_variables_are_the_documented_names_in_order() -> None:
    # Order matters: a later BOT_ name overrides an earlier legacy one.
    assert list(SECRET_FILE_ENV.items()) == [
        ("TELEGRAM_BOT_TOKEN_FILE", ("telegram", "token")),
        ("TELEGRAM_WEBHOOK_SECRET_FILE", ("telegram", "webhook_secret")),
        ("DATABASE_URL_FILE", ("database", "url")),
        ("BOT_TELEGRAM__TOKEN_FILE", ("telegram", "token")),
        ("BOT_TELEGRAM__WEBHOOK_SECRET_FILE", ("telegram", "webhook_secret")),
        ("BOT_DATABASE__URL_FILE", ("database", "url")),
    ]
