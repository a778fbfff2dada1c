"""Tests for canonical article URLs (bot.ingest.urls)."""

from __future__ import annotations

import pytest

from bot.ingest.urls import canonical_url, feed_key

CASES = [
    pytest.param("https://example.com/a", None, "https://example.com/a", id="already-canonical"),
    pytest.param("HTTPS://WWW.Example.COM/Path", None, "https://www.example.com/Path", id="case"),
    pytest.param("http://example.com", None, "http://example.com/", id="empty-path"),
    pytest.param("http://example.com:80/a", None, "http://example.com/a", id="default-port-http"),
    pytest.param("https://example.com:443/a", None, "https://example.com/a", id="default-port"),
    pytest.param("https://example.com:8443/a", None, "https://example.com:8443/a", id="port"),
    pytest.param("http://example.com/a#top", None, "http://example.com/a", id="fragment"),
    pytest.param(
        "https://example.com/a?utm_source=rss&id=7&UTM_Medium=x&fbclid=1&b=2",
        None,
        "https://example.com/a?id=7&b=2",
        id="utm-and-fbclid",
    ),
    pytest.param(
        "https://example.com/?gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5&igshid=6"
        "&_ga=7&yclid=8&ref_src=9&ocid=10",
        None,
        "https://example.com/",
        id="all-tracking",
    ),
    pytest.param(
        "https://example.com/s?q=a%20b&z=1&a=&flag",
        None,
        "https://example.com/s?q=a%20b&z=1&a=&flag",
        id="order-and-encoding-kept",
    ),
    pytest.param("/news/2?x=1", "https://site.example/feed/", "https://site.example/news/2?x=1"),
    pytest.param("item.html", "https://site.example/blog/", "https://site.example/blog/item.html"),
    pytest.param("//cdn.example/x", "https://site.example/", "https://cdn.example/x", id="netpath"),
    pytest.param("  https://example.com/a \n", None, "https://example.com/a", id="whitespace"),
    pytest.param("https://exa\tmple.com/a\nb", None, "https://example.com/ab", id="tab-newline"),
    pytest.param("https://bücher.example/ä", None, "https://xn--bcher-kva.example/ä", id="idna"),
    pytest.param("https://пример.рф/", None, "https://xn--e1afmkfd.xn--p1ai/", id="idna-cyrillic"),
    pytest.param("http://[2001:DB8::1]:8080/x", None, "http://[2001:db8::1]:8080/x", id="ipv6"),
    pytest.param("https://user:pw@example.com/a", None, "https://example.com/a", id="credentials"),
    pytest.param("https://example.com./a", None, "https://example.com/a", id="trailing-dot"),
]


@pytest.mark.parametrize(("url", "base", "expected"), CASES)
def test_canonical_url(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(url, base) == expected


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "javascript:alert(1)",
        "mailto:a@example.com",
        "ftp://example.com/file",
        "data:text/html,hi",
        "http://",
        "https://example.com:99999/",
        "https://example.com:port/",
        "http://[::1/",
        "https:///path-only",
        "not a url",
        "https://exa mple.com/",
        "https://" + "a" * 70 + ".com/",
        "https://x/" + "a" * 10_000,
        "\x00\udcff",
    ],
)
def test_canonical_url_returns_none_for_garbage(garbage: str) -> None:
    assert canonical_url(garbage) is None


def test_relative_url_without_base_is_none() -> None:
    assert canonical_url("/relative/path") is None


def test_garbage_base_does_not_raise() -> None:
    assert canonical_url("/a", "http://[broken") is None


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("HTTP://Example.com:80/a?utm_source=x&b=1#f")
    assert once == "http://example.com/a?b=1"
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("https://news.example/rss", "HTTP://NEWS.example:80/rss/", True),
        ("https://news.example/rss", "https://news.example:443/rss#top", True),
        ("https://news.example/", "https://news.example", True),
        ("https://news.example/rss?lang=en", "https://news.example/rss?lang=de", False),
        ("https://news.example/rss", "https://news.example/RSS", False),  # paths keep case
        ("https://news.example:8080/rss", "https://news.example/rss", False),
        ("https://a.example/rss", "https://b.example/rss", False),
    ],
)
def test_feed_key_joins_spellings_of_one_feed_only(one: str, other: str, same: bool) -> None:
    assert (feed_key(one) == feed_key(other)) is same
