"""The full-text page policy: the feed fetcher's guards with the page's own limits."""

from __future__ import annotations

from bot.ingest.fetcher import FetchPolicy
from bot.services.articles import PAGE_CONCURRENCY, page_policy
from bot.services.context import fetch_policy
from bot.settings import FetchSettings, FulltextSettings, Settings


def test_page_policy_keeps_the_feed_guards_and_takes_the_page_limits() -> None:
    fetch = FetchSettings(
        allow_private_networks=True, user_agent="probe/1", timeout_seconds=99.0, max_bytes=5
    )
    settings = Settings(fetch=fetch, fulltext=FulltextSettings(max_bytes=1234, timeout_seconds=3.5))
    assert page_policy(settings) == FetchPolicy(
        timeout_seconds=3.5,
        max_bytes=1234,
        allow_private_networks=True,
        user_agent="probe/1",
        max_concurrency=PAGE_CONCURRENCY,
        max_per_host=PAGE_CONCURRENCY,
        keep_head=True,  # a page past its cap: its first max_bytes are read
    )
    # The feed fetcher's own policy is untouched by the page's limits.
    assert fetch_policy(fetch).timeout_seconds == 99.0
