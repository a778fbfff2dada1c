"""Test support: the fake Bot API, a feed server, bot harnesses, seeders and shared sample data.

- fake_telegram: strict fake Bot API server (FakeTelegram); tdhtml = Telegram's HTML rules
- tghtml_check: check_message(), the one Telegram-HTML check for tests (built on tdhtml)
- feedserver: FeedServer, a real HTTP feed server on 127.0.0.1
- botharness: the real Application in-process (running_bot, make_settings, say, converse)
- adminkit: admin users and admin-message helpers
- process: `python -m bot` as a subprocess (run, write_config, start_bot, stop_bot, free_port)
- samples: FEED_A/FEED_B, rss(), the news article facts, news_feed(), serve_outlets/serve_news
- seed: direct database seeding for tests and benchmarks
"""
